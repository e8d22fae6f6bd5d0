"""Cooperations on the organisation's page: start one with an administration or service, end one."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from services.directory import handlers, queries
from services.directory.entrypoints.api import Staff
from services.directory.entrypoints.cooperation_api import CooperationIn, EndIn
from services.directory.entrypoints.pages import BASE, errors_of, organisation_page, status_of, version_of
from shared.db import read_transaction
from shared.errors import ConcurrencyError, DomainRuleViolation, InvalidInput, NotFound
from shared.service import RuntimeDep
from shared.web.flash import flash

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.post(BASE + "/{organisation_id}/kooperationen", response_model=None)
async def start(request: Request, organisation_id: str, runtime: RuntimeDep, who: Staff) -> Response:
    form = await request.form()
    values = {
        "organisation_id": organisation_id,
        "partner_id": str(form.get("partner_id", "")),
        "field_of_work": form.get("field_of_work") or None,
        "started_on": str(form.get("started_on", "")) or None,
    }
    try:
        body = CooperationIn.model_validate(values)
        await handlers.start_cooperation(
            runtime.uow, body.organisation_id, body.partner_id, body.field_of_work, body.started_on
        )
    except (ValidationError, InvalidInput, DomainRuleViolation, NotFound) as problem:
        return await organisation_page(
            request, runtime, who, organisation_id, errors=errors_of(problem), status_code=status_of(problem)
        )
    flash(request, "success", "The cooperation was entered.", message_de="Die Kooperation wurde eingetragen.")
    return RedirectResponse(f"{BASE}/{organisation_id}#cooperations-title", status_code=303)


@router.post(BASE + "/kooperationen/{cooperation_id}/beenden", response_model=None)
async def end(request: Request, cooperation_id: str, runtime: RuntimeDep, _: Staff) -> Response:
    async with read_transaction(runtime.engine) as conn:
        found = await queries.cooperation(conn, cooperation_id)
    if found is None:
        raise NotFound(
            f"Cooperation {cooperation_id} does not exist", f"Kooperation {cooperation_id} gibt es nicht"
        )
    form = await request.form()
    try:
        body = EndIn.model_validate({"ended_on": str(form.get("ended_on", "")) or None})
        await handlers.end_cooperation(runtime.uow, cooperation_id, body.ended_on, version_of(form))
    except (ValidationError, InvalidInput, DomainRuleViolation, ConcurrencyError) as problem:
        for error in errors_of(problem):
            flash(request, "error", error["message"], message_de=error["message_de"])
    else:
        flash(request, "success", "The cooperation was ended.", message_de="Die Kooperation wurde beendet.")
    return RedirectResponse(f"{BASE}/{found['organisation_id']}#cooperations-title", status_code=303)
