"""The directory's HTTP API for mentoring: proposed → active → completed, or ended early."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from services.directory import handlers, queries
from services.directory.domain.mentoring import MentoringStatus
from services.directory.entrypoints.api import IfMatch, Staff, expected_version
from shared.db import read_transaction
from shared.errors import NotFound
from shared.service import RuntimeDep

router = APIRouter(tags=["mentoring"])


class MentoringIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mentor_id: str = Field(min_length=1, description="The established organisation")
    mentee_id: str = Field(min_length=1, description="The starting organisation")
    focus_areas: list[Annotated[str, Field(max_length=100)]] = Field(
        min_length=1, max_length=10, examples=[["Vereinsgründung", "Fördermittel"]]
    )


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    on: date | None = Field(default=None, description="The day; today when not given")
    reason: str | None = Field(default=None, max_length=500, description="Only for ending early")


class MentoringOut(BaseModel):
    id: str
    mentor_id: str
    mentor_name: str | None
    mentee_id: str
    mentee_name: str | None
    focus_areas: list[str]
    status: MentoringStatus
    proposed_at: datetime
    started_on: date | None
    ended_on: date | None
    reason: str | None
    version: int


async def read_mentoring(
    runtime: RuntimeDep, mentoring_id: str, response: Response | None = None
) -> dict[str, Any]:
    """The mentoring; with a response, its version goes into the ETag for a later If-Match."""
    async with read_transaction(runtime.engine) as conn:
        found = await queries.get_mentoring(conn, mentoring_id)
    if found is None:
        raise NotFound(f"Mentoring {mentoring_id} does not exist", f"Begleitung {mentoring_id} gibt es nicht")
    if response is not None:
        response.headers["ETag"] = f'"{found["version"]}"'
    return found


@router.post("/mentorings", status_code=201, response_model=MentoringOut, summary="Propose a mentoring")
async def propose(
    body: MentoringIn, runtime: RuntimeDep, request: Request, response: Response, _: Staff
) -> Any:
    mentoring = await handlers.propose_mentoring(
        runtime.uow, body.mentor_id, body.mentee_id, tuple(body.focus_areas)
    )
    response.headers["Location"] = str(request.url_for("get_mentoring", mentoring_id=mentoring.id))
    return await read_mentoring(runtime, mentoring.id, response)


@router.get(
    "/mentorings", response_model=list[MentoringOut], summary="Mentorings, of one organisation or all"
)
async def list_mentorings(runtime: RuntimeDep, _: Staff, organisation_id: str | None = None) -> Any:
    async with read_transaction(runtime.engine) as conn:
        return await queries.list_mentorings(conn, organisation_id)


@router.get("/mentorings/{mentoring_id}", response_model=MentoringOut, summary="One mentoring")
async def get_mentoring(mentoring_id: str, runtime: RuntimeDep, response: Response, _: Staff) -> Any:
    return await read_mentoring(runtime, mentoring_id, response)


@router.post("/mentorings/{mentoring_id}/start", response_model=MentoringOut, summary="It begins")
async def start(
    mentoring_id: str,
    body: StepIn,
    runtime: RuntimeDep,
    response: Response,
    _: Staff,
    if_match: IfMatch = None,
) -> Any:
    await handlers.mentoring_step(
        runtime.uow, mentoring_id, "start", body.on, None, expected_version(if_match)
    )
    return await read_mentoring(runtime, mentoring_id, response)


@router.post("/mentorings/{mentoring_id}/complete", response_model=MentoringOut, summary="It ends as planned")
async def complete(
    mentoring_id: str,
    body: StepIn,
    runtime: RuntimeDep,
    response: Response,
    _: Staff,
    if_match: IfMatch = None,
) -> Any:
    await handlers.mentoring_step(
        runtime.uow, mentoring_id, "complete", body.on, None, expected_version(if_match)
    )
    return await read_mentoring(runtime, mentoring_id, response)


@router.post("/mentorings/{mentoring_id}/end-early", response_model=MentoringOut, summary="It ends early")
async def end_early(
    mentoring_id: str,
    body: StepIn,
    runtime: RuntimeDep,
    response: Response,
    _: Staff,
    if_match: IfMatch = None,
) -> Any:
    await handlers.mentoring_step(
        runtime.uow, mentoring_id, "end_early", body.on, body.reason, expected_version(if_match)
    )
    return await read_mentoring(runtime, mentoring_id, response)
