"""The directory's HTTP API for contact persons: personal data, sealed per person, erasable."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from services.directory import handlers, queries
from services.directory.domain.commands import AddContactPerson, ChangeContact
from services.directory.entrypoints.api import Staff, StaffOrOwnAccount, ensure_may_act_for
from shared.contracts.directory import ContactRole
from shared.db import read_transaction
from shared.errors import NotFound
from shared.service import RuntimeDep
from shared.vault import Vault, scrub_after_erasure
from shared.web.forms import IfMatch, expected_version

router = APIRouter(tags=["contact persons"])


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    role: ContactRole
    consent: bool = Field(description="The person agreed to be named as the organisation's contact")
    email: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)


class ContactChange(BaseModel):
    """Only what is sent changes."""

    model_config = ConfigDict(extra="forbid")
    role: ContactRole | None = None
    consent: bool | None = Field(default=None, description="Withdrawn (false) or given (true)")


class ContactOut(BaseModel):
    id: str
    organisation_id: str
    name: str
    email: str | None
    phone: str | None
    role: ContactRole
    consent: bool
    erased: bool
    version: int = Field(description="For If-Match when changing it (also in the ETag of a change)")


async def _contacts(runtime: RuntimeDep, organisation_id: str) -> list[dict[str, Any]]:
    async with read_transaction(runtime.engine) as conn:
        found = await queries.contacts_of(conn, organisation_id, Vault())
        versions = await queries.contact_versions(conn, runtime.store, [c["id"] for c in found])
    return [{**c, "version": versions[c["id"]]} for c in found]


async def organisation_of_contact(runtime: RuntimeDep, contact_id: str) -> str:
    """The organisation that may act on the contact: its own, or the survivor it was merged into (404)."""
    async with read_transaction(runtime.engine) as conn:
        organisation_id = await queries.organisation_of_contact(conn, contact_id)
    if organisation_id is None:
        raise NotFound(f"Contact {contact_id} does not exist", f"Ansprechperson {contact_id} gibt es nicht")
    return organisation_id


@router.post(
    "/organisations/{organisation_id}/contacts",
    status_code=201,
    response_model=ContactOut,
    summary="Add a contact person",
)
async def add(organisation_id: str, body: ContactIn, runtime: RuntimeDep, who: StaffOrOwnAccount) -> Any:
    ensure_may_act_for(who, organisation_id)
    contact = await handlers.add_contact(
        runtime.uow,
        AddContactPerson(organisation_id, body.name, body.role, body.consent, body.email, body.phone),
    )
    return next(c for c in await _contacts(runtime, organisation_id) if c["id"] == contact.id)


@router.get(
    "/organisations/{organisation_id}/contacts",
    response_model=list[ContactOut],
    summary="An organisation's contact persons",
)
async def list_contacts(organisation_id: str, runtime: RuntimeDep, who: StaffOrOwnAccount) -> Any:
    ensure_may_act_for(who, organisation_id)
    return await _contacts(runtime, organisation_id)


@router.patch("/contacts/{contact_id}", response_model=ContactOut, summary="Change role or consent")
async def change(
    contact_id: str,
    body: ContactChange,
    runtime: RuntimeDep,
    response: Response,
    who: StaffOrOwnAccount,
    if_match: IfMatch = None,
) -> Any:
    organisation_id = await organisation_of_contact(runtime, contact_id)
    ensure_may_act_for(who, organisation_id)
    contact = await handlers.change_contact(
        runtime.uow, ChangeContact(contact_id, body.role, body.consent, expected_version(if_match))
    )
    response.headers["ETag"] = f'"{contact.version}"'
    return next(c for c in await _contacts(runtime, organisation_id) if c["id"] == contact_id)


@router.post("/contacts/{contact_id}/remove", status_code=204, summary="No longer a contact person")
async def remove(contact_id: str, runtime: RuntimeDep, who: StaffOrOwnAccount) -> Response:
    ensure_may_act_for(who, await organisation_of_contact(runtime, contact_id))
    await handlers.remove_contact(runtime.uow, contact_id)
    return Response(status_code=204)


@router.post("/contacts/{contact_id}/erase", status_code=204, summary="Erase the person's data everywhere")
async def erase(contact_id: str, runtime: RuntimeDep, _: Staff) -> Response:
    await organisation_of_contact(runtime, contact_id)
    await handlers.erase_contact(runtime.uow, contact_id)
    await scrub_after_erasure(runtime.engine)
    return Response(status_code=204)
