"""The directory's HTTP API for the Teilhabecheck: TBB (and admins) write it, partner staff read it.

Every answer carries the analysis's version as ETag; a change sent with `If-Match` is refused (409) when
someone else changed the analysis meanwhile. A recommendation's follow-ups are read from the log, so every
step of its adoption (open, partly, adopted, ...) stays visible with its date and note.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from services.directory import handlers, queries
from services.directory.domain.teilhabecheck import Teilhabecheck
from services.directory.entrypoints.api import IfMatch, Staff, expected_version
from shared.auth.access import allow
from shared.auth.principal import Principal, Role
from shared.contracts.directory import Adoption, District, TeilhabePhase, TeilhabeRecommendationFollowedUp
from shared.db import read_transaction
from shared.errors import NotFound
from shared.service import RuntimeDep

router = APIRouter(tags=["Teilhabecheck"])
Writer = Annotated[Principal, allow(Role.TBB, Role.ADMIN)]


class CheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    district: District
    social_space: str = Field(min_length=1, max_length=200, examples=["Gropiusstadt"])
    started_on: date | None = None


class FindingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=2000)


class PhaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    completed_on: date | None = None


class RecommendationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=2000)
    addressee: str | None = Field(default=None, max_length=200, examples=["Bezirksamt Neukölln"])


class FollowUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    adoption: Adoption
    on: date | None = None
    note: str | None = Field(default=None, max_length=2000)


class FollowUpOut(BaseModel):
    adoption: Adoption
    on: date
    note: str | None


class ItemOut(BaseModel):
    phase: TeilhabePhase
    text: str
    item_id: str | None = None
    addressee: str | None = None
    adoption: Adoption | None = Field(default=None, description="The latest follow-up's state")
    adoption_on: date | None = None
    adoption_note: str | None = None
    follow_ups: list[FollowUpOut] = Field(default=[], description="Every follow-up, oldest first")


class CheckOut(BaseModel):
    id: str
    district: District
    social_space: str
    started_on: date
    phases_completed: int = Field(description="0 to 4; the phase it is in is the next one")
    finished_on: date | None
    version: int
    findings: list[ItemOut] = []
    recommendations: list[ItemOut] = []


async def read_check(runtime: RuntimeDep, check_id: str, response: Response | None = None) -> dict[str, Any]:
    """The analysis with each recommendation's follow-ups; with a response, its version as the ETag."""
    async with read_transaction(runtime.engine) as conn:
        found = await queries.get_teilhabecheck(conn, check_id)
        log = await runtime.store.load(conn, Teilhabecheck.stream_id_for(check_id)) if found else []
    if found is None:
        raise NotFound(f"Teilhabecheck {check_id} does not exist", f"Teilhabecheck {check_id} gibt es nicht")
    steps: dict[str, list[dict[str, Any]]] = {}
    for event in log:
        if event.type == TeilhabeRecommendationFollowedUp.event_type:
            data = event.data
            steps.setdefault(data["recommendation_id"], []).append(
                {"adoption": data["adoption"], "on": date.fromisoformat(data["on"]), "note": data["note"]}
            )
    for recommendation in found["recommendations"]:
        recommendation["follow_ups"] = steps.get(recommendation["item_id"], [])
    if response is not None:
        response.headers["ETag"] = f'"{found["version"]}"'
    return found


@router.post("/teilhabechecks", status_code=201, response_model=CheckOut, summary="Begin an analysis")
async def start(body: CheckIn, runtime: RuntimeDep, request: Request, response: Response, _: Writer) -> Any:
    check = await handlers.start_teilhabecheck(runtime.uow, body.district, body.social_space, body.started_on)
    response.headers["Location"] = str(request.url_for("get_teilhabecheck", check_id=check.id))
    return await read_check(runtime, check.id, response)


@router.get("/teilhabechecks", response_model=list[CheckOut], summary="Every analysis, newest first")
async def list_checks(runtime: RuntimeDep, _: Staff) -> Any:
    async with read_transaction(runtime.engine) as conn:
        return await queries.list_teilhabechecks(conn)


@router.get("/teilhabechecks/{check_id}", response_model=CheckOut, summary="One analysis")
async def get_teilhabecheck(check_id: str, runtime: RuntimeDep, response: Response, _: Staff) -> Any:
    return await read_check(runtime, check_id, response)


@router.post(
    "/teilhabechecks/{check_id}/findings", response_model=CheckOut, summary="A finding of this phase"
)
async def finding(
    check_id: str,
    body: FindingIn,
    runtime: RuntimeDep,
    response: Response,
    _: Writer,
    if_match: IfMatch = None,
) -> Any:
    await handlers.change_teilhabecheck(
        runtime.uow, check_id, lambda c: c.record_finding(body.text), expected_version(if_match)
    )
    return await read_check(runtime, check_id, response)


@router.post(
    "/teilhabechecks/{check_id}/phases/{phase}/complete", response_model=CheckOut, summary="Complete a phase"
)
async def complete_phase(
    check_id: str,
    phase: TeilhabePhase,
    body: PhaseIn,
    runtime: RuntimeDep,
    response: Response,
    _: Writer,
    if_match: IfMatch = None,
) -> Any:
    day = body.completed_on or date.today()
    await handlers.change_teilhabecheck(
        runtime.uow, check_id, lambda c: c.complete_phase(phase, day), expected_version(if_match)
    )
    return await read_check(runtime, check_id, response)


@router.post(
    "/teilhabechecks/{check_id}/recommendations", response_model=CheckOut, summary="A recommendation"
)
async def recommend(
    check_id: str,
    body: RecommendationIn,
    runtime: RuntimeDep,
    response: Response,
    _: Writer,
    if_match: IfMatch = None,
) -> Any:
    new_id = str(uuid.uuid4())
    await handlers.change_teilhabecheck(
        runtime.uow,
        check_id,
        lambda c: c.recommend(new_id, body.text, body.addressee),
        expected_version(if_match),
    )
    return await read_check(runtime, check_id, response)


@router.post(
    "/teilhabechecks/{check_id}/recommendations/{recommendation_id}/follow-up",
    response_model=CheckOut,
    summary="What became of a recommendation",
)
async def follow_up(
    check_id: str,
    recommendation_id: str,
    body: FollowUpIn,
    runtime: RuntimeDep,
    response: Response,
    _: Writer,
    if_match: IfMatch = None,
) -> Any:
    day = body.on or date.today()
    await handlers.change_teilhabecheck(
        runtime.uow,
        check_id,
        lambda c: c.follow_up(recommendation_id, body.adoption, day, body.note),
        expected_version(if_match),
    )
    return await read_check(runtime, check_id, response)
