"""The events service's HTTP API: build a command, hand it to its handler, map the result. Nothing else."""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from services.events import certificate, handlers, notices, queries, replica
from services.events.domain.commands import (
    ChangeCapacity,
    ChangeEventDetails,
    CorrectRegistration,
    DraftEvent,
    EventPlan,
    OrganisationRef,
    Register,
)
from services.events.domain.model import CANCELLATION_NOTE_MAX, Event
from services.events.labels import VOCABULARY, local
from shared.auth.access import allow
from shared.auth.principal import Principal, Role
from shared.contracts.directory import District, OrganisationKind
from shared.contracts.events import (
    CancellationReason,
    CancelledBy,
    EventFormat,
    EventStatus,
    FeedbackBy,
    FundingLine,
    RegistrationStatus,
    Topic,
)
from shared.db import read_transaction
from shared.errors import InvalidInput, InvalidInputs, NotFound
from shared.service import Runtime, RuntimeDep
from shared.settings import SERVICE_PORTS
from shared.vault import scrub_after_erasure
from shared.web.forms import IfMatch, expected_version
from shared.web.templating import current_language

router = APIRouter(tags=["events"])

STAFF = (Role.VIA, Role.TBB, Role.CLD, Role.ADMIN)
VIA = (Role.VIA, Role.ADMIN)  # the events are VIA's: only VIA writes, and only VIA sees who registered
Staff = Annotated[Principal, allow(*STAFF)]
ViaStaff = Annotated[Principal, allow(*VIA)]
Anyone = Annotated[Principal, allow(*Role)]


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=200, examples=["Vereinsgründung Schritt für Schritt"])
    format: EventFormat
    topics: list[Topic] = Field(min_length=1, examples=[["founding_an_association"]])
    funding_line: FundingLine
    starts_at: AwareDatetime = Field(examples=["2026-03-12T10:00:00+01:00"])
    ends_at: AwareDatetime = Field(examples=["2026-03-12T16:00:00+01:00"])
    registration_deadline: AwareDatetime | None = Field(default=None, description="Default: the start")
    online: bool = False
    venue: str | None = Field(
        default=None, max_length=300, examples=["VIA, Petersburger Str. 92, 10247 Berlin"]
    )
    district: District | None = None
    description: str | None = Field(default=None, max_length=4000)
    capacity: int = Field(ge=1, le=1000, examples=[20])
    network_id: str | None = Field(default=None, max_length=36)
    host_organisation_id: str | None = Field(default=None, max_length=36)
    speaker_organisation_ids: list[str] = Field(default_factory=list, max_length=20)

    def plan(self) -> EventPlan:
        return EventPlan(
            title=self.title,
            format=self.format,
            topics=tuple(self.topics),
            funding_line=self.funding_line,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            registration_deadline=self.registration_deadline or self.starts_at,
            online=self.online,
            venue=self.venue,
            district=self.district,
            description=self.description,
            network_id=self.network_id,
            host=OrganisationRef(self.host_organisation_id) if self.host_organisation_id else None,
            speakers=tuple(OrganisationRef(i) for i in self.speaker_organisation_ids),
        )


class EventPatch(BaseModel):
    """Only the fields sent change; `null` removes an optional one (venue, district, description, …)."""

    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(default=None, min_length=1, max_length=200)
    format: EventFormat | None = None
    topics: list[Topic] | None = Field(default=None, min_length=1)
    funding_line: FundingLine | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    registration_deadline: AwareDatetime | None = None
    online: bool | None = None
    venue: str | None = Field(default=None, max_length=300)
    district: District | None = None
    description: str | None = Field(default=None, max_length=4000)
    network_id: str | None = Field(default=None, max_length=36)
    host_organisation_id: str | None = Field(default=None, max_length=36)
    speaker_organisation_ids: list[str] | None = Field(default=None, max_length=20)

    def changes(self) -> dict[str, Any]:
        """The fields sent, as plan fields; an explicit null on a required one is ignored."""
        sent = self.model_fields_set
        changes: dict[str, Any] = {}
        for name in (
            "title",
            "format",
            "funding_line",
            "starts_at",
            "ends_at",
            "registration_deadline",
            "online",
        ):
            if name in sent and getattr(self, name) is not None:
                changes[name] = getattr(self, name)
        if "topics" in sent and self.topics is not None:
            changes["topics"] = tuple(self.topics)
        for name in ("venue", "district", "description", "network_id"):
            if name in sent:
                changes[name] = getattr(self, name)
        if "host_organisation_id" in sent:
            host_id = self.host_organisation_id
            changes["host"] = OrganisationRef(host_id) if host_id else None
        if "speaker_organisation_ids" in sent:
            changes["speakers"] = tuple(OrganisationRef(i) for i in self.speaker_organisation_ids or ())
        return changes


class CapacityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    capacity: int = Field(ge=1, le=1000)


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: CancellationReason = Field(description="What everyone is told: published with the event")
    # The length is the domain's rule (its message says how long the note is); the schema shows it.
    note: str | None = Field(
        default=None,
        description="Why, for VIA's team only: never published. No personal details (such as an illness).",
        json_schema_extra={"maxLength": CANCELLATION_NOTE_MAX},
        examples=["Neuer Termin im Herbst"],
    )


class RegistrationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200, examples=["Aylin Demir"])
    email: str = Field(min_length=3, max_length=254, examples=["aylin@verein.example"])
    phone: str | None = Field(default=None, max_length=40)
    organisation_id: str | None = Field(default=None, max_length=36, description="A directory organisation")


class RegistrationPatch(BaseModel):
    """A correction of who registered: only the fields sent change; `null` removes the phone or the
    organisation (a name and an address every registration keeps)."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200, examples=["Aylin Demir"])
    email: str | None = Field(default=None, min_length=3, max_length=254)
    phone: str | None = Field(default=None, max_length=40)
    organisation_id: str | None = Field(default=None, max_length=36, description="A directory organisation")

    def changes(self) -> dict[str, str | None]:
        """What the correction changes; `null` for the name or the address is refused beside the field
        rather than quietly ignored."""
        sent = self.model_fields_set
        kept = [
            InvalidInput(f"A registration keeps its {what}: send the corrected one.", german, field=k)
            for k, what, german in (
                ("name", "name", "Eine Anmeldung behält ihren Namen: bitte den korrigierten angeben."),
                (
                    "email",
                    "e-mail address",
                    "Eine Anmeldung behält ihre E-Mail-Adresse: bitte die korrigierte angeben.",
                ),
            )
            if k in sent and getattr(self, k) is None
        ]
        InvalidInputs.raise_any(kept)
        return {k: getattr(self, k) for k in ("name", "email", "phone", "organisation_id") if k in sent}


class PublicRegistrationIn(RegistrationIn):
    """The public form: the same, and the person's consent to the processing of their data."""

    privacy_consent: bool = Field(description="Agreed to the processing of the data for this event")


class OrganisationBrief(BaseModel):
    id: str
    name: str
    kind: OrganisationKind | None


class NetworkBrief(BaseModel):
    id: str
    name: str


class EventOut(BaseModel):
    id: str
    title: str
    format: EventFormat
    topics: list[Topic]
    funding_line: FundingLine
    starts_at: datetime
    ends_at: datetime
    registration_deadline: datetime
    online: bool
    venue: str | None
    district: District | None
    description: str | None
    network: NetworkBrief | None
    host: OrganisationBrief | None
    speakers: list[OrganisationBrief]
    capacity: int
    confirmed: int
    waitlisted: int
    free_places: int
    status: EventStatus
    cancel_reason: CancellationReason | None = Field(description="Why it was cancelled: a category")
    cancel_note: str | None = Field(description="VIA's note on the cancellation: only VIA sees it")
    version: int
    created_at: datetime
    updated_at: datetime


class EventPage(BaseModel):
    items: list[EventOut]
    total: int
    limit: int
    offset: int


class RegistrationOut(BaseModel):
    id: str
    event_id: str
    name: str
    email: str
    phone: str | None
    organisation_id: str | None
    organisation_name: str | None
    status: RegistrationStatus | None
    waitlist_position: int | None
    promoted: bool
    cancelled_by: CancelledBy | None
    erased: bool
    registered_at: datetime
    consent: str | None = Field(
        description="What the person agreed to on the public form, word for word, at registered_at; "
        "None when staff registered them"
    )
    changed_at: datetime
    attended: bool = Field(description="Checked in at the event")
    attended_at: datetime | None


class RegistrationResult(BaseModel):
    """What a registration led to: a place, or a place on the waitlist."""

    registration_id: str
    status: RegistrationStatus
    waitlist_position: int | None
    event: EventOut


