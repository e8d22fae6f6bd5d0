"""Pages for committees (Gremien): the list with a form to enter one, and a committee with its seats over time
(take a seat, give it up, dissolve the committee).

Like the other pages, forms go through the API's input models and the same handlers. The seat form carries
the committee's version: a form read before someone else changed the committee is refused (409) with the
person's input kept.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from services.directory import committee_handlers, committee_queries, queries
from services.directory.domain.commands import DissolveCommittee, RecordCommittee, TakeSeat, VacateSeat
from services.directory.entrypoints.api import Staff
from services.directory.entrypoints.committee_api import (
    CommitteeIn,
    DissolveIn,
    SeatIn,
    VacateIn,
    read_committee,
)
from services.directory.entrypoints.network_pages import today
from services.directory.entrypoints.pages import BASE, Errors, errors_of, options, status_of, version_of
from services.directory.labels import label
from shared.contracts.directory import COOPERATING_KINDS
from shared.db import read_transaction
from shared.errors import ConcurrencyError, DomainRuleViolation, InvalidInput, NotFound
from shared.service import RuntimeDep
from shared.vault import Vault
from shared.web.flash import flash
from shared.web.templating import current_language, render

router = APIRouter(tags=["pages"], include_in_schema=False)
COMMITTEES = BASE + "/gremien"
PROBLEMS = (ValidationError, InvalidInput, DomainRuleViolation, ConcurrencyError)
EMPTY = {"name": "", "kind": None, "district": None, "topic": ""}


def _text(form: FormData, name: str) -> str | None:
    return str(form.get(name, "")).strip() or None


async def list_page_with(
    request: Request, runtime: RuntimeDep, values: dict[str, Any], errors: Errors, status_code: int = 200
) -> HTMLResponse:
    async with read_transaction(runtime.engine) as conn:
        items = await committee_queries.list_committees(conn)
    lang = current_language(request)
    context = {
        "items": items,
        "values": values,
        "errors": errors,
        "kinds": options("committee_kind", lang),
        "districts": options("district", lang),
        "label": lambda value: label(value, lang),
        "base": BASE,
        "section": "committees",
    }
    return await render(request, "directory/committees.html", context, status_code=status_code)


@router.get(COMMITTEES, response_class=HTMLResponse)
async def list_page(request: Request, runtime: RuntimeDep, _: Staff) -> HTMLResponse:
    return await list_page_with(request, runtime, EMPTY, [])


@router.post(COMMITTEES, response_model=None)
async def record(request: Request, runtime: RuntimeDep, _: Staff) -> Response:
    form = await request.form()
    values = {
        "name": str(form.get("name", "")).strip(),
        "kind": form.get("kind") or None,
        "district": form.get("district") or None,
        "topic": _text(form, "topic"),
    }
    try:
        body = CommitteeIn.model_validate(values)
        committee = await committee_handlers.record_committee(
            runtime.uow, RecordCommittee(body.name, body.kind, body.district, body.topic)
        )
    except PROBLEMS as problem:
        return await list_page_with(request, runtime, values, errors_of(problem), status_of(problem))
    flash(request, "success", f"{body.name} was entered.", message_de=f"{body.name} wurde eingetragen.")
    return RedirectResponse(f"{COMMITTEES}/{committee.id}", status_code=303)


async def _detail(
    request: Request,
    runtime: RuntimeDep,
    committee_id: str,
    errors: Errors | None = None,
    seat_form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    committee = await read_committee(runtime, committee_id)
    current = [s for s in committee["seats"] if s["vacated_on"] is None]
    holders = {s["organisation_id"] for s in current}
    kinds = [str(k) for k in COOPERATING_KINDS]
    async with read_transaction(runtime.engine) as conn:
        organisations, _ = await queries.list_organisations(conn, queries.OrganisationFilter(), 10_000, 0)
        people = await committee_queries.representatives(conn, Vault())
    candidates = [
        (o["id"], o["name"]) for o in organisations if o["kind"] in kinds and o["id"] not in holders
    ]
    candidate_ids = {i for i, _ in candidates}
    representatives = [
        (p["id"], f"{p['name']} ({p['organisation']})")
        for p in people
        if p["organisation_id"] in candidate_ids
    ]
    lang = current_language(request)
    context = {
        "committee": committee,
        "current": current,
        "former": [s for s in committee["seats"] if s["vacated_on"] is not None],
        "candidates": candidates,
        "representatives": representatives,
        "seat_form": seat_form or {"organisation_id": None, "representative_id": None, "taken_on": today()},
        "errors": errors or [],
        "today": today(),
        "label": lambda value: label(value, lang),
        "base": BASE,
    }
    return await render(request, "directory/committee.html", context, status_code=status_code)


@router.get(COMMITTEES + "/{committee_id}", response_class=HTMLResponse)
async def detail_page(request: Request, committee_id: str, runtime: RuntimeDep, _: Staff) -> HTMLResponse:
    return await _detail(request, runtime, committee_id)


@router.post(COMMITTEES + "/{committee_id}/sitze", response_model=None)
async def take_seat(request: Request, committee_id: str, runtime: RuntimeDep, _: Staff) -> Response:
    form = await request.form()
    values = {
        "organisation_id": str(form.get("organisation_id", "")),
        "representative_id": _text(form, "representative_id"),
        "taken_on": _text(form, "taken_on"),
    }
    try:
        body = SeatIn.model_validate(values)
        await committee_handlers.take_seat(
            runtime.uow,
            TakeSeat(
                committee_id, body.organisation_id, body.representative_id, body.taken_on, version_of(form)
            ),
        )
    except (*PROBLEMS, NotFound) as problem:  # an unknown committee is still a 404: _detail raises it
        return await _detail(request, runtime, committee_id, errors_of(problem), values, status_of(problem))
    flash(request, "success", "The seat was entered.", message_de="Der Sitz wurde eingetragen.")
    return RedirectResponse(f"{COMMITTEES}/{committee_id}", status_code=303)


@router.post(COMMITTEES + "/{committee_id}/sitze/{organisation_id}/aufgabe", response_model=None)
async def vacate_seat(
    request: Request, committee_id: str, organisation_id: str, runtime: RuntimeDep, _: Staff
) -> Response:
    form = await request.form()
    try:
        body = VacateIn.model_validate({"vacated_on": _text(form, "vacated_on")})
        await committee_handlers.vacate_seat(
            runtime.uow, VacateSeat(committee_id, organisation_id, body.vacated_on, version_of(form))
        )
    except PROBLEMS as problem:
        return await _detail(
            request, runtime, committee_id, errors_of(problem), status_code=status_of(problem)
        )
    flash(request, "success", "The seat was given up.", message_de="Der Sitz wurde aufgegeben.")
    return RedirectResponse(f"{COMMITTEES}/{committee_id}", status_code=303)


@router.post(COMMITTEES + "/{committee_id}/aufloesen", response_model=None)
async def dissolve(request: Request, committee_id: str, runtime: RuntimeDep, _: Staff) -> Response:
    form = await request.form()
    try:
        body = DissolveIn.model_validate({"dissolved_on": _text(form, "dissolved_on")})
        await committee_handlers.dissolve_committee(
            runtime.uow, DissolveCommittee(committee_id, body.dissolved_on, version_of(form))
        )
    except PROBLEMS as problem:
        return await _detail(
            request, runtime, committee_id, errors_of(problem), status_code=status_of(problem)
        )
    flash(request, "success", "The committee was dissolved.", message_de="Das Gremium wurde aufgelöst.")
    return RedirectResponse(f"{COMMITTEES}/{committee_id}", status_code=303)
