"""The directory's HTTP API for the Teilhabecheck: TBB (and admins) write it, partner staff read it."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from services.directory import handlers, queries
from services.directory.entrypoints.api import Staff
from shared.auth.access import allow
from shared.auth.principal import Principal, Role
from shared.contracts.directory import Adoption, District, TeilhabePhase
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


class ItemOut(BaseModel):
    phase: TeilhabePhase
    text: str
    item_id: str | None = None
    addressee: str | None = None
    adoption: Adoption | None = None
    adoption_on: date | None = None
    adoption_note: str | None = None


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


async def read_check(runtime: RuntimeDep, check_id: str) -> dict[str, Any]:
    async with read_transaction(runtime.engine) as conn:
        found = await queries.get_teilhabecheck(conn, check_id)
    if found is None:
        raise NotFound(f"Teilhabecheck {check_id} does not exist", f"Teilhabecheck {check_id} gibt es nicht")
    return found


@router.post("/teilhabechecks", status_code=201, response_model=CheckOut, summary="Begin an analysis")
async def start(body: CheckIn, runtime: RuntimeDep, request: Request, response: Response, _: Writer) -> Any:
    check = await handlers.start_teilhabecheck(runtime.uow, body.district, body.social_space, body.started_on)
    response.headers["Location"] = str(request.url_for("get_teilhabecheck", check_id=check.id))
    return await read_check(runtime, check.id)


@router.get("/teilhabechecks", response_model=list[CheckOut], summary="Every analysis, newest first")
async def list_checks(runtime: RuntimeDep, _: Staff) -> Any:
    async with read_transaction(runtime.engine) as conn:
        return await queries.list_teilhabechecks(conn)


@router.get("/teilhabechecks/{check_id}", response_model=CheckOut, summary="One analysis")
async def get_teilhabecheck(check_id: str, runtime: RuntimeDep, _: Staff) -> Any:
    return await read_check(runtime, check_id)


@router.post(
    "/teilhabechecks/{check_id}/findings", response_model=CheckOut, summary="A finding of this phase"
)
async def finding(check_id: str, body: FindingIn, runtime: RuntimeDep, _: Writer) -> Any:
    await handlers.change_teilhabecheck(runtime.uow, check_id, lambda c: c.record_finding(body.text))
    return await read_check(runtime, check_id)


@router.post(
    "/teilhabechecks/{check_id}/phases/{phase}/complete", response_model=CheckOut, summary="Complete a phase"
)
async def complete_phase(
    check_id: str, phase: TeilhabePhase, body: PhaseIn, runtime: RuntimeDep, _: Writer
) -> Any:
    day = body.completed_on or date.today()
    await handlers.change_teilhabecheck(runtime.uow, check_id, lambda c: c.complete_phase(phase, day))
    return await read_check(runtime, check_id)


@router.post(
    "/teilhabechecks/{check_id}/recommendations", response_model=CheckOut, summary="A recommendation"
)
async def recommend(check_id: str, body: RecommendationIn, runtime: RuntimeDep, _: Writer) -> Any:
    new_id = str(uuid.uuid4())
    await handlers.change_teilhabecheck(
        runtime.uow, check_id, lambda c: c.recommend(new_id, body.text, body.addressee)
    )
    return await read_check(runtime, check_id)


@router.post(
    "/teilhabechecks/{check_id}/recommendations/{recommendation_id}/follow-up",
    response_model=CheckOut,
    summary="What became of a recommendation",
)
async def follow_up(
    check_id: str, recommendation_id: str, body: FollowUpIn, runtime: RuntimeDep, _: Writer
) -> Any:
    day = body.on or date.today()
    await handlers.change_teilhabecheck(
        runtime.uow, check_id, lambda c: c.follow_up(recommendation_id, body.adoption, day, body.note)
    )
    return await read_check(runtime, check_id)
