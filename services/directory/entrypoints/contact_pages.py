"""Contact persons on the organisation's page: add one, remove one, erase a person's data (staff)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from services.directory import handlers
from services.directory.domain.commands import AddContactPerson, ChangeContact
from services.directory.entrypoints.api import Staff, StaffOrOwnAccount, ensure_may_act_for
from services.directory.entrypoints.contact_api import ContactChange, ContactIn, organisation_of_contact
from services.directory.entrypoints.pages import BASE, errors_of, organisation_page, status_of, version_of
from shared.errors import ConcurrencyError, DomainRuleViolation, InvalidInput
from shared.service import RuntimeDep
from shared.vault import scrub_after_erasure
from shared.web.flash import flash

router = APIRouter(tags=["pages"], include_in_schema=False)
CONTACTS = BASE + "/ansprechpersonen"


@router.post(BASE + "/{organisation_id}/ansprechpersonen", response_model=None)
async def add(
    request: Request, organisation_id: str, runtime: RuntimeDep, who: StaffOrOwnAccount
) -> Response:
    ensure_may_act_for(who, organisation_id)
    form = await request.form()
    values = {
        "name": str(form.get("name", "")).strip(),
        "role": form.get("role") or None,
        "email": str(form.get("email", "")).strip() or None,
        "phone": str(form.get("phone", "")).strip() or None,
        "consent": form.get("consent") == "true",
    }
    try:
        body = ContactIn.model_validate(values)
        await handlers.add_contact(
            runtime.uow,
            AddContactPerson(organisation_id, body.name, body.role, body.consent, body.email, body.phone),
        )
    except (ValidationError, InvalidInput, DomainRuleViolation) as problem:
        return await organisation_page(
            request,
            runtime,
            who,
            organisation_id,
            errors=errors_of(problem),
            contact_form=values,
            status_code=status_of(problem),
        )
    flash(
        request,
        "success",
        "The contact person was added.",
        message_de="Die Ansprechperson wurde eingetragen.",
    )
    return RedirectResponse(f"{BASE}/{organisation_id}#contacts-title", status_code=303)


@router.post(CONTACTS + "/{contact_id}/aendern", response_model=None)
async def change(request: Request, contact_id: str, runtime: RuntimeDep, who: StaffOrOwnAccount) -> Response:
    """Role and consent from the small form beside the person; a refusal is said at the top of the page."""
    organisation_id = await organisation_of_contact(runtime, contact_id)
    ensure_may_act_for(who, organisation_id)
    form = await request.form()
    try:
        body = ContactChange.model_validate(
            {"role": form.get("role") or None, "consent": form.get("consent") == "true"}
        )
        await handlers.change_contact(
            runtime.uow, ChangeContact(contact_id, body.role, body.consent, version_of(form))
        )
    except (ValidationError, InvalidInput, DomainRuleViolation, ConcurrencyError) as problem:
        for error in errors_of(problem):
            flash(request, "error", error["message"], message_de=error["message_de"])
    else:
        flash(
            request,
            "success",
            "The contact person was changed.",
            message_de="Die Ansprechperson wurde geändert.",
        )
    return RedirectResponse(f"{BASE}/{organisation_id}#contacts-title", status_code=303)


@router.post(CONTACTS + "/{contact_id}/entfernen", response_model=None)
async def remove(request: Request, contact_id: str, runtime: RuntimeDep, who: StaffOrOwnAccount) -> Response:
    organisation_id = await organisation_of_contact(runtime, contact_id)
    ensure_may_act_for(who, organisation_id)
    try:
        await handlers.remove_contact(runtime.uow, contact_id)
    except DomainRuleViolation as problem:
        flash(request, "error", problem.message_en, message_de=problem.message_de)
    else:
        flash(
            request,
            "success",
            "The contact person was removed.",
            message_de="Die Ansprechperson wurde entfernt.",
        )
    return RedirectResponse(f"{BASE}/{organisation_id}#contacts-title", status_code=303)


@router.post(CONTACTS + "/{contact_id}/loeschen", response_model=None)
async def erase(request: Request, contact_id: str, runtime: RuntimeDep, _: Staff) -> Response:
    organisation_id = await organisation_of_contact(runtime, contact_id)
    await handlers.erase_contact(runtime.uow, contact_id)
    await scrub_after_erasure(runtime.engine)
    flash(
        request,
        "success",
        "The person's data was erased everywhere.",
        message_de="Die Daten der Person wurden überall gelöscht.",
    )
    return RedirectResponse(f"{BASE}/{organisation_id}#contacts-title", status_code=303)
