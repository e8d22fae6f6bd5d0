"""Pages for the Teilhabecheck: the analyses, starting one, and one analysis with its phases, findings,
recommendations and their follow-up. TBB (and admins) write; partner staff read."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from services.directory import handlers, queries
from services.directory.domain.teilhabecheck import PHASE_DE, PHASES, Teilhabecheck
from services.directory.entrypoints.api import Staff
from services.directory.entrypoints.pages import BASE, Errors, errors_of, options, status_of, version_of
from services.directory.entrypoints.teilhabe_api import (
    CheckIn,
    FindingIn,
    FollowUpIn,
    PhaseIn,
    RecommendationIn,
    Writer,
    read_check,
)
from shared.auth.principal import Principal, Role
from shared.contracts.directory import TeilhabePhase
from shared.db import read_transaction
from shared.errors import ConcurrencyError, DomainRuleViolation, InvalidInput, NotFound
from shared.service import RuntimeDep
from shared.web.flash import flash
from shared.web.i18n import N_
from shared.web.templating import current_language, render

router = APIRouter(tags=["pages"], include_in_schema=False)
CHECKS = BASE + "/teilhabechecks"
PHASE_EN = {
    TeilhabePhase.INVENTORY: N_("Inventory of participation structures"),
    TeilhabePhase.MO_TALKS: N_("Talks with MOs"),
    TeilhabePhase.ADMINISTRATION: N_("Exchange with the administration"),
    TeilhabePhase.RECOMMENDATIONS: N_("Written recommendations"),
}
ADOPTIONS = {
    "open": N_("open"),
    "adopted": N_("adopted"),
    "partly": N_("partly adopted"),
    "rejected": N_("rejected"),
}
Problem = (ValidationError, InvalidInput, DomainRuleViolation, ConcurrencyError)


def writes(who: Principal) -> bool:
    return who.has_any(frozenset({Role.TBB, Role.ADMIN}))


@router.get(CHECKS, response_class=HTMLResponse)
async def list_page(request: Request, runtime: RuntimeDep, who: Staff) -> HTMLResponse:
    return await _list(request, runtime, who, {"district": "", "social_space": ""}, [])


async def _list(
    request: Request,
    runtime: RuntimeDep,
    who: Principal,
    values: dict[str, Any],
    errors: Errors,
    status: int = 200,
) -> HTMLResponse:
    async with read_transaction(runtime.engine) as conn:
        items = await queries.list_teilhabechecks(conn)
    lang = current_language(request)
    context = {
        "items": items,
        "values": values,
        "errors": errors,
        "districts": options("district", lang),
        "district_label": dict(options("district", lang)),
        "may_write": writes(who),
        "phases": len(PHASES),
        "base": BASE,
        "section": "teilhabe",
    }
    return await render(request, "directory/teilhabechecks.html", context, status_code=status)


@router.post(CHECKS, response_model=None)
async def start(request: Request, runtime: RuntimeDep, who: Writer) -> Response:
    form = await request.form()
    values = {
        "district": str(form.get("district", "")),
        "social_space": str(form.get("social_space", "")).strip(),
        "started_on": str(form.get("started_on", "")) or None,
    }
    try:
        body = CheckIn.model_validate({**values, "district": values["district"] or None})
        check = await handlers.start_teilhabecheck(
            runtime.uow, body.district, body.social_space, body.started_on
        )
    except Problem as problem:
        return await _list(request, runtime, who, values, errors_of(problem), status_of(problem))
    flash(request, "success", "The analysis was begun.", message_de="Die Analyse wurde begonnen.")
    return RedirectResponse(f"{CHECKS}/{check.id}", status_code=303)


async def _detail(
    request: Request,
    runtime: RuntimeDep,
    who: Principal,
    check_id: str,
    errors: Errors | None = None,
    status: int = 200,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    check = await read_check(runtime, check_id)
    lang = current_language(request)
    done = check["phases_completed"]
    context = {
        "check": check,
        "phases": [
            {"key": p.value, "name": PHASE_EN[p], "done": i < done, "current": i == done}
            for i, p in enumerate(PHASES)
        ],
        "current": PHASES[done] if done < len(PHASES) else None,
        "current_de": PHASE_DE[PHASES[done]] if done < len(PHASES) else None,
        "phase_names": {p.value: PHASE_EN[p] for p in PHASES},
        "adoptions": ADOPTIONS,
        "district_label": dict(options("district", lang)),
        "may_write": writes(who),
        "errors": errors or [],
        "values": values or {},  # what the person typed into a form that came back with errors
        "today": date.today().isoformat(),
        "base": BASE,
        "section": "teilhabe",
    }
    return await render(request, "directory/teilhabecheck.html", context, status_code=status)


@router.get(CHECKS + "/{check_id}", response_class=HTMLResponse)
async def detail_page(request: Request, check_id: str, runtime: RuntimeDep, who: Staff) -> HTMLResponse:
    return await _detail(request, runtime, who, check_id)


async def _change(
    request: Request,
    runtime: RuntimeDep,
    who: Principal,
    check_id: str,
    change: Callable[[Teilhabecheck], None],
    done_en: str,
    done_de: str,
    version: int | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    """Apply the change to the version the person saw; a stale page is a 409 with the page shown fresh."""
    try:
        await handlers.change_teilhabecheck(runtime.uow, check_id, change, version)
    except Problem as problem:
        errors = _renamed(errors_of(problem), values)
        return await _detail(request, runtime, who, check_id, errors, status_of(problem), values)
    flash(request, "success", done_en, message_de=done_de)
    return RedirectResponse(f"{CHECKS}/{check_id}", status_code=303)


def _renamed(errors: Errors, values: dict[str, str] | None) -> Errors:
    """A recommendation's `text` errors belong beside the page's `recommendation` field."""
    if not values or "recommendation" not in values:
        return errors
    return [{**e, "field": "recommendation"} if e["field"] == "text" else e for e in errors]


@router.post(CHECKS + "/{check_id}/befund", response_model=None)
async def finding(request: Request, check_id: str, runtime: RuntimeDep, who: Writer) -> Response:
    form = await request.form()
    values = {"text": str(form.get("text", "")).strip()}
    try:
        body = FindingIn.model_validate(values)
    except ValidationError as problem:
        return await _detail(request, runtime, who, check_id, errors_of(problem), 422, values)
    return await _change(
        request, runtime, who, check_id, lambda c: c.record_finding(body.text),
        "The finding was recorded.", "Der Befund wurde eingetragen.", values=values,
    )  # fmt: skip


@router.post(CHECKS + "/{check_id}/phase/{phase}/abschliessen", response_model=None)
async def complete_phase(
    request: Request, check_id: str, phase: str, runtime: RuntimeDep, who: Writer
) -> Response:
    try:
        chosen = TeilhabePhase(phase)
    except ValueError:
        raise NotFound(f"No phase {phase!r}", f"Keine Phase {phase!r}") from None
    form = await request.form()
    try:
        body = PhaseIn.model_validate({"completed_on": form.get("completed_on") or None})
    except ValidationError as problem:
        return await _detail(request, runtime, who, check_id, errors_of(problem), 422)
    day = body.completed_on or date.today()
    return await _change(
        request, runtime, who, check_id, lambda c: c.complete_phase(chosen, day),
        "The phase was completed.", "Die Phase wurde abgeschlossen.", version_of(form),
    )  # fmt: skip


@router.post(CHECKS + "/{check_id}/empfehlung", response_model=None)
async def recommend(request: Request, check_id: str, runtime: RuntimeDep, who: Writer) -> Response:
    form = await request.form()
    # The page's field is `recommendation`: the finding form beside it has its own `text`.
    values = {
        "recommendation": str(form.get("recommendation", "")).strip(),
        "addressee": str(form.get("addressee", "")).strip(),
    }
    try:
        body = RecommendationIn.model_validate(
            {"text": values["recommendation"], "addressee": values["addressee"] or None}
        )
    except ValidationError as problem:
        errors = _renamed(errors_of(problem), values)
        return await _detail(request, runtime, who, check_id, errors, 422, values)
    new_id = str(uuid.uuid4())
    return await _change(
        request, runtime, who, check_id, lambda c: c.recommend(new_id, body.text, body.addressee),
        "The recommendation was recorded.", "Die Empfehlung wurde eingetragen.", values=values,
    )  # fmt: skip


@router.post(CHECKS + "/{check_id}/empfehlung/{recommendation_id}/stand", response_model=None)
async def follow_up(
    request: Request, check_id: str, recommendation_id: str, runtime: RuntimeDep, who: Writer
) -> Response:
    form = await request.form()
    try:
        body = FollowUpIn.model_validate(
            {
                "adoption": form.get("adoption") or None,
                "on": form.get("on") or None,
                "note": str(form.get("note", "")).strip() or None,
            }
        )
    except ValidationError as problem:
        return await _detail(request, runtime, who, check_id, errors_of(problem), 422)
    day = body.on or date.today()

    def record(check: Teilhabecheck) -> None:
        check.follow_up(recommendation_id, body.adoption, day, body.note)

    return await _change(
        request, runtime, who, check_id, record,
        "The follow-up was recorded.", "Der Stand wurde eingetragen.", version_of(form),
    )  # fmt: skip