class NoticeOut(BaseModel):
    id: str
    event_id: str
    registration_id: str
    kind: str
    subject: str
    recipient: str
    body: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


def links(runtime: Runtime) -> notices.Links:
    """The personal links point at this service's public address."""
    url = runtime.settings.service_urls.get("events") or f"http://127.0.0.1:{SERVICE_PORTS['events']}"
    return notices.Links(url)


def wake_dispatcher(request: Request) -> None:
    dispatcher = getattr(request.app.state, "notice_dispatcher", None)
    if dispatcher is not None:
        dispatcher.wake()


def is_via(who: Principal) -> bool:
    return who.has_any(frozenset(VIA))


def not_found(event_id: str) -> NotFound:
    return NotFound(f"Event {event_id} does not exist", f"Die Veranstaltung {event_id} gibt es nicht")


async def read_event(
    runtime: Runtime, event_id: str, response: Response | None = None, for_via: bool = False
) -> dict[str, Any]:
    """The event as the API shows it; `for_via` with VIA's note on a cancellation."""
    async with read_transaction(runtime.engine) as conn:
        found = await queries.get_event(conn, event_id)
        if found is not None and for_via:
            [found] = await queries.with_cancellation_notes(conn, [found])
    if found is None:
        raise not_found(event_id)
    if response is not None:
        response.headers["ETag"] = f'"{found["version"]}"'
    return found


@router.post("/events", status_code=201, response_model=EventOut, summary="Plan an event (a draft)")
async def draft(body: EventIn, runtime: RuntimeDep, request: Request, response: Response, _: ViaStaff) -> Any:
    event = await handlers.draft_event(runtime.uow, DraftEvent(body.plan(), body.capacity))
    response.headers["Location"] = str(request.url_for("get_event", event_id=event.id))
    return await read_event(runtime, event.id, response)


