"""The directory's HTTP API for merging duplicate organisation records (partner staff only).

Look first (`merge-preview`: both records, the profile they make together, and whether the merge is
allowed), then merge with the versions you looked at: a record changed meanwhile is a 409, not a merge
of something you did not see.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncConnection

from services.directory import merge_handlers, merge_queries, queries
from services.directory.domain.merge import MergeOrganisations, check_connections, check_merge, merged_profile
from services.directory.domain.model import Organisation
from services.directory.entrypoints.api import IfMatch, OrganisationOut, Staff, expected_version
from shared.contracts.directory import District, FieldOfWork
from shared.db import read_transaction
from shared.errors import DomainRuleViolation, InvalidInput, NotFound
from shared.service import RuntimeDep

router = APIRouter(tags=["organisations"])


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    absorbed_id: str = Field(min_length=1, max_length=36, description="The duplicate: it ends, merged in")
    reason: str | None = Field(default=None, max_length=500, examples=["doppelt eingetragen"])
    absorbed_version: int | None = Field(
        default=None, ge=1, description="The duplicate's version you looked at (its ETag); checked if sent"
    )


class CombinedProfile(BaseModel):
    name: str
    districts: list[District]
    fields_of_work: list[FieldOfWork]
    languages: list[str]
    website: str | None
    public_profile: bool


class Problem(BaseModel):
    message: str
    message_de: str
    field: str | None = None


class MergePreview(BaseModel):
    survivor: OrganisationOut
    absorbed: OrganisationOut
    result: CombinedProfile = Field(description="The survivor's profile after the merge")
    problem: Problem | None = Field(description="Why the merge is not allowed; null when it is")


def not_found(organisation_id: str) -> NotFound:
    return NotFound(
        f"Organisation {organisation_id} does not exist", f"Organisation {organisation_id} gibt es nicht"
    )


async def _aggregate(runtime: RuntimeDep, conn: AsyncConnection, organisation_id: str) -> Organisation:
    history = await runtime.store.load(conn, Organisation.stream_id_for(organisation_id))
    if not history:
        raise not_found(organisation_id)
    decode = runtime.definition.registry.decode
    return Organisation.rebuild(organisation_id, [decode(e) for e in history])


async def preview(runtime: RuntimeDep, survivor_id: str, absorbed_id: str) -> dict[str, Any]:
    """Both records as they are, what they would make together, and what stands in the way, if anything."""
    async with read_transaction(runtime.engine) as conn:
        survivor = await _aggregate(runtime, conn, survivor_id)
        absorbed = await _aggregate(runtime, conn, absorbed_id)
        records = [await queries.get_organisation(conn, i) for i in (survivor_id, absorbed_id)]
        held = (
            await merge_queries.connections(conn, survivor_id),
            await merge_queries.connections(conn, absorbed_id),
        )
    problem = None
    try:
        check_merge(survivor, absorbed)
        check_connections(survivor_id, absorbed_id, *held)
    except (InvalidInput, DomainRuleViolation) as refused:
        field = refused.field if isinstance(refused, InvalidInput) else None
        problem = {"message": refused.message_en, "message_de": refused.message_de, "field": field}
    assert survivor.profile is not None and absorbed.profile is not None
    combined = merged_profile(survivor.profile, absorbed.profile)
    return {
        "survivor": records[0],
        "absorbed": records[1],
        "result": {
            "name": combined.name,
            "districts": list(combined.districts),
            "fields_of_work": list(combined.fields_of_work),
            "languages": list(combined.languages),
            "website": combined.website,
            "public_profile": combined.public_profile,
        },
        "problem": problem,
    }


@router.get(
    "/organisations/{organisation_id}/merge-preview",
    response_model=MergePreview,
    summary="What merging a duplicate into this organisation would make",
)
async def merge_preview(
    organisation_id: str,
    runtime: RuntimeDep,
    _: Staff,
    absorbed_id: Annotated[str, Query(min_length=1, max_length=36, description="The duplicate")],
) -> Any:
    return await preview(runtime, organisation_id, absorbed_id)


@router.post(
    "/organisations/{organisation_id}/merge",
    response_model=OrganisationOut,
    summary="Merge a duplicate into this organisation",
    responses={409: {"description": "Merged already, archived, or changed since you looked"}},
)
async def merge(
    organisation_id: str,
    body: MergeIn,
    runtime: RuntimeDep,
    response: Response,
    _: Staff,
    if_match: IfMatch = None,
) -> Any:
    """This organisation survives; the duplicate ends "merged into" it and its id points here from now on.
    Send the survivor's ETag as If-Match and the duplicate's as `absorbed_version` to be sure both are what
    you looked at."""
    await merge_handlers.merge_organisations(
        runtime.uow,
        MergeOrganisations(
            survivor_id=organisation_id,
            absorbed_id=body.absorbed_id,
            reason=body.reason,
            survivor_version=expected_version(if_match),
            absorbed_version=body.absorbed_version,
        ),
    )
    async with read_transaction(runtime.engine) as conn:
        found = await queries.get_organisation(conn, organisation_id)
    assert found is not None
    response.headers["ETag"] = f'"{found["version"]}"'
    return found
