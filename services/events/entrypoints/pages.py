"""The staff pages of VIA's calendar: the list, an event with its registrations and waitlist, the forms to
plan, change, publish, cancel and complete, and the notices people were sent.

Forms are read into the API's own input models and handed to the same handlers, so a page can never accept
what the API refuses, and the errors a person sees are the API's, placed beside their fields. Everyone on
the partners' staff may look at the calendar; only VIA (and admins) change it or see who registered.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from babel.numbers import format_decimal
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from services.events import handlers, notices, queries, replica
from services.events.domain.commands import ChangeCapacity, ChangeEventDetails, DraftEvent
from services.events.domain.model import AlreadyRegistered, Event, erased_not_corrected
from services.events.entrypoints.api import (
    CancelIn,
    CapacityIn,
    EventIn,
    EventPatch,
    FeedbackIn,
    RegistrationIn,
    RegistrationPatch,
    Staff,
    ViaStaff,
    correct_person,
    is_via,
    links,
    not_found,
    read_registration,
    record_feedback,
    register_person,
    wake_dispatcher,
)
from services.events.entrypoints.forms import options, shown
from services.events.labels import VOCABULARY, label, local, moment
from shared.auth.access import public
from shared.auth.principal import Principal
from shared.contracts.events import CancelledBy, EventStatus, FeedbackBy
from shared.db import read_transaction
from shared.errors import ConcurrencyError, DomainRuleViolation, IkmoError, InvalidInput, NotFound
from shared.service import Runtime, RuntimeDep
from shared.vault import scrub_after_erasure
from shared.web.flash import flash
from shared.web.forms import Errors, errors_of, status_of, validated, version_of
from shared.web.i18n import N_
from shared.web.templating import current_language, render
from shared.web.vocabulary import BERLIN

LOCALE_DIR = Path(__file__).parent.parent / "locale"
router = APIRouter(tags=["pages"], include_in_schema=False)
BASE = "/veranstaltungen"
DATETIME_FIELDS = ("starts_at", "ends_at", "registration_deadline")
PAGE_SIZE = 50

NOTICE_KINDS = {
    "confirmation": N_("Confirmation"),
    "waitlist": N_("Waitlist"),
    "promotion": N_("Moved up"),
    "cancellation": N_("Cancellation"),
    "event_cancelled": N_("Event cancelled"),
    "already_registered": N_("Reminder: registered already"),
    "details_changed": N_("Time or place changed"),
}
NOTICE_STATUSES = {
    "pending": N_("waiting to be sent"),
    "sending": N_("being sent"),
    "sent": N_("sent"),
    "stored": N_("not sent – only readable here (no mail server set up)"),
    "failed": N_("could not be sent"),
    "dropped": N_("not sent (person erased)"),
}
RATINGS = [
    (5, N_("very good")),
    (4, N_("good")),
    (3, N_("fair")),
    (2, N_("poor")),
    (1, N_("very poor")),
]
WHEN = {"upcoming": N_("Upcoming"), "past": N_("Past"), "all": N_("All")}


# -- reading a form ---------------------------------------------------------------------------------------


def local_input(value: datetime | None) -> str:
    """A stored time as a `datetime-local` input shows it: in Berlin, to the minute."""
    return local(value).strftime("%Y-%m-%dT%H:%M") if value else ""


def parse_local(raw: str, field: str) -> datetime | None:
    """What a `datetime-local` input sends, read as Berlin time; empty is None."""
    text = raw.strip()
    if not text:
        return None
    try:
        naive = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            "Give a date and time such as 2026-03-12 10:00.",
            "Bitte Datum und Uhrzeit angeben, z. B. 12.03.2026, 10:00.",
            field=field,
        ) from None
    return naive.replace(tzinfo=BERLIN) if naive.tzinfo is None else naive


def event_form_values(form: FormData) -> dict[str, Any]:
    """What the person typed, as the page shows it again."""
    return {
        "title": str(form.get("title", "")).strip(),
        "format": form.get("format") or "",
        "topics": form.getlist("topics"),
        "funding_line": form.get("funding_line") or "",
        "starts_at": str(form.get("starts_at", "")),
        "ends_at": str(form.get("ends_at", "")),
        "registration_deadline": str(form.get("registration_deadline", "")),
        "online": form.get("online") == "true",
        "venue": str(form.get("venue", "")).strip(),
        "district": form.get("district") or "",
        "capacity": str(form.get("capacity", "")).strip(),
        "description": str(form.get("description", "")).strip(),
        "network_id": form.get("network_id") or "",
        "host_organisation_id": form.get("host_organisation_id") or "",
        "speaker_organisation_ids": form.getlist("speaker_organisation_ids"),
    }


def as_api_body(
    values: dict[str, Any], with_capacity: bool = True
) -> tuple[dict[str, Any], list[InvalidInput]]:
    """The form's values in the API's shape (empty choices left out, local times with their zone), and
    the times that could not be read: those are named together with the other fields' problems."""
    body: dict[str, Any] = {
        "title": values["title"],
        "topics": values["topics"],
        "online": values["online"],
        "venue": values["venue"] or None,
        "district": values["district"] or None,
        "description": values["description"] or None,
        "network_id": values["network_id"] or None,
        "host_organisation_id": values["host_organisation_id"] or None,
        "speaker_organisation_ids": values["speaker_organisation_ids"],
    }
    for name in ("format", "funding_line"):
        if values[name]:
            body[name] = values[name]
    if with_capacity and values["capacity"]:
        body["capacity"] = values["capacity"]
    unreadable = []
    for name in DATETIME_FIELDS:
        try:
            parsed = parse_local(values[name], name)
        except InvalidInput as problem:
            unreadable.append(problem)
            continue
        if parsed is not None:
            body[name] = parsed
    return body, unreadable


