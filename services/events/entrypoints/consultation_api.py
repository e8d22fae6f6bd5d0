"""The HTTP API of advice (Beratung) and process accompaniment (Prozessbegleitung): thin, like the rest.

Partners' staff read the sessions (organisation, topics, day, duration, format); only VIA records and
corrects them, and only VIA reads who was advised and the minutes (`/consultations/{id}/notes`). The adviser
is the caller. Corrections and closing take `If-Match` with the ETag that was read.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from services.events import consultation_handlers, consultation_queries
from services.events.domain.consultation_commands import (
    Advice,
    CloseAccompaniment,
    CorrectConsultation,
    OpenAccompaniment,
    RecordConsultation,
)
from services.events.entrypoints.api import OrganisationBrief, Staff, ViaStaff
from shared.auth.people import actor_names
from shared.auth.principal import Principal
from shared.contracts.events import AccompanimentOutcome, ConsultationFormat, FundingLine, Topic
from shared.db import read_transaction
from shared.errors import NotFound
from shared.service import Runtime, RuntimeDep
from shared.vault import Vault, scrub_after_erasure
from shared.web.forms import IfMatch, expected_version

router = APIRouter(tags=["advice"])


class ConsultationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    organisation_id: str | None = Field(
        default=None,
        max_length=36,
        description="The directory organisation advised; for a session of an accompaniment, its organisation",
    )
    accompaniment_id: str | None = Field(
        default=None, max_length=36, description="Part of this accompaniment"
    )
    topics: list[Topic] = Field(min_length=1, examples=[["project_funding", "concept_development"]])
    held_on: date = Field(examples=["2026-11-20"])
    duration_minutes: int = Field(ge=1, le=10_000, examples=[90], description="5 to 600")
    format: ConsultationFormat
    funding_line: FundingLine = FundingLine.SENATE_IKMO
    person_advised: str | None = Field(default=None, max_length=200, description="Personal data: sealed")
    minutes: str | None = Field(default=None, max_length=20_000, description="Protokoll, internal: sealed")

    def advice(self) -> Advice:
        return Advice(
            organisation_id=self.organisation_id or "",
            topics=tuple(self.topics),
            held_on=self.held_on,
            duration_minutes=self.duration_minutes,
            format=self.format,
            funding_line=self.funding_line,
            person_advised=self.person_advised,
            minutes=self.minutes,
        )


class ConsultationPatch(BaseModel):
    """Only the fields sent change; `null` clears the person advised or the minutes."""

    model_config = ConfigDict(extra="forbid")
    organisation_id: str | None = Field(default=None, min_length=1, max_length=36)
    topics: list[Topic] | None = Field(default=None, min_length=1)
    held_on: date | None = None
    duration_minutes: int | None = Field(default=None, ge=1, le=10_000)
    format: ConsultationFormat | None = None
    funding_line: FundingLine | None = None
    person_advised: str | None = Field(default=None, max_length=200)
    minutes: str | None = Field(default=None, max_length=20_000)

    def changes(self) -> dict[str, Any]:
        sent = self.model_fields_set
        changes: dict[str, Any] = {}
        for name in ("organisation_id", "held_on", "duration_minutes", "format", "funding_line"):
            if name in sent and getattr(self, name) is not None:
                changes[name] = getattr(self, name)
        if "topics" in sent and self.topics is not None:
            changes["topics"] = tuple(self.topics)
        for name in ("person_advised", "minutes"):
            if name in sent:
                changes[name] = getattr(self, name)
        return changes


class AccompanimentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    organisation_id: str = Field(min_length=1, max_length=36)
    topics: list[Topic] = Field(min_length=1)
    opened_on: date
    goal: str = Field(min_length=1, max_length=1000, examples=["Antrag beim Aktionsfonds bis März stellen"])


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    closed_on: date
    outcome: AccompanimentOutcome
    note: str = Field(min_length=1, max_length=2000, examples=["Antrag gestellt und bewilligt"])


class ConsultationOut(BaseModel):
    id: str
    organisation: OrganisationBrief = Field(description="As it is today: a merged duplicate's survivor")
    accompaniment_id: str | None
    topics: list[Topic]
    held_on: date
    duration_minutes: int
    format: ConsultationFormat
    funding_line: FundingLine
    erased: bool
    version: int
    recorded_at: datetime
    updated_at: datetime


class ConsultationPage(BaseModel):
    items: list[ConsultationOut]
    total: int
    total_minutes: int = Field(description="Of every session that matches, not only this page")
    limit: int
    offset: int


class NotesOut(BaseModel):
    adviser_id: str
    adviser_name: str
    person_advised: str | None
    minutes: str | None
    erased: bool


class AccompanimentOut(BaseModel):
    id: str
    organisation: OrganisationBrief
    topics: list[Topic]
    opened_on: date
    goal: str | None
    closed_on: date | None
    outcome: AccompanimentOutcome | None
    note: str | None
    sessions: int
    total_minutes: int
    total_hours: float
    version: int


class AccompanimentDetail(AccompanimentOut):
    sessions: list[ConsultationOut]  # type: ignore[assignment]


def consultation_not_found(consultation_id: str) -> NotFound:
    return NotFound(
        f"Advice session {consultation_id} does not exist", f"Die Beratung {consultation_id} gibt es nicht"
    )


def accompaniment_not_found(accompaniment_id: str) -> NotFound:
    return NotFound(
        f"Accompaniment {accompaniment_id} does not exist",
        f"Die Prozessbegleitung {accompaniment_id} gibt es nicht",
    )


async def read_consultation(runtime: Runtime, consultation_id: str, response: Response | None = None) -> Any:
    async with read_transaction(runtime.engine) as conn:
        found = await consultation_queries.get_consultation(conn, consultation_id)
    if found is None:
        raise consultation_not_found(consultation_id)
    if response is not None:
        response.headers["ETag"] = f'"{found["version"]}"'
    return found


async def read_accompaniment(
    runtime: Runtime, accompaniment_id: str, response: Response | None = None
) -> Any:
    async with read_transaction(runtime.engine) as conn:
        found = await consultation_queries.get_accompaniment(conn, accompaniment_id)
    if found is None:
        raise accompaniment_not_found(accompaniment_id)
    if response is not None:
        response.headers["ETag"] = f'"{found["version"]}"'
    return found


async def read_notes(runtime: Runtime, consultation_id: str, viewer: Principal) -> dict[str, Any]:
    names = actor_names(runtime.settings.data_dir, viewer)
    async with read_transaction(runtime.engine) as conn:
        found = await consultation_queries.notes_of(conn, consultation_id, Vault(), names)
    if found is None:
        raise consultation_not_found(consultation_id)
    return found


async def record(runtime: Runtime, body: ConsultationIn, who: Principal) -> str:
    """Shared by the API and the form: the caller is the adviser."""
    cmd = RecordConsultation(body.advice(), who.actor, body.accompaniment_id)
    consultation = await consultation_handlers.record_consultation(runtime.uow, cmd)
    return consultation.id


@router.post(
    "/consultations", status_code=201, response_model=ConsultationOut, summary="Record an advice session"
)
async def record_consultation(
    body: ConsultationIn, runtime: RuntimeDep, request: Request, response: Response, who: ViaStaff
) -> Any:
    consultation_id = await record(runtime, body, who)
    response.headers["Location"] = str(request.url_for("get_consultation", consultation_id=consultation_id))
    return await read_consultation(runtime, consultation_id, response)


@router.get("/consultations", response_model=ConsultationPage, summary="Advice sessions, with filters")
async def list_consultations(
    runtime: RuntimeDep,
    _: Staff,
    organisation_id: Annotated[str | None, Query(max_length=36)] = None,
    topic: Topic | None = None,
    format: ConsultationFormat | None = None,
    held_from: date | None = None,
    held_until: date | None = None,
    accompaniment_id: Annotated[str | None, Query(max_length=36)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Any:
    where = consultation_queries.ConsultationFilter(
        organisation_id, topic, format, held_from, held_until, accompaniment_id
    )
    async with read_transaction(runtime.engine) as conn:
        every, total = await consultation_queries.list_consultations(conn, where, limit=10**9)
    return {
        "items": every[offset : offset + limit],
        "total": total,
        "total_minutes": sum(i["duration_minutes"] for i in every),
        "limit": limit,
        "offset": offset,
    }


@router.get("/consultations/{consultation_id}", response_model=ConsultationOut, summary="One advice session")
async def get_consultation(consultation_id: str, runtime: RuntimeDep, response: Response, _: Staff) -> Any:
    return await read_consultation(runtime, consultation_id, response)


@router.get(
    "/consultations/{consultation_id}/notes",
    response_model=NotesOut,
    summary="Who advised whom, and the minutes (VIA only: personal data)",
)
async def get_notes(consultation_id: str, runtime: RuntimeDep, who: ViaStaff) -> Any:
    return await read_notes(runtime, consultation_id, who)


@router.patch(
    "/consultations/{consultation_id}", response_model=ConsultationOut, summary="Correct an advice session"
)
async def correct_consultation(
    consultation_id: str,
    body: ConsultationPatch,
    runtime: RuntimeDep,
    response: Response,
    _: ViaStaff,
    if_match: IfMatch = None,
) -> Any:
    cmd = CorrectConsultation(consultation_id, body.changes(), expected_version(if_match))
    await consultation_handlers.correct_consultation(runtime.uow, cmd)
    return await read_consultation(runtime, consultation_id, response)


@router.post(
    "/consultations/{consultation_id}/erase",
    response_model=ConsultationOut,
    summary="Erase the advised person and the minutes everywhere (the key is deleted); the session counts",
)
async def erase_consultation(consultation_id: str, runtime: RuntimeDep, _: ViaStaff) -> Any:
    await consultation_handlers.erase_consultation(runtime.uow, consultation_id)
    await scrub_after_erasure(runtime.engine)
    return await read_consultation(runtime, consultation_id)


@router.post(
    "/accompaniments",
    status_code=201,
    response_model=AccompanimentDetail,
    summary="Open a process accompaniment",
)
async def open_accompaniment(
    body: AccompanimentIn, runtime: RuntimeDep, request: Request, response: Response, _: ViaStaff
) -> Any:
    cmd = OpenAccompaniment(body.organisation_id, tuple(body.topics), body.opened_on, body.goal)
    accompaniment = await consultation_handlers.open_accompaniment(runtime.uow, cmd)
    response.headers["Location"] = str(
        request.url_for("get_accompaniment", accompaniment_id=accompaniment.id)
    )
    return await read_accompaniment(runtime, accompaniment.id, response)


@router.get(
    "/accompaniments", response_model=list[AccompanimentOut], summary="Accompaniments, open ones first"
)
async def list_accompaniments(
    runtime: RuntimeDep,
    _: Staff,
    organisation_id: Annotated[str | None, Query(max_length=36)] = None,
    open_only: bool = False,
) -> Any:
    async with read_transaction(runtime.engine) as conn:
        return await consultation_queries.list_accompaniments(conn, organisation_id, open_only)


@router.get(
    "/accompaniments/{accompaniment_id}",
    response_model=AccompanimentDetail,
    summary="An accompaniment with its sessions in order and its hours",
)
async def get_accompaniment(accompaniment_id: str, runtime: RuntimeDep, response: Response, _: Staff) -> Any:
    return await read_accompaniment(runtime, accompaniment_id, response)


@router.post(
    "/accompaniments/{accompaniment_id}/close",
    response_model=AccompanimentDetail,
    summary="Close it with its outcome (or as ended early)",
)
async def close_accompaniment(
    accompaniment_id: str,
    body: CloseIn,
    runtime: RuntimeDep,
    response: Response,
    _: ViaStaff,
    if_match: IfMatch = None,
) -> Any:
    cmd = CloseAccompaniment(
        accompaniment_id, body.closed_on, body.outcome, body.note, expected_version(if_match)
    )
    await consultation_handlers.close_accompaniment(runtime.uow, cmd)
    return await read_accompaniment(runtime, accompaniment_id, response)
