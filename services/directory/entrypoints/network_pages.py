"""Pages for networks: the list, entering a network, and its members over time (join, leave).

Like the organisation pages, forms go through the API's input models and the same handlers.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from services.directory import handlers, queries
from services.directory.domain.commands import FoundNetwork, JoinNetwork, LeaveNetwork
from services.directory.entrypoints.api import Staff
from services.directory.entrypoints.network_api import JoinIn, LeaveIn, NetworkIn, read_network
from services.directory.entrypoints.pages import BASE, errors_of, status_of, version_of
from shared.db import read_transaction
from shared.errors import ConcurrencyError, DomainRuleViolation, InvalidInput, NotFound
from shared.service import RuntimeDep
from shared.web.flash import flash
from shared.web.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)
NETWORKS = BASE + "/netzwerke"


def _date(form: FormData, name: str) -> str | None:
    return str(form.get(name, "")).strip() or None


async def active_organisations(runtime: RuntimeDep) -> list[tuple[str, str]]:
    """(id, name) of every organisation that may join something, by name."""
    async with read_transaction(runtime.engine) as conn:
        items, _ = await queries.list_organisations(conn, queries.OrganisationFilter(), 10_000, 0)
    return [(o["id"], o["name"]) for o in items]


def today() -> str:
    return date.today().isoformat()


@router.get(NETWORKS, response_class=HTMLResponse)
async def list_page(request: Request, runtime: RuntimeDep, _: Staff) -> HTMLResponse:
    async with read_transaction(runtime.engine) as conn:
        items = await queries.list_networks(conn)
    return await render(
        request, "directory/networks.html", {"items": items, "base": BASE, "section": "networks"}
    )


async def _form(
    request: Request, runtime: RuntimeDep, values: dict[str, Any], errors: list, status: int = 200
) -> HTMLResponse:
    context = {
        "values": values,
        "errors": errors,
        "organisations": await active_organisations(runtime),
        "base": BASE,
    }
    return await render(request, "directory/network_form.html", context, status_code=status)


@router.get(NETWORKS + "/neu", response_class=HTMLResponse)
async def create_form(request: Request, runtime: RuntimeDep, _: Staff) -> HTMLResponse:
    return await _form(
        request, runtime, {"name": "", "topic": "", "coordinators": [], "founded_on": today()}, []
    )


@router.post(NETWORKS + "/neu", response_model=None)
async def create(request: Request, runtime: RuntimeDep, _: Staff) -> Response:
    form = await request.form()
    values = {
        "name": str(form.get("name", "")).strip(),
        "topic": str(form.get("topic", "")).strip() or None,
        "coordinators": form.getlist("coordinators"),
        "founded_on": _date(form, "founded_on"),
    }
    try:
        body = NetworkIn.model_validate(values)
        network = await handlers.found_network(
            runtime.uow, FoundNetwork(body.name, tuple(body.coordinators), body.topic, body.founded_on)
        )
    except (ValidationError, InvalidInput, DomainRuleViolation, NotFound) as problem:
        return await _form(request, runtime, values, errors_of(problem), status_of(problem))
    flash(request, "success", f"{body.name} was entered.", message_de=f"{body.name} wurde eingetragen.")
    return RedirectResponse(f"{NETWORKS}/{network.id}", status_code=303)


async def _detail(
    request: Request,
    runtime: RuntimeDep,
    network_id: str,
    errors: list | None = None,
    status: int = 200,
) -> HTMLResponse:
    network = await read_network(runtime, network_id)
    current = [m for m in network["members"] if m["left_on"] is None]
    member_ids = {m["organisation_id"] for m in current}
    candidates = [(i, n) for i, n in await active_organisations(runtime) if i not in member_ids]
    context = {
        "network": network,
        "current": current,
        "former": [m for m in network["members"] if m["left_on"] is not None],
        "candidates": candidates,
        "errors": errors or [],
        "today": today(),
        "base": BASE,
    }
    return await render(request, "directory/network.html", context, status_code=status)


@router.get(NETWORKS + "/{network_id}", response_class=HTMLResponse)
async def detail_page(request: Request, network_id: str, runtime: RuntimeDep, _: Staff) -> HTMLResponse:
    return await _detail(request, runtime, network_id)


@router.post(NETWORKS + "/{network_id}/beitritt", response_model=None)
async def join(request: Request, network_id: str, runtime: RuntimeDep, _: Staff) -> Response:
    form = await request.form()
    values = {"organisation_id": str(form.get("organisation_id", "")), "joined_on": _date(form, "joined_on")}
    try:
        body = JoinIn.model_validate(values)
        network = await handlers.join_network(
            runtime.uow, JoinNetwork(network_id, body.organisation_id, body.joined_on, version_of(form))
        )
    except (ValidationError, InvalidInput, DomainRuleViolation, ConcurrencyError) as problem:
        return await _detail(request, runtime, network_id, errors_of(problem), status_of(problem))
    flash(
        request,
        "success",
        "The organisation joined the network.",
        message_de="Die Organisation ist dem Netzwerk beigetreten.",
    )
    return RedirectResponse(f"{NETWORKS}/{network.id}", status_code=303)


@router.post(NETWORKS + "/{network_id}/austritt/{organisation_id}", response_model=None)
async def leave(
    request: Request, network_id: str, organisation_id: str, runtime: RuntimeDep, _: Staff
) -> Response:
    form = await request.form()
    try:
        body = LeaveIn.model_validate({"left_on": _date(form, "left_on")})
        await handlers.leave_network(
            runtime.uow, LeaveNetwork(network_id, organisation_id, body.left_on, version_of(form))
        )
    except (ValidationError, InvalidInput, DomainRuleViolation, ConcurrencyError) as problem:
        return await _detail(request, runtime, network_id, errors_of(problem), status_of(problem))
    flash(
        request,
        "success",
        "The organisation left the network.",
        message_de="Die Organisation hat das Netzwerk verlassen.",
    )
    return RedirectResponse(f"{NETWORKS}/{network_id}", status_code=303)
