"""The directory's HTTP API for committees (Beiräte, Gremien, Arbeitsgruppen) and the MOs' seats in them.

Changes to a committee take `If-Match` with the ETag from reading it: a form that is out of date gets a
409 instead of overwriting what someone else did meanwhile.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from services.directory import committee_handlers, committee_queries
from services.directory.domain.commands import DissolveCommittee, RecordCommittee, TakeSeat, VacateSeat
from services.directory.entrypoints.api import (
    IfMatch,
    Staff,
    StaffOrOwnAccount,
    ensure_may_act_for,
    expected_version,
)
from shared.contracts.directory import CommitteeKind, District
from shared.db import read_transaction
from shared.errors import NotFound
from shared.service import RuntimeDep
from shared.vault import Vault

router = APIRouter(tags=["committees"])


class CommitteeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200, examples=["Integrationsbeirat Neukölln"])
    kind: CommitteeKind
    district: District | None = Field(default=None, description="Empty for a committee of all of Berlin")
    topic: str | None = Field(default=None, max_length=500)


class SeatIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    organisation_id: str = Field(min_length=1, description="The MO or refugee initiative")
    representative_id: str | None = Field(
        default=None, min_length=1, description="One of the organisation's contact persons"
    )
    taken_on: date | None = None


class VacateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    vacated_on: date | None = None


class DissolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dissolved_on: date | None = None


class SeatOut(BaseModel):
    organisation_id: str
    name: str | None
    representative_id: str | None
    representative_name: str | None = Field(description='"[gelöscht]" once the person was erased')
    taken_on: date
    vacated_on: date | None


class CommitteeOut(BaseModel):
    id: str
    name: str
    kind: CommitteeKind
    district: District | None
    topic: str | None
    dissolved_on: date | None
    version: int
    seats: list[SeatOut]


class CommitteeSummary(BaseModel):
    id: str
    name: str
    kind: CommitteeKind
    district: District | None
    topic: str | None
    dissolved_on: date | None
    seats: int = Field(description="Seats held now")


class OrganisationSeat(BaseModel):
    id: str = Field(description="The committee's id")
    name: str
    kind: CommitteeKind
    district: District | None
    taken_on: date
    vacated_on: date | None


def committee_not_found(committee_id: str) -> NotFound:
    return NotFound(f"Committee {committee_id} does not exist", f"Gremium {committee_id} gibt es nicht")


async def read_committee(runtime: RuntimeDep, committee_id: str, response: Response | None = None) -> Any:
    async with read_transaction(runtime.engine) as conn:
        found = await committee_queries.get_committee(conn, committee_id, Vault())
    if found is None:
        raise committee_not_found(committee_id)
    if response is not None:
        response.headers["ETag"] = f'"{found["version"]}"'
    return found


@router.post("/committees", status_code=201, response_model=CommitteeOut, summary="Enter a committee")
async def record(
    body: CommitteeIn, runtime: RuntimeDep, request: Request, response: Response, _: Staff
) -> Any:
    committee = await committee_handlers.record_committee(
        runtime.uow, RecordCommittee(body.name, body.kind, body.district, body.topic)
    )
    response.headers["Location"] = str(request.url_for("get_committee", committee_id=committee.id))
    return await read_committee(runtime, committee.id, response)


@router.get("/committees", response_model=list[CommitteeSummary], summary="Every committee")
async def list_committees(
    runtime: RuntimeDep,
    _: Staff,
    district: Annotated[District | None, Query(description="Only this district's")] = None,
) -> Any:
    async with read_transaction(runtime.engine) as conn:
        return await committee_queries.list_committees(conn, district)


@router.get(
    "/committees/{committee_id}",
    response_model=CommitteeOut,
    summary="A committee and the organisations that held seats in it over time",
)
async def get_committee(committee_id: str, runtime: RuntimeDep, response: Response, _: Staff) -> Any:
    return await read_committee(runtime, committee_id, response)


@router.post("/committees/{committee_id}/seats", response_model=CommitteeOut, summary="An MO takes a seat")
async def take_seat(
    committee_id: str,
    body: SeatIn,
    runtime: RuntimeDep,
    response: Response,
    _: Staff,
    if_match: IfMatch = None,
) -> Any:
    await committee_handlers.take_seat(
        runtime.uow,
        TakeSeat(
            committee_id,
            body.organisation_id,
            body.representative_id,
            body.taken_on,
            expected_version(if_match),
        ),
    )
    return await read_committee(runtime, committee_id, response)


@router.post(
    "/committees/{committee_id}/seats/{organisation_id}/vacate",
    response_model=CommitteeOut,
    summary="The MO gives up its seat",
)
async def vacate_seat(
    committee_id: str,
    organisation_id: str,
    body: VacateIn,
    runtime: RuntimeDep,
    response: Response,
    _: Staff,
    if_match: IfMatch = None,
) -> Any:
    await committee_handlers.vacate_seat(
        runtime.uow, VacateSeat(committee_id, organisation_id, body.vacated_on, expected_version(if_match))
    )
    return await read_committee(runtime, committee_id, response)


@router.post(
    "/committees/{committee_id}/dissolve",
    response_model=CommitteeOut,
    summary="The committee is dissolved; every seat ends",
)
async def dissolve(
    committee_id: str,
    body: DissolveIn,
    runtime: RuntimeDep,
    response: Response,
    _: Staff,
    if_match: IfMatch = None,
) -> Any:
    await committee_handlers.dissolve_committee(
        runtime.uow, DissolveCommittee(committee_id, body.dissolved_on, expected_version(if_match))
    )
    return await read_committee(runtime, committee_id, response)


@router.get(
    "/organisations/{organisation_id}/committee-seats",
    response_model=list[OrganisationSeat],
    summary="The committees an organisation holds or held a seat in",
)
async def seats_of(organisation_id: str, runtime: RuntimeDep, who: StaffOrOwnAccount) -> Any:
    ensure_may_act_for(who, organisation_id)
    async with read_transaction(runtime.engine) as conn:
        return await committee_queries.seats_of(conn, organisation_id)
