"""Pages for mentoring: the list with its steps, and proposing a new one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from services.directory import handlers, queries
from services.directory.entrypoints.api import Staff
from services.directory.entrypoints.mentoring_api import MentoringIn, StepIn
from services.directory.entrypoints.network_pages import active_organisations, today
from services.directory.entrypoints.pages import BASE, Errors, errors_of, status_of, version_of
from shared.db import read_transaction
from shared.errors import ConcurrencyError, DomainRuleViolation, InvalidInput, NotFound
from shared.service import RuntimeDep
from shared.web.flash import flash
from shared.web.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)
MENTORING = BASE + "/begleitungen"
STEPS = {"beginnen": "start", "abschliessen": "complete", "beenden": "end_early"}
STEP_DONE = {
    "start": ("The mentoring has begun.", "Die Begleitung hat begonnen."),
    "complete": ("The mentoring was completed.", "Die Begleitung wurde abgeschlossen."),
    "end_early": ("The mentoring was ended early.", "Die Begleitung wurde vorzeitig beendet."),
}


def step_key(mentoring_id: str, step: str, field: str) -> str:
    """The name one step form's field goes by in errors and ids: every row has its own date field."""
    return f"{step}-{mentoring_id}-{field}"


async def list_page_with(
    request: Request,
    runtime: RuntimeDep,
    values: dict[str, Any],
    errors: Errors,
    status_code: int = 200,
    step_values: dict[str, str] | None = None,
) -> HTMLResponse:
    async with read_transaction(runtime.engine) as conn:
        items = await queries.list_mentorings(conn)
    context = {
        "items": items,
        "values": values,
        "errors": errors,
        "step_values": step_values or {},  # what was typed into the step form that went wrong
        "organisations": await active_organisations(runtime),
        "today": today(),
        "base": BASE,
        "section": "mentoring",
    }
    return await render(request, "directory/mentorings.html", context, status_code=status_code)


EMPTY = {"mentor_id": "", "mentee_id": "", "focus_areas": ""}


@router.get(MENTORING, response_class=HTMLResponse)
async def list_page(request: Request, runtime: RuntimeDep, _: Staff) -> HTMLResponse:
    return await list_page_with(request, runtime, EMPTY, [])


@router.post(MENTORING, response_model=None)
async def propose(request: Request, runtime: RuntimeDep, _: Staff) -> Response:
    form = await request.form()
    values = {
        "mentor_id": str(form.get("mentor_id", "")),
        "mentee_id": str(form.get("mentee_id", "")),
        "focus_areas": str(form.get("focus_areas", "")),
    }
    try:
        body = MentoringIn.model_validate(
            {**values, "focus_areas": [f for f in values["focus_areas"].split(",") if f.strip()]}
        )
        await handlers.propose_mentoring(runtime.uow, body.mentor_id, body.mentee_id, tuple(body.focus_areas))
    except (ValidationError, InvalidInput, DomainRuleViolation, NotFound) as problem:
        return await list_page_with(request, runtime, values, errors_of(problem), status_of(problem))
    flash(request, "success", "The mentoring was proposed.", message_de="Die Begleitung wurde vorgeschlagen.")
    return RedirectResponse(MENTORING, status_code=303)


@router.post(MENTORING + "/{mentoring_id}/{step}", response_model=None)
async def step(request: Request, mentoring_id: str, step: str, runtime: RuntimeDep, _: Staff) -> Response:
    if step not in STEPS:
        raise NotFound(f"No step {step!r}", f"Keinen Schritt {step!r}")
    form = await request.form()
    typed = {"on": str(form.get("on", "")), "reason": str(form.get("reason", "")).strip()}
    try:
        body = StepIn.model_validate({k: v or None for k, v in typed.items()})
        await handlers.mentoring_step(
            runtime.uow, mentoring_id, STEPS[step], body.on, body.reason, version_of(form)
        )
    except (ValidationError, InvalidInput, DomainRuleViolation, ConcurrencyError) as problem:
        errors = [
            {**e, "field": step_key(mentoring_id, step, e["field"])} if e.get("field") in typed else e
            for e in errors_of(problem)
        ]
        kept = {step_key(mentoring_id, step, k): v for k, v in typed.items()}
        return await list_page_with(request, runtime, EMPTY, errors, status_of(problem), kept)
    en, de = STEP_DONE[STEPS[step]]
    flash(request, "success", en, message_de=de)
    return RedirectResponse(MENTORING, status_code=303)
