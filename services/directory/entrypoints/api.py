"""The directory's HTTP API: build a command, hand it to its handler, map the result. Nothing else."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from services.directory import handlers, merge_queries, queries
from services.directory.domain.commands import (
    ArchiveOrganisation,
    ChangeLegalForm,
    RegisterOrganisation,
    UpdateOrganisationProfile,
)
from services.directory.labels import VOCABULARY
from shared.auth.access import allow
from shared.auth.principal import Principal, Role
from shared.auth.verify import Forbidden
from shared.contracts.directory import District, FieldOfWork, LegalForm, OrganisationKind
from shared.db import read_transaction
from shared.errors import NotFound
from shared.service import RuntimeDep
from shared.web.forms import IfMatch, expected_version

router = APIRouter(tags=["organisations"])

STAFF = (Role.VIA, Role.TBB, Role.CLD, Role.ADMIN)
Staff = Annotated[Principal, allow(*STAFF)]
_STAFF_OR_ORGANISATION = allow(*STAFF, Role.ORGANISATION)
Anyone = Annotated[Principal, allow(*Role)]


class OrganisationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200, examples=["Yaar e.V."])
    kind: OrganisationKind
    legal_form: LegalForm
    districts: list[District] = Field(min_length=1, examples=[["friedrichshain_kreuzberg"]])
    fields_of_work: list[FieldOfWork] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list, examples=[["fa", "ps", "de"]])
    website: str | None = Field(default=None, max_length=300)
    public_profile: bool = False
    id: UUID | None = Field(
        default=None,
        description="An id chosen by the client (an import, the demo's organisation account); "
        "one that exists already is a 409. Without it the directory makes a new one.",
    )


class ProfilePatch(BaseModel):
    """Only the fields sent change; `"website": null` removes the website."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    districts: list[District] | None = Field(default=None, min_length=1)
    fields_of_work: list[FieldOfWork] | None = None
    languages: list[str] | None = None
    website: str | None = Field(default=None, max_length=300)
    public_profile: bool | None = None


class LegalFormIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    legal_form: LegalForm


class ArchiveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=500)


class OrganisationOut(BaseModel):
    id: str
    name: str
    kind: OrganisationKind
    legal_form: LegalForm
    districts: list[District]
    fields_of_work: list[FieldOfWork]
    languages: list[str]
    website: str | None
    public_profile: bool
    archived: bool
    version: int
    registered_at: datetime
    updated_at: datetime
    merged_into: str | None = Field(
        default=None, description="Set when this record was merged away: the organisation it stands for now"
    )


class OrganisationPage(BaseModel):
    items: list[OrganisationOut]
    total: int
    limit: int
    offset: int


class Change(BaseModel):
    version: int
    type: str
    change: str
    at: datetime
    actor: str | None
    data: dict[str, Any]


async def _own_account(runtime: RuntimeDep, principal: Principal = _STAFF_OR_ORGANISATION) -> Principal:
    """An organisation account acts for its organisation as the directory knows it today.

    Its token names the record it was made for; if that record was merged into another, the account
    acts for the survivor (where its profile, contacts and connections now live), not for a record that
    takes part in nothing any more.
    """
    if principal.organisation_id is None:
        return principal
    async with read_transaction(runtime.engine) as conn:
        current = await merge_queries.survivor_of(conn, principal.organisation_id)
    return principal if current == principal.organisation_id else replace(principal, organisation_id=current)


StaffOrOwnAccount = Annotated[Principal, Depends(_own_account)]


def ensure_may_act_for(principal: Principal, organisation_id: str) -> None:
    if not principal.may_act_for(organisation_id):
        raise Forbidden()


async def _read(runtime: RuntimeDep, organisation_id: str, response: Response) -> dict[str, Any]:
    async with read_transaction(runtime.engine) as conn:
        found = await queries.get_organisation(conn, organisation_id)
    if found is None:
        raise NotFound(
            f"Organisation {organisation_id} does not exist", f"Organisation {organisation_id} gibt es nicht"
        )
    response.headers["ETag"] = f'"{found["version"]}"'
    return found


@router.post(
    "/organisations", status_code=201, response_model=OrganisationOut, summary="Register an organisation"
)
async def register(
    body: OrganisationIn, runtime: RuntimeDep, request: Request, response: Response, _: Staff
) -> Any:
    organisation = await handlers.register_organisation(
        runtime.uow,
        RegisterOrganisation(
            name=body.name,
            kind=body.kind,
            legal_form=body.legal_form,
            districts=tuple(body.districts),
            fields_of_work=tuple(body.fields_of_work),
            languages=tuple(body.languages),
            website=body.website,
            public_profile=body.public_profile,
            organisation_id=str(body.id) if body.id else None,
        ),
    )
    response.headers["Location"] = str(request.url_for("get_organisation", organisation_id=organisation.id))
    return await _read(runtime, organisation.id, response)