def values_of(event: dict[str, Any]) -> dict[str, Any]:
    """A stored event as its edit form shows it."""
    return {
        **event,
        "starts_at": local_input(event["starts_at"]),
        "ends_at": local_input(event["ends_at"]),
        "registration_deadline": local_input(event["registration_deadline"]),
        "venue": event["venue"] or "",
        "district": event["district"] or "",
        "description": event["description"] or "",
        "network_id": event["network_id"] or "",
        "host_organisation_id": event["host_organisation_id"] or "",
        "capacity": str(event["capacity"]),
    }


async def load(runtime: Runtime, event_id: str) -> dict[str, Any]:
    async with read_transaction(runtime.engine) as conn:
        found = await queries.get_event(conn, event_id)
    if found is None:
        raise not_found(event_id)
    return found


async def choices(runtime: Runtime, lang: str) -> dict[str, Any]:
    async with read_transaction(runtime.engine) as conn:
        organisations = await replica.list_organisations(conn)
        networks = await replica.network_names(conn)
    return {
        **{name: options(name, lang) for name in VOCABULARY},
        "organisations": [(o.id, o.name) for o in organisations],
        "networks": list(networks.items()),
    }


async def form_page(
    request: Request,
    runtime: Runtime,
    values: dict[str, Any],
    errors: Errors,
    *,
    event: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return await render(
        request,
        "events/form.html",
        {
            "values": values,
            "errors": errors,
            "event": event,
            "choices": await choices(runtime, current_language(request)),
            "base": BASE,
        },
        status_code=status_code,
    )


def done(request: Request, event_id: str, en: str, de: str) -> RedirectResponse:
    flash(request, "success", en, message_de=de)
    return RedirectResponse(f"{BASE}/{event_id}", status_code=303)


def refused(request: Request, event_id: str, problem: ValidationError | IkmoError) -> RedirectResponse:
    for error in errors_of(problem):
        flash(request, "error", error["message"], message_de=error["message_de"])
    return RedirectResponse(f"{BASE}/{event_id}", status_code=303)


# -- the list ---------------------------------------------------------------------------------------------


@router.get("/", dependencies=[public()])
async def home() -> RedirectResponse:
    """The service's address leads to the list (which asks to sign in when needed)."""
    return RedirectResponse(BASE, status_code=303)


@router.get(BASE, response_class=HTMLResponse)
async def list_page(
    request: Request,
    runtime: RuntimeDep,
    who: Staff,
    status: str = "",
    format: str = "",
    when: str = "upcoming",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    for name, value, allowed, (en, de) in (
        ("status", status, VOCABULARY["status"], ("Status", "Status")),
        ("format", format, VOCABULARY["format"], ("Format", "Format")),
        ("when", when, WHEN, ("When", "Wann")),
    ):
        if value and value not in allowed:  # a hand-edited address: say which filter, as the page names it
            raise InvalidInput(
                f"{value!r} is not a choice of the filter “{en}”.",
                f"{value!r} ist beim Filter „{de}“ keine gültige Auswahl.",
                field=name,
            )
    now = handlers.utc_now()
    where = queries.CalendarFilter(
        status or None, format or None, starts_after=now if when == "upcoming" else None
    )
    async with read_transaction(runtime.engine) as conn:
        items, _ = await queries.list_events(conn, where, limit=10_000)
    if when == "past":
        items = [e for e in items if local(e["ends_at"]) < now]
        items.reverse()  # the most recent first
    lang = current_language(request)
    total = len(items)
    pages = max(1, -(-total // PAGE_SIZE))
    shown_items = [shown(e, lang) for e in items[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]]
    return await render(
        request,
        "events/list.html",
        {
            "items": shown_items,
            "total": total,
            "chosen": {"status": status, "format": format, "when": when or "upcoming"},
            "choices": {name: options(name, lang) for name in VOCABULARY},
            "whens": list(WHEN.items()),
            "label": lambda value: label(value, lang),
            "page": page,
            "pages": pages,
            "may_write": is_via(who),
            "section": "events",
            "base": BASE,
        },
    )


# -- planning ---------------------------------------------------------------------------------------------


@router.get(BASE + "/neu", response_class=HTMLResponse)
async def create_form(request: Request, runtime: RuntimeDep, _: ViaStaff) -> HTMLResponse:
    empty = {
        "title": "",
        "format": "",
        "topics": [],
        "funding_line": "",
        "starts_at": "",
        "ends_at": "",
        "registration_deadline": "",
        "online": False,
        "venue": "",
        "district": "",
        "capacity": "20",
        "description": "",
        "network_id": "",
        "host_organisation_id": "",
        "speaker_organisation_ids": [],
    }
    return await form_page(request, runtime, empty, [])


@router.post(BASE + "/neu", response_model=None)
async def create(request: Request, runtime: RuntimeDep, _: ViaStaff) -> Response:
    values = event_form_values(await request.form())
    try:
        body = validated(EventIn, *as_api_body(values))
        event = await handlers.draft_event(runtime.uow, DraftEvent(body.plan(), body.capacity))
    except (ValidationError, InvalidInput) as problem:
        return await form_page(request, runtime, values, errors_of(problem), status_code=status_of(problem))
    return done(
        request,
        event.id,
        "The event was saved as a draft. Publish it when it is ready.",
        "Die Veranstaltung ist als Entwurf gespeichert. Veröffentlichen Sie sie, wenn sie fertig ist.",
    )


@router.get(BASE + "/benachrichtigungen", response_class=HTMLResponse)
async def notices_page(
    request: Request,
    runtime: RuntimeDep,
    _: ViaStaff,
    event_id: Annotated[str, Query(max_length=36)] = "",
) -> HTMLResponse:
    async with read_transaction(runtime.engine) as conn:
        items = await notices.list_notices(conn, event_id or None)
        event = await queries.get_event(conn, event_id) if event_id else None
        about = await queries.titles(conn, set(await notices.events_with_notices(conn)))
    lang = current_language(request)
    return await render(
        request,
        "events/notices.html",
        {
            "items": [
                # the title from the calendar, as it is now; the subject keeps the one it was sent with
                {**n, "created": moment(n["created_at"], lang), "event_title": about.get(n["event_id"], "")}
                for n in items
            ],
            "event": event,
            "events": sorted(about.items(), key=lambda pair: pair[1].casefold()),
            "kinds": NOTICE_KINDS,
            "statuses": NOTICE_STATUSES,
            "section": "notices",
            "base": BASE,
        },
    )


@router.get(BASE + "/{event_id}", response_class=HTMLResponse)
async def detail_page(request: Request, event_id: str, runtime: RuntimeDep, who: Staff) -> HTMLResponse:
    return await event_page(request, runtime, who, event_id)


async def event_page(
    request: Request,
    runtime: Runtime,
    who: Principal,
    event_id: str,
    *,
    errors: Errors | None = None,
    person: dict[str, Any] | None = None,
    feedback_errors: Errors | None = None,
    paper: dict[str, Any] | None = None,
    cancelling: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The event's page; the registration form, the paper feedback form or the cancellation form on it
    that went wrong comes back here with its errors (the cancellation's as `cancelling["errors"]`)."""
    event = await load(runtime, event_id)
    lang = current_language(request)
    people: list[dict[str, Any]] = []
    said: dict[str, Any] = {"count": 0, "items": []}
    if is_via(who):  # who registered, what they said, and the note on a cancellation are VIA's to see
        async with read_transaction(runtime.engine) as conn:
            [event] = await queries.with_cancellation_notes(conn, [event])
            people = await queries.registrations_of(conn, event_id)
            said = await queries.feedback_of(conn, event_id)
    for item in said["items"]:
        item["given"] = moment(item["given_at"], lang)
    if said["count"]:
        said["average_label"] = format_decimal(said["average"], "0.0", locale=lang)
    participant_said = {i["registration_id"] for i in said["items"] if i["by"] == "participant"}
    for p in people:
        p["registered"] = moment(p["registered_at"], lang)
    return await render(
        request,
        "events/detail.html",
        {
            "event": shown(event, lang),
            "confirmed": [p for p in people if p["status"] == "confirmed"],
            "waitlisted": [p for p in people if p["status"] == "waitlisted"],
            "cancelled": [p for p in people if p["status"] == "cancelled"],
            "label": lambda value: label(value, lang),
            "organisations": (await choices(runtime, lang))["organisations"],
            "person": person or {"name": "", "email": "", "phone": "", "organisation_id": ""},
            "errors": errors or [],
            "feedback": said,
            "ended": local(event["ends_at"]) <= handlers.utc_now(),
            "begun": local(event["starts_at"]) <= handlers.utc_now(),
            "feedback_errors": feedback_errors or [],
            "paper": paper or {"registration_id": "", "rating": "", "comment": ""},
            "paper_people": [
                (p["id"], p["name"])
                for p in people
                if p["attended"] and not p["erased"] and p["id"] not in participant_said
            ],
            "ratings": RATINGS,
            "cancelling": cancelling or {"reason": "", "note": "", "errors": []},
            "cancellation_reasons": options("cancellation_reason", lang),
            "may_write": is_via(who),
            "base": BASE,
        },
        status_code=status_code,
    )


@router.get(BASE + "/{event_id}/bearbeiten", response_class=HTMLResponse)
async def edit_form(request: Request, event_id: str, runtime: RuntimeDep, _: ViaStaff) -> HTMLResponse:
    event = await load(runtime, event_id)
    return await form_page(request, runtime, values_of(event), [], event=event)


@router.post(BASE + "/{event_id}/bearbeiten", response_model=None)
async def edit(request: Request, event_id: str, runtime: RuntimeDep, _: ViaStaff) -> Response:
    event = await load(runtime, event_id)
    form = await request.form()
    values = event_form_values(form)
    try:
        patch, unreadable = as_api_body(values, with_capacity=False)
        shown_before = values_of(event)
        for name in DATETIME_FIELDS:  # as the form showed it (to the minute): not changed, whatever the
            if values[name] == shown_before[name]:  # seconds of a time entered through the API
                patch.pop(name, None)
        body = validated(EventPatch, patch, unreadable)
        await handlers.change_details(
            runtime.uow, ChangeEventDetails(event_id, body.changes(), version_of(form)), links(runtime)
        )
    except (ValidationError, InvalidInput, ConcurrencyError, DomainRuleViolation) as problem:
        values = {**values, "capacity": str(event["capacity"]), "version": form.get("version")}
        return await form_page(
            request, runtime, values, errors_of(problem), event=event, status_code=status_of(problem)
        )
    return done(request, event_id, "The event was saved.", "Die Veranstaltung wurde gespeichert.")


# -- its steps --------------------------------------------------------------------------------------------


@router.post(BASE + "/{event_id}/veroeffentlichen", response_model=None)
async def publish(request: Request, event_id: str, runtime: RuntimeDep, _: ViaStaff) -> Response:
    form = await request.form()
    try:
        await handlers.event_step(runtime.uow, event_id, Event.publish, links(runtime), version_of(form))
    except (ConcurrencyError, DomainRuleViolation) as problem:
        return refused(request, event_id, problem)
    return done(
        request,
        event_id,
        "The event is published: it is in the public calendar and open for registration.",
        "Die Veranstaltung ist veröffentlicht: Sie steht im öffentlichen Kalender, Anmeldungen sind möglich.",
    )


@router.post(BASE + "/{event_id}/absagen", response_model=None)
async def cancel(request: Request, event_id: str, runtime: RuntimeDep, who: ViaStaff) -> Response:
    """A category everyone is told, and a note for the team; a refused one comes back as it was typed."""
    form = await request.form()
    typed: dict[str, Any] = {"reason": str(form.get("reason", "")), "note": str(form.get("note", ""))}
    try:
        chosen = {"reason": typed["reason"]} if typed["reason"] else {}  # none chosen: "required"
        body = CancelIn.model_validate({**chosen, "note": typed["note"] or None})
        event = await handlers.event_step(
            runtime.uow,
            event_id,
            lambda e: e.cancel(body.reason, body.note),
            links(runtime),
            version_of(form),
        )
    except (ValidationError, InvalidInput) as problem:
        status, typed["errors"] = status_of(problem), errors_of(problem)
        return await event_page(request, runtime, who, event_id, cancelling=typed, status_code=status)
    except (ConcurrencyError, DomainRuleViolation) as problem:
        return refused(request, event_id, problem)
    wake_dispatcher(request)
    told = sum(1 for r in event.registrations.values() if r.active)
    return done(
        request,
        event_id,
        f"The event is cancelled; {told} registered people are told.",
        f"Die Veranstaltung ist abgesagt; {told} angemeldete Personen werden benachrichtigt.",
    )


@router.post(BASE + "/{event_id}/abschliessen", response_model=None)
async def complete(request: Request, event_id: str, runtime: RuntimeDep, _: ViaStaff) -> Response:
    form = await request.form()
    now = handlers.utc_now()
    try:
        await handlers.event_step(
            runtime.uow, event_id, lambda e: e.complete(now), links(runtime), version_of(form)
        )
    except (ConcurrencyError, DomainRuleViolation) as problem:
        return refused(request, event_id, problem)
    return done(
        request, event_id, "The event is marked as taken place.", "Die Veranstaltung ist abgeschlossen."
    )


@router.post(BASE + "/{event_id}/plaetze", response_model=None)
async def capacity(request: Request, event_id: str, runtime: RuntimeDep, _: ViaStaff) -> Response:
    form = await request.form()
    try:
        body = CapacityIn.model_validate({"capacity": str(form.get("capacity", "")).strip() or None})
        event = await handlers.change_capacity(
            runtime.uow, ChangeCapacity(event_id, body.capacity), links(runtime)
        )
    except (ValidationError, InvalidInput, ConcurrencyError, DomainRuleViolation) as problem:
        return refused(request, event_id, problem)
    wake_dispatcher(request)
    return done(
        request,
        event_id,
        f"The event now has {event.capacity} places.",
        f"Die Veranstaltung hat jetzt {event.capacity} Plätze.",
    )


@router.post(BASE + "/{event_id}/anmeldungen", response_model=None)
async def register(request: Request, event_id: str, runtime: RuntimeDep, who: ViaStaff) -> Response:
    """Staff register someone (by phone, on the day): the deadline does not stop them."""
    form = await request.form()
    person = {
        "name": str(form.get("name", "")).strip(),
        "email": str(form.get("email", "")).strip(),
        "phone": str(form.get("phone", "")).strip() or None,
        "organisation_id": str(form.get("organisation_id", "")).strip() or None,
    }
    try:
        body = RegistrationIn.model_validate(person)
        result = await register_person(runtime, request, event_id, body, late=True)
    except (ValidationError, InvalidInput, DomainRuleViolation) as problem:
        return await event_page(
            request,
            runtime,
            who,
            event_id,
            errors=errors_of(problem),
            person=person,
            status_code=status_of(problem),
        )
    if result["status"] == "confirmed":
        return done(  # no name: the flash cookie carries no personal data
            request,
            event_id,
            "The registration is recorded; the place is confirmed.",
            "Die Anmeldung ist erfasst; der Platz ist bestätigt.",
        )
    n = result["waitlist_position"]
    return done(
        request,
        event_id,
        f"The event is full: the registration is number {n} on the waitlist.",
        f"Die Veranstaltung ist voll: Die Anmeldung steht auf Platz {n} der Warteliste.",
    )


@router.post(BASE + "/{event_id}/anmeldungen/{registration_id}/stornieren", response_model=None)
async def cancel_registration(
    request: Request, event_id: str, registration_id: str, runtime: RuntimeDep, _: ViaStaff
) -> Response:
    try:
        _event, changed = await handlers.cancel_registration(
            runtime.uow, event_id, registration_id, CancelledBy.STAFF, links(runtime)
        )
    except DomainRuleViolation as problem:
        return refused(request, event_id, problem)
    wake_dispatcher(request)
    if not changed:
        return done(request, event_id, "Nothing to cancel.", "Hier war nichts mehr zu stornieren.")
    return done(
        request,
        event_id,
        "The registration is cancelled; if someone was waiting, they moved up.",
        "Die Anmeldung ist storniert; wer auf der Warteliste stand, ist nachgerückt.",
    )


CORRECTION_FIELDS = ("name", "email", "phone", "organisation_id")


async def correction_page(
    request: Request,
    runtime: Runtime,
    event_id: str,
    registration_id: str,
    values: dict[str, Any] | None = None,
    errors: Errors | None = None,
    status_code: int = 200,
) -> Response:
    """The form with the registration's current details (or what was typed, beside its errors)."""
    event = await load(runtime, event_id)
    registration = await read_registration(runtime, event_id, registration_id)
    if registration["erased"]:
        return refused(request, event_id, erased_not_corrected())
    lang = current_language(request)
    organisations = (await choices(runtime, lang))["organisations"]
    current = registration["organisation_id"]
    if current and current not in {key for key, _name in organisations}:  # archived since: still theirs
        organisations.append((current, registration["organisation_name"] or current))
    shown_values = values or {
        **{key: registration[key] or "" for key in CORRECTION_FIELDS},
        "version": str(event["version"]),  # what the form was opened at: a later save must not undo a change
    }
    return await render(
        request,
        "events/correction.html",
        {
            "event": shown(event, lang),
            "registration": registration,
            "values": shown_values,
            "errors": errors or [],
            "organisations": organisations,
            "base": BASE,
        },
        status_code=status_code,
    )


@router.get(BASE + "/{event_id}/anmeldungen/{registration_id}/korrigieren", response_model=None)
async def correction_form(
    request: Request, event_id: str, registration_id: str, runtime: RuntimeDep, _: ViaStaff
) -> Response:
    return await correction_page(request, runtime, event_id, registration_id)


@router.post(BASE + "/{event_id}/anmeldungen/{registration_id}/korrigieren", response_model=None)
async def correct_registration(
    request: Request, event_id: str, registration_id: str, runtime: RuntimeDep, _: ViaStaff
) -> Response:
    """Every field of the form is sent: an emptied phone or organisation is removed. The form carries
    the event's version it was opened at: if the event moved on since (another correction, say), the
    save is refused with a 409 and what was typed is shown again."""
    form = await request.form()
    values = {key: str(form.get(key, "")).strip() for key in CORRECTION_FIELDS}
    try:
        body = RegistrationPatch.model_validate(
            {**values, "phone": values["phone"] or None, "organisation_id": values["organisation_id"] or None}
        )
        event, changed = await correct_person(
            runtime, request, event_id, registration_id, body, version_of(form)
        )
    except (ValidationError, InvalidInput, ConcurrencyError, DomainRuleViolation) as problem:
        values = {**values, "version": str(form.get("version", ""))}
        errors = errors_of(problem)
        if isinstance(problem, AlreadyRegistered):  # the address is what to change
            errors = [{**error, "field": "email"} for error in errors]
        return await correction_page(
            request, runtime, event_id, registration_id, values, errors, status_of(problem)
        )
    if not changed:
        return done(request, event_id, "Nothing was changed.", "Es wurde nichts geändert.")
    told = (
        "email" in changed
        and event.status == EventStatus.PUBLISHED
        and event.registrations[registration_id].active
    )
    if told:
        return done(
            request,
            event_id,
            "The details are corrected; the new e-mail address is sent the confirmation again.",
            "Die Angaben sind korrigiert; an die neue E-Mail-Adresse geht die Bestätigung noch einmal.",
        )
    return done(request, event_id, "The details are corrected.", "Die Angaben sind korrigiert.")


@router.post(BASE + "/{event_id}/anmeldungen/{registration_id}/loeschen", response_model=None)
async def erase_registration(
    request: Request, event_id: str, registration_id: str, runtime: RuntimeDep, _: ViaStaff
) -> Response:
    await handlers.erase_registration(runtime.uow, event_id, registration_id, links(runtime))
    await scrub_after_erasure(runtime.engine)
    wake_dispatcher(request)
    return done(
        request,
        event_id,
        "The person's data is erased everywhere; the registration still counts.",
        "Die Daten der Person sind überall gelöscht; die Anmeldung zählt weiter mit.",
    )


# -- check-in at the door (Einlass) -----------------------------------------------------------------------


def checkin_opens(event: dict[str, Any]) -> str | None:
    """The day check-in opens, as a page says it; None once it is open (or the event is not on)."""
    start = local(event["starts_at"]).date()
    return start.strftime("%d.%m.%Y") if local(handlers.utc_now()).date() < start else None


@router.get(BASE + "/{event_id}/einlass", response_class=HTMLResponse)
async def checkin_page(request: Request, event_id: str, runtime: RuntimeDep, _: ViaStaff) -> HTMLResponse:
    """The list at the door, made for a phone: everyone with a place, by name, one tap to check in. With
    JavaScript the name filter works in the browser while typing and sends nothing."""
    return await checkin_list(request, runtime, event_id, "")


@router.post(BASE + "/{event_id}/einlass", response_class=HTMLResponse)
async def checkin_search(request: Request, event_id: str, runtime: RuntimeDep, _: ViaStaff) -> HTMLResponse:
    """The name filter without JavaScript: posted, so no name lands in a URL, a proxy's log or the history."""
    q = str((await request.form()).get("q", ""))[:200]
    return await checkin_list(request, runtime, event_id, q)


async def checkin_list(request: Request, runtime: Runtime, event_id: str, q: str) -> HTMLResponse:
    event = await load(runtime, event_id)
    begun = local(event["starts_at"]) <= handlers.utc_now()
    # once the event has begun, who waited and came takes a free place at the door: they are listed too
    wanted_status = {"confirmed", "waitlisted"} if begun else {"confirmed"}
    async with read_transaction(runtime.engine) as conn:
        people = [p for p in await queries.registrations_of(conn, event_id) if p["status"] in wanted_status]
    people.sort(key=lambda p: (p["status"] != "confirmed", p["name"].casefold(), p["id"]))
    wanted = " ".join(q.split()).casefold()
    lang = current_language(request)
    day = local(event["starts_at"]).date()
    for p in people:
        at = local(p["attended_at"]) if p["attended_at"] else None
        p["since"] = "" if at is None else at.strftime("%H:%M") if at.date() == day else moment(at, lang)
        p["hidden"] = bool(wanted) and wanted not in p["name"].casefold()
    return await render(
        request,
        "events/checkin.html",
        {
            "event": shown(event, lang),
            "people": people,
            "present": sum(1 for p in people if p["attended"]),
            "confirmed": sum(1 for p in people if p["status"] == "confirmed"),
            "free_places": event["free_places"],
            "q": q,
            "opens": checkin_opens(event),
            "open": event["status"] in ("published", "completed"),
            "base": BASE,
        },
    )


async def checkin_step(
    request: Request, event_id: str, registration_id: str, runtime: Runtime, undo: bool
) -> Response:
    try:
        if undo:
            event, changed = await handlers.undo_check_in(runtime.uow, event_id, registration_id)
        else:
            event, changed = await handlers.check_in(runtime.uow, event_id, registration_id)
    except DomainRuleViolation as problem:
        flash(request, "error", problem.message_en, message_de=problem.message_de)
        return RedirectResponse(f"{BASE}/{event_id}/einlass", status_code=303)
    counts_en = f"{len(event.attendees)} of {len(event.confirmed)} present"
    counts_de = f"{len(event.attendees)} von {len(event.confirmed)} anwesend"
    if undo:
        en, de = "The check-in is undone", "Der Einlass ist zurückgenommen"
    elif changed:
        en, de = "Checked in", "Eingelassen"
    else:
        en, de = "Checked in already", "War schon eingelassen"
    # no name in the flash cookie (it carries no personal data): the anchor leads to the person's row
    flash(request, "success", f"{en} ({counts_en}).", message_de=f"{de} ({counts_de}).")
    return RedirectResponse(f"{BASE}/{event_id}/einlass#r-{registration_id}", status_code=303)


@router.post(BASE + "/{event_id}/einlass/{registration_id}", response_model=None)
async def check_in(
    request: Request, event_id: str, registration_id: str, runtime: RuntimeDep, _: ViaStaff
) -> Response:
    return await checkin_step(request, event_id, registration_id, runtime, undo=False)


@router.post(BASE + "/{event_id}/einlass/{registration_id}/zuruecknehmen", response_model=None)
async def undo_check_in(
    request: Request, event_id: str, registration_id: str, runtime: RuntimeDep, _: ViaStaff
) -> Response:
    return await checkin_step(request, event_id, registration_id, runtime, undo=True)


# -- feedback from paper forms ------------------------------------------------------------------------------


@router.post(BASE + "/{event_id}/rueckmeldungen", response_model=None)
async def paper_feedback(request: Request, event_id: str, runtime: RuntimeDep, who: ViaStaff) -> Response:
    """VIA types in a feedback form filled in on paper at the event."""
    form = await request.form()
    paper = {
        "registration_id": str(form.get("registration_id", "")).strip(),
        "rating": str(form.get("rating", "")).strip(),
        "comment": str(form.get("comment", "")).strip(),
    }
    try:
        if not paper["registration_id"]:
            raise InvalidInput(
                "Choose whose form it is.", "Bitte wählen, von wem der Bogen ist.", field="registration_id"
            )
        body = FeedbackIn.from_form(paper)
        result = await record_feedback(runtime, event_id, paper["registration_id"], body, FeedbackBy.STAFF)
    except (ValidationError, InvalidInput, DomainRuleViolation, NotFound) as problem:
        return await event_page(
            request,
            runtime,
            who,
            event_id,
            feedback_errors=errors_of(problem),
            paper=paper,
            status_code=status_of(problem),
        )
    if not result["changed"]:
        return done(
            request, event_id, "This feedback was entered already.", "Diese Rückmeldung war schon erfasst."
        )
    return done(
        request, event_id, "The feedback is entered. Thank you!", "Die Rückmeldung ist erfasst. Danke!"
    )