@router.get("/events", response_model=EventPage, summary="The calendar, with filters")
async def list_events(
    runtime: RuntimeDep,
    who: Staff,
    status: EventStatus | None = None,
    format: EventFormat | None = None,
    topic: Topic | None = None,
    district: District | None = None,
    upcoming: Annotated[bool, Query(description="Only events that have not ended")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Any:
    where = queries.CalendarFilter(
        status, format, topic, district, starts_after=handlers.utc_now() if upcoming else None
    )
    async with read_transaction(runtime.engine) as conn:
        items, total = await queries.list_events(conn, where, limit, offset)
        if is_via(who):
            items = await queries.with_cancellation_notes(conn, items)
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/events/{event_id}", response_model=EventOut, summary="One event")
async def get_event(event_id: str, runtime: RuntimeDep, response: Response, who: Staff) -> Any:
    return await read_event(runtime, event_id, response, for_via=is_via(who))


@router.patch("/events/{event_id}", response_model=EventOut, summary="Change the description")
async def change_details(
    event_id: str,
    body: EventPatch,
    runtime: RuntimeDep,
    response: Response,
    _: ViaStaff,
    if_match: IfMatch = None,
) -> Any:
    cmd = ChangeEventDetails(event_id, body.changes(), expected_version(if_match))
    await handlers.change_details(runtime.uow, cmd, links(runtime))
    return await read_event(runtime, event_id, response)


@router.post("/events/{event_id}/capacity", response_model=EventOut, summary="Change the number of places")
async def change_capacity(
    event_id: str,
    body: CapacityIn,
    runtime: RuntimeDep,
    request: Request,
    response: Response,
    _: ViaStaff,
    if_match: IfMatch = None,
) -> Any:
    cmd = ChangeCapacity(event_id, body.capacity, expected_version(if_match))
    await handlers.change_capacity(runtime.uow, cmd, links(runtime))
    wake_dispatcher(request)
    return await read_event(runtime, event_id, response)


@router.post("/events/{event_id}/publish", response_model=EventOut, summary="Publish: into the calendar")
async def publish(
    event_id: str,
    runtime: RuntimeDep,
    request: Request,
    response: Response,
    _: ViaStaff,
    if_match: IfMatch = None,
) -> Any:
    await handlers.event_step(
        runtime.uow, event_id, Event.publish, links(runtime), expected_version(if_match)
    )
    return await read_event(runtime, event_id, response)


@router.post(
    "/events/{event_id}/cancel",
    response_model=EventOut,
    summary="Cancel with a reason (a category); everyone registered is told it, the note stays with VIA",
)
async def cancel(
    event_id: str,
    body: CancelIn,
    runtime: RuntimeDep,
    request: Request,
    response: Response,
    _: ViaStaff,
    if_match: IfMatch = None,
) -> Any:
    await handlers.event_step(
        runtime.uow,
        event_id,
        lambda e: e.cancel(body.reason, body.note),
        links(runtime),
        expected_version(if_match),
    )
    wake_dispatcher(request)
    return await read_event(runtime, event_id, response, for_via=True)


@router.post("/events/{event_id}/complete", response_model=EventOut, summary="Mark as taken place")
async def complete(
    event_id: str, runtime: RuntimeDep, response: Response, _: ViaStaff, if_match: IfMatch = None
) -> Any:
    now = handlers.utc_now()
    await handlers.event_step(
        runtime.uow, event_id, lambda e: e.complete(now), links(runtime), expected_version(if_match)
    )
    return await read_event(runtime, event_id, response)


@router.get(
    "/events/{event_id}/registrations",
    response_model=list[RegistrationOut],
    summary="Who registered: confirmed, the waitlist in its order, cancelled",
)
async def list_registrations(event_id: str, runtime: RuntimeDep, _: ViaStaff) -> Any:
    await read_event(runtime, event_id)
    async with read_transaction(runtime.engine) as conn:
        return await queries.registrations_of(conn, event_id)


def register_command(event_id: str, body: RegistrationIn, late: bool) -> Register:
    return Register(
        event_id=event_id,
        name=body.name,
        email=body.email,
        phone=body.phone,
        organisation_id=body.organisation_id,
        late=late,
    )


async def register_person(
    runtime: Runtime, request: Request, event_id: str, body: RegistrationIn, late: bool
) -> dict[str, Any]:
    """Shared by the API and the staff page: register, and say what it led to (staff may know who is
    registered, so a second registration of the same person is a 409 naming it)."""
    cmd = register_command(event_id, body, late)
    event, registration = await handlers.register(runtime.uow, cmd, links(runtime))
    wake_dispatcher(request)
    position = event.waitlist.index(registration.id) + 1 if registration.id in event.waitlist else None
    return {
        "registration_id": registration.id,
        "status": registration.status,
        "waitlist_position": position,
        "event": await read_event(runtime, event_id),
    }


async def register_or_remind(
    runtime: Runtime, request: Request, event_id: str, body: RegistrationIn, consent: str
) -> None:
    """The public form: whatever it led to is told by e-mail only, so the page says the same to everyone
    (a person registered already gets a reminder with their link). `consent`: the wording agreed to."""
    cmd = replace(register_command(event_id, body, late=False), consent=consent)
    await handlers.register_or_remind(runtime.uow, cmd, links(runtime))
    wake_dispatcher(request)


@router.post(
    "/events/{event_id}/registrations",
    status_code=201,
    response_model=RegistrationResult,
    summary="Register a person (staff: also after the deadline)",
)
async def register(
    event_id: str, body: RegistrationIn, runtime: RuntimeDep, request: Request, _: ViaStaff
) -> Any:
    return await register_person(runtime, request, event_id, body, late=True)


@router.post(
    "/events/{event_id}/registrations/{registration_id}/cancel",
    response_model=EventOut,
    summary="Cancel a registration; the first on the waitlist moves up",
)
async def cancel_registration(
    event_id: str, registration_id: str, runtime: RuntimeDep, request: Request, _: ViaStaff
) -> Any:
    await handlers.cancel_registration(
        runtime.uow, event_id, registration_id, CancelledBy.STAFF, links(runtime)
    )
    wake_dispatcher(request)
    return await read_event(runtime, event_id)


async def read_registration(runtime: Runtime, event_id: str, registration_id: str) -> dict[str, Any]:
    """One registration as the list shows it (opened), or a 404."""
    async with read_transaction(runtime.engine) as conn:
        people = await queries.registrations_of(conn, event_id)
    found = next((p for p in people if p["id"] == registration_id), None)
    if found is None:
        raise NotFound(
            f"Registration {registration_id} does not exist",
            f"Die Anmeldung {registration_id} gibt es nicht",
        )
    return found


async def correct_person(
    runtime: Runtime,
    request: Request,
    event_id: str,
    registration_id: str,
    body: RegistrationPatch,
    version: int | None = None,
) -> tuple[Event, list[str]]:
    """Shared by the API and the staff page: correct, and wake the mail (a new address is told).
    `version`: the event's version the person saw; a stale one is a ConcurrencyError (409)."""
    cmd = CorrectRegistration(event_id, registration_id, body.changes(), version)
    event, changed = await handlers.correct_registration(runtime.uow, cmd, links(runtime))
    if changed:
        wake_dispatcher(request)
    return event, changed


@router.patch(
    "/events/{event_id}/registrations/{registration_id}",
    response_model=RegistrationOut,
    summary="Correct who registered (name, e-mail, phone, organisation): the certificate and notices "
    "use the corrected details; a corrected address gets the confirmation again",
)
async def correct_registration(
    event_id: str,
    registration_id: str,
    body: RegistrationPatch,
    runtime: RuntimeDep,
    request: Request,
    response: Response,
    _: ViaStaff,
    if_match: IfMatch = None,
) -> Any:
    """If-Match: the event's ETag (a registration is part of its event); absent, no check."""
    event, _changed = await correct_person(
        runtime, request, event_id, registration_id, body, expected_version(if_match)
    )
    response.headers["ETag"] = f'"{event.version}"'
    return await read_registration(runtime, event_id, registration_id)


@router.post(
    "/events/{event_id}/registrations/{registration_id}/erase",
    response_model=EventOut,
    summary="Erase the person's data everywhere (their key is deleted); a place they held moves on",
)
async def erase_registration(
    event_id: str, registration_id: str, runtime: RuntimeDep, request: Request, _: ViaStaff
) -> Any:
    await handlers.erase_registration(runtime.uow, event_id, registration_id, links(runtime))
    await scrub_after_erasure(runtime.engine)
    wake_dispatcher(request)
    return await read_event(runtime, event_id)


@router.get("/notices", response_model=list[NoticeOut], summary="Notices to people, newest first")
async def list_notices(
    runtime: RuntimeDep, _: ViaStaff, event_id: Annotated[str | None, Query(max_length=36)] = None
) -> Any:
    async with read_transaction(runtime.engine) as conn:
        return await notices.list_notices(conn, event_id)


@router.get(
    "/organisations",
    response_model=list[OrganisationBrief],
    summary="Active organisations as this service knows them from the directory",
)
async def organisations(runtime: RuntimeDep, _: Staff, kind: OrganisationKind | None = None) -> Any:
    async with read_transaction(runtime.engine) as conn:
        found = await replica.list_organisations(conn, frozenset({kind}) if kind else None)
    return [{"id": o.id, "name": o.name, "kind": o.kind} for o in found]


@router.get("/networks", response_model=list[NetworkBrief], summary="Networks as known from the directory")
async def networks(runtime: RuntimeDep, _: Staff) -> Any:
    async with read_transaction(runtime.engine) as conn:
        found = await replica.network_names(conn)
    return [{"id": i, "name": n} for i, n in found.items()]


@router.get("/vocabulary", summary="Every choosable value with its German and English label")
async def vocabulary(_: Anyone) -> dict[str, list[dict[str, str]]]:
    return {
        name: [{"value": str(value), "de": de, "en": en} for value, (de, en) in table.items()]
        for name, table in VOCABULARY.items()
    }


# -- attendance ---------------------------------------------------------------------------------------------


class AttendanceOut(BaseModel):
    registration_id: str
    attended: bool
    changed: bool = Field(description="False when it was so already (a second tap changes nothing)")
    present: int = Field(description="Checked in so far")
    confirmed: int = Field(description="Confirmed places")


def attendance_of(event: Event, registration_id: str, changed: bool) -> dict[str, Any]:
    return {
        "registration_id": registration_id,
        "attended": event.registration(registration_id).attended,
        "changed": changed,
        "present": len(event.attendees),
        "confirmed": len(event.confirmed),
    }


@router.post(
    "/events/{event_id}/registrations/{registration_id}/attendance",
    response_model=AttendanceOut,
    summary="Check a confirmed person in (from the event's day on); twice changes nothing",
)
async def check_in(event_id: str, registration_id: str, runtime: RuntimeDep, _: ViaStaff) -> Any:
    event, changed = await handlers.check_in(runtime.uow, event_id, registration_id)
    return attendance_of(event, registration_id, changed)


@router.delete(
    "/events/{event_id}/registrations/{registration_id}/attendance",
    response_model=AttendanceOut,
    summary="Undo a check-in made by mistake",
)
async def undo_check_in(event_id: str, registration_id: str, runtime: RuntimeDep, _: ViaStaff) -> Any:
    event, changed = await handlers.undo_check_in(runtime.uow, event_id, registration_id)
    return attendance_of(event, registration_id, changed)


# -- the certificate of participation -----------------------------------------------------------------------


def _filename(name: str) -> str:
    """ "Teilnahmebescheinigung-Aylin-Demir.pdf": ASCII, so every browser and mail program keeps it."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = "-".join("".join(c if c.isalnum() else " " for c in ascii_name).split())
    return f"Teilnahmebescheinigung-{slug or 'Teilnahme'}.pdf"


async def certificate_response(
    runtime: Runtime,
    request: Request,
    event_id: str,
    registration_id: str,
    headers: dict[str, str] | None = None,
) -> Response:
    """The PDF for someone who was checked in; a 409 with the reason for anyone else. Shared by the staff
    API and the personal link."""
    event = await read_event(runtime, event_id)
    registration = await read_registration(runtime, event_id, registration_id)
    problem = certificate.refusal(registration)
    if problem is not None:
        raise problem
    lang = current_language(request)
    facts = certificate.certificate_of(event, registration, lang, local(handlers.utc_now()).date())
    # about a tenth of a second of drawing and shaping: off the loop; a name no bundled font can print is
    # refused there with a 409 (certificate.unprintable) instead of a PDF with empty boxes
    body = await run_in_threadpool(certificate.pdf, facts)
    disposition = f'attachment; filename="{_filename(registration["name"])}"'
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": disposition, "Cache-Control": "no-store", **(headers or {})},
    )


@router.get(
    "/events/{event_id}/registrations/{registration_id}/certificate",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The certificate (PDF)"}},
    summary="The certificate of participation (PDF; ?lang=en for English) of someone who was checked in",
)
async def get_certificate(
    event_id: str, registration_id: str, runtime: RuntimeDep, request: Request, _: ViaStaff
) -> Response:
    return await certificate_response(runtime, request, event_id, registration_id)


# -- feedback -----------------------------------------------------------------------------------------------


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rating: int = Field(ge=1, le=5, description="1 (poor) to 5 (very good)")
    comment: str | None = Field(default=None, max_length=2000, description="Free text; kept sealed")

    @classmethod
    def from_form(cls, values: dict[str, str]) -> FeedbackIn:
        """A form's fields; one left empty counts as not given (a missing rating is "required")."""
        return cls.model_validate({k: v for k, v in values.items() if k in ("rating", "comment") and v})


class FeedbackResult(BaseModel):
    registration_id: str
    rating: int
    comment: str | None
    by: FeedbackBy
    changed: bool = Field(description="False when it said what was said already")


class FeedbackItem(BaseModel):
    registration_id: str
    rating: int
    comment: str | None
    by: FeedbackBy
    given_at: datetime


class FeedbackSummary(BaseModel):
    count: int
    average: float | None
    distribution: dict[str, int] = Field(description="How many gave each rating, 5 to 1")
    items: list[FeedbackItem]


async def record_feedback(
    runtime: Runtime, event_id: str, registration_id: str, body: FeedbackIn, by: FeedbackBy
) -> dict[str, Any]:
    """Shared by the API, the staff page (paper forms) and the personal link."""
    event, changed = await handlers.give_feedback(
        runtime.uow, event_id, registration_id, body.rating, body.comment, by
    )
    registration = event.registration(registration_id)
    return {
        "registration_id": registration_id,
        "rating": registration.rating,
        "comment": registration.comment,
        "by": registration.feedback_by,
        "changed": changed,
    }


@router.put(
    "/events/{event_id}/registrations/{registration_id}/feedback",
    response_model=FeedbackResult,
    summary="Enter the feedback of someone who came (from a paper form), after the event",
)
async def put_feedback(
    event_id: str, registration_id: str, body: FeedbackIn, runtime: RuntimeDep, _: ViaStaff
) -> Any:
    return await record_feedback(runtime, event_id, registration_id, body, FeedbackBy.STAFF)


@router.get(
    "/events/{event_id}/feedback",
    response_model=FeedbackSummary,
    summary="The feedback on an event: average, distribution, comments",
)
async def get_feedback(event_id: str, runtime: RuntimeDep, _: ViaStaff) -> Any:
    await read_event(runtime, event_id)
    async with read_transaction(runtime.engine) as conn:
        return await queries.feedback_of(conn, event_id)