@router.get("/organisations", response_model=OrganisationPage, summary="List and search organisations")
async def list_organisations(
    runtime: RuntimeDep,
    _: Staff,
    q: Annotated[str | None, Query(max_length=200, description="Words in the name or website")] = None,
    kind: OrganisationKind | None = None,
    legal_form: LegalForm | None = None,
    district: District | None = None,
    field_of_work: FieldOfWork | None = None,
    language: Annotated[str | None, Query(pattern=r"^[a-z]{2,3}$")] = None,
    include_archived: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Any:
    where = queries.OrganisationFilter(
        q, kind, legal_form, district, field_of_work, language, include_archived
    )
    async with read_transaction(runtime.engine) as conn:
        items, total = await queries.list_organisations(conn, where, limit, offset)
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/organisations/{organisation_id}", response_model=OrganisationOut, summary="One organisation")
async def get_organisation(
    organisation_id: str, runtime: RuntimeDep, response: Response, who: StaffOrOwnAccount
) -> Any:
    ensure_may_act_for(who, organisation_id)
    return await _read(runtime, organisation_id, response)


@router.patch(
    "/organisations/{organisation_id}", response_model=OrganisationOut, summary="Update the profile"
)
async def update_profile(
    organisation_id: str,
    body: ProfilePatch,
    runtime: RuntimeDep,
    response: Response,
    who: StaffOrOwnAccount,
    if_match: IfMatch = None,
) -> Any:
    ensure_may_act_for(who, organisation_id)
    sent = body.model_fields_set
    await handlers.update_profile(
        runtime.uow,
        UpdateOrganisationProfile(
            organisation_id=organisation_id,
            expected_version=expected_version(if_match),
            name=body.name,
            districts=tuple(body.districts) if body.districts is not None else None,
            fields_of_work=tuple(body.fields_of_work) if body.fields_of_work is not None else None,
            languages=tuple(body.languages) if body.languages is not None else None,
            website=body.website,
            clear_website="website" in sent and body.website is None,
            public_profile=body.public_profile,
        ),
    )
    return await _read(runtime, organisation_id, response)


@router.post(
    "/organisations/{organisation_id}/legal-form",
    response_model=OrganisationOut,
    summary="Change the legal form",
)
async def change_legal_form(
    organisation_id: str,
    body: LegalFormIn,
    runtime: RuntimeDep,
    response: Response,
    who: StaffOrOwnAccount,
    if_match: IfMatch = None,
) -> Any:
    ensure_may_act_for(who, organisation_id)
    await handlers.change_legal_form(
        runtime.uow, ChangeLegalForm(organisation_id, body.legal_form, expected_version(if_match))
    )
    return await _read(runtime, organisation_id, response)


@router.post("/organisations/{organisation_id}/archive", response_model=OrganisationOut, summary="Archive")
async def archive(
    organisation_id: str,
    body: ArchiveIn,
    runtime: RuntimeDep,
    response: Response,
    _: Staff,
    if_match: IfMatch = None,
) -> Any:
    await handlers.archive_organisation(
        runtime.uow, ArchiveOrganisation(organisation_id, body.reason, expected_version(if_match))
    )
    return await _read(runtime, organisation_id, response)


@router.get(
    "/organisations/{organisation_id}/history",
    response_model=list[Change],
    summary="Every change: what, who, when",
)
async def organisation_history(organisation_id: str, runtime: RuntimeDep, who: StaffOrOwnAccount) -> Any:
    ensure_may_act_for(who, organisation_id)
    async with read_transaction(runtime.engine) as conn:
        changes = await queries.history(conn, runtime.store, organisation_id)
    if not changes:
        raise NotFound(
            f"Organisation {organisation_id} does not exist", f"Organisation {organisation_id} gibt es nicht"
        )
    return changes


@router.get("/vocabulary", summary="Every choosable value with its German and English label")
async def vocabulary(_: Anyone) -> dict[str, list[dict[str, str]]]:
    return {
        name: [{"value": str(value), "de": de, "en": en} for value, (de, en) in table.items()]
        for name, table in VOCABULARY.items()
    }
