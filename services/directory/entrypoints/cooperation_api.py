"""The directory's HTTP API for cooperations of MOs with administrations and services."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from services.directory import handlers, queries
from services.directory.domain.partner_search import Candidate, Suggestion, suggest
from services.directory.entrypoints.api import (
    IfMatch,
    Staff,
    StaffOrOwnAccount,
    ensure_may_act_for,
    expected_version,
)
from services.directory.labels import label
from shared.contracts.directory import FieldOfWork
from shared.db import read_transaction
from shared.errors import NotFound
from shared.service import RuntimeDep

router = APIRouter(tags=["cooperations"])


class CooperationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    organisation_id: str = Field(min_length=1, description="The MO or refugee initiative")
    partner_id: str = Field(
        min_length=1, description="The district office, specialist service or labour-market actor"
    )
    field_of_work: FieldOfWork
    started_on: date | None = None


class EndIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ended_on: date | None = None


class CooperationOut(BaseModel):
    id: str
    organisation_id: str
    organisation_name: str | None
    partner_id: str
    partner_name: str | None
    field_of_work: FieldOfWork
    started_on: date
    ended_on: date | None
    version: int


async def _of(runtime: RuntimeDep, organisation_id: str) -> list[dict[str, Any]]:
    async with read_transaction(runtime.engine) as conn:
        return await queries.cooperations_of(conn, organisation_id)


@router.post("/cooperations", status_code=201, response_model=CooperationOut, summary="A cooperation begins")
async def start(body: CooperationIn, runtime: RuntimeDep, _: Staff) -> Any:
    cooperation = await handlers.start_cooperation(
        runtime.uow, body.organisation_id, body.partner_id, body.field_of_work, body.started_on
    )
    return next(c for c in await _of(runtime, body.organisation_id) if c["id"] == cooperation.id)


@router.get(
    "/organisations/{organisation_id}/cooperations",
    response_model=list[CooperationOut],
    summary="An organisation's cooperations, either side",
)
async def of_organisation(organisation_id: str, runtime: RuntimeDep, who: StaffOrOwnAccount) -> Any:
    ensure_may_act_for(who, organisation_id)
    return await _of(runtime, organisation_id)


@router.post(
    "/cooperations/{cooperation_id}/end", response_model=CooperationOut, summary="The cooperation ends"
)
async def end(
    cooperation_id: str, body: EndIn, runtime: RuntimeDep, _: Staff, if_match: IfMatch = None
) -> Any:
    """If-Match takes the cooperation's `version` as read: an end entered meanwhile is a 409."""
    await handlers.end_cooperation(runtime.uow, cooperation_id, body.ended_on, expected_version(if_match))
    async with read_transaction(runtime.engine) as conn:
        found = await queries.cooperation(conn, cooperation_id)
    return found


class SuggestionOut(BaseModel):
    id: str
    name: str
    score: int
    reason: str
    reason_de: str


async def partner_suggestions(runtime: RuntimeDep, organisation_id: str, limit: int = 10) -> list[Suggestion]:
    """Ranked administrations and services for an organisation (see domain/partner_search.py)."""
    async with read_transaction(runtime.engine) as conn:
        found = await queries.get_organisation(conn, organisation_id)
        if found is None:
            raise NotFound(
                f"Organisation {organisation_id} does not exist",
                f"Organisation {organisation_id} gibt es nicht",
            )
        candidates = await queries.partner_candidates(conn)
        partners = await queries.current_partner_ids(conn, organisation_id)
    return suggest(_candidate(found), [_candidate(c) for c in candidates], partners, label, limit)


def _candidate(row: dict[str, Any]) -> Candidate:
    return Candidate(
        row["id"],
        row["name"],
        frozenset(row["districts"]),
        frozenset(row["fields_of_work"]),
        frozenset(row["languages"]),
    )


@router.get(
    "/organisations/{organisation_id}/partner-suggestions",
    response_model=list[SuggestionOut],
    summary="Administrations and services that fit, each with the reason",
)
async def suggestions(
    organisation_id: str, runtime: RuntimeDep, who: StaffOrOwnAccount, limit: int = Query(10, ge=1, le=50)
) -> Any:
    ensure_may_act_for(who, organisation_id)
    return [
        {"id": s.id, "name": s.name, "score": s.score, "reason": s.reason_en, "reason_de": s.reason_de}
        for s in await partner_suggestions(runtime, organisation_id, limit)
    ]
