"""The public side of VIA's calendar: the calendar page, its iCal feed, registration, and the personal
cancellation link. No sign-in; every route is rate limited per client address.

What was never published does not exist here (404). The registration form offers only organisations that
consented to a public profile; the personal link's page says no more than its holder already knows, and
sends no Referer, so the link does not travel on.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from services.events import handlers, ical, notices, queries, replica
from services.events.domain.commands import Register
from services.events.domain.model import token_hash, valid_person
from services.events.entrypoints.api import (
    FeedbackIn,
    PublicRegistrationIn,
    certificate_response,
    links,
    record_feedback,
    register_or_remind,
    wake_dispatcher,
)
from services.events.entrypoints.forms import options, shown
from services.events.entrypoints.pages import RATINGS
from services.events.labels import VOCABULARY, label, local
from shared.auth.access import public
from shared.contracts.events import FeedbackBy
from shared.db import read_transaction
from shared.errors import DomainRuleViolation, InvalidInput, NotFound
from shared.service import Runtime, RuntimeDep
from shared.web.flash import flash
from shared.web.forms import errors_of, status_of, validated
from shared.web.i18n import N_, translations
from shared.web.ratelimit import RateLimiter
from shared.web.templating import current_language, render

router = APIRouter(tags=["public"], include_in_schema=False)
PUBLIC = "/oeffentlich/veranstaltungen"
LINK = "/oeffentlich/anmeldung"
# One limit per kind of use, each per client address, so that reading the calendar uses up no registrations
# and the other way round. An address may be a whole office or a shared Wi-Fi, hence generous numbers.
# Reading (calendar, event page, iCal feed): 120 a minute is plenty for people and calendar apps polling
# the feed, a brake for scrapers.
VIEW_LIMIT = RateLimiter(120, 60.0)
# Registering (the form's POST, errors included): 20 in ten minutes lets someone sign up a group or fix a
# form a few times; a bot filling the list with made-up names stops quickly.
REGISTER_LIMIT = RateLimiter(20, 600.0)
# The personal link (its page, cancelling, feedback): 30 in ten minutes covers a mail program's preview,
# a few looks and a post or two; guessing links (long random secrets anyway) gets no speed.
LINK_LIMIT = RateLimiter(30, 600.0)
# The certificate PDF: rendering it is the costly path; one person needs it once or twice, so 10 in ten
# minutes leaves room for re-downloads and none for hammering the renderer.
PDF_LIMIT = RateLimiter(10, 600.0)
LIMITS = (VIEW_LIMIT, REGISTER_LIMIT, LINK_LIMIT, PDF_LIMIT)  # all of them, for tests to reset
NO_REFERRER = {"Referrer-Policy": "no-referrer"}
CONTACT = {"phone": notices.CONTACT_PHONE, "email": notices.CONTACT_EMAIL}  # on the pages people read


async def public_event(runtime: Runtime, event_id: str) -> dict[str, Any]:
    async with read_transaction(runtime.engine) as conn:
        found = await queries.get_event(conn, event_id, public_only=True)
    if found is None:
        raise NotFound(f"Event {event_id} does not exist", "Diese Veranstaltung gibt es nicht")
    return found


async def public_organisations(runtime: Runtime) -> list[tuple[str, str]]:
    async with read_transaction(runtime.engine) as conn:
        found = await replica.list_organisations(conn, public_only=True)
    return [(o.id, o.name) for o in found]


@router.get(PUBLIC, response_class=HTMLResponse, dependencies=[public(VIEW_LIMIT)])
async def calendar_page(
    request: Request, runtime: RuntimeDep, format: str = "", topic: str = ""
) -> HTMLResponse:
    lang = current_language(request)
    where = queries.CalendarFilter(
        format=format if format in VOCABULARY["format"] else None,
        topic=topic if topic in VOCABULARY["topic"] else None,
        starts_after=handlers.utc_now(),
        public_only=True,
    )
    async with read_transaction(runtime.engine) as conn:
        items, _ = await queries.list_events(conn, where, limit=500)
    months: dict[str, list[dict[str, Any]]] = {}
    for event in items:
        item = shown(event, lang)
        months.setdefault(item["month"], []).append(item)
    return await render(
        request,
        "events/public_calendar.html",
        {
            "months": months,
            "chosen": {"format": where.format or "", "topic": where.topic or ""},
            "formats": options("format", lang),
            "topics": options("topic", lang),
            "public": PUBLIC,
            "show_login_link": False,
        },
    )


@router.get(PUBLIC + ".ics", dependencies=[public(VIEW_LIMIT)])
async def calendar_feed(request: Request, runtime: RuntimeDep) -> Response:
    """Every published event (cancelled ones marked so), for calendar apps and other websites."""
    async with read_transaction(runtime.engine) as conn:
        items, _ = await queries.list_events(conn, queries.CalendarFilter(public_only=True), limit=10_000)
    base = links(runtime).public_url.rstrip("/")
    body = ical.calendar(items, lambda e: f"{base}{PUBLIC}/{e['id']}", current_language(request))
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": 'inline; filename="via-veranstaltungen.ics"'},
    )


# What the person agrees to; recorded word for word, in the language the form was shown in, with the
# registration (GDPR Art. 7(1): VIA must be able to show the consent)
CONSENT = N_(
    "I agree that VIA processes my data to organise this event and deletes it afterwards on request."
)


def consent_text(request: Request, runtime: Runtime) -> str:
    own = runtime.definition.locale_dir
    return translations(current_language(request), (own,) if own else ()).gettext(CONSENT)


async def event_page(
    request: Request,
    runtime: Runtime,
    event: dict[str, Any],
    values: dict[str, Any] | None = None,
    errors: list[dict[str, str]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    lang = current_language(request)
    return await render(
        request,
        "events/public_event.html",
        {
            "event": shown(event, lang),
            "organisations": await public_organisations(runtime),
            "values": values
            or {"name": "", "email": "", "phone": "", "organisation_id": "", "privacy_consent": False},
            "errors": errors or [],
            "public": PUBLIC,
            "consent": consent_text(request, runtime),
            "contact": CONTACT,
            "show_login_link": False,
        },
        status_code=status_code,
    )


@router.get(PUBLIC + "/{event_id}", response_class=HTMLResponse, dependencies=[public(VIEW_LIMIT)])
async def public_event_page(request: Request, event_id: str, runtime: RuntimeDep) -> HTMLResponse:
    return await event_page(request, runtime, await public_event(runtime, event_id))


def registration_values(form: FormData) -> dict[str, Any]:
    return {
        "name": str(form.get("name", "")).strip(),
        "email": str(form.get("email", "")).strip(),
        "phone": str(form.get("phone", "")).strip() or None,
        "organisation_id": str(form.get("organisation_id", "")).strip() or None,
        "privacy_consent": form.get("privacy_consent") == "true",
    }


async def checked_form(runtime: Runtime, event_id: str, values: dict[str, Any]) -> PublicRegistrationIn:
    """The form in one round: every field at fault, the consent and the organisation named together (the
    domain checks the person again when it decides; here it only answers sooner and all at once)."""
    problems: list[InvalidInput] = []
    try:  # the domain's words first: "Bitte geben Sie Ihren Namen an" says more than "zu kurz"
        valid_person(Register(event_id, values["name"], values["email"], phone=values["phone"]))
    except InvalidInput as person:
        problems += person.each
    if not values["privacy_consent"]:
        problems.append(
            InvalidInput(
                "Please agree to the processing of your data for this event.",
                "Bitte stimmen Sie der Verarbeitung Ihrer Daten für diese Veranstaltung zu.",
                field="privacy_consent",
            )
        )
    if values["organisation_id"] and values["organisation_id"] not in dict(
        await public_organisations(runtime)
    ):
        problems.append(
            InvalidInput(
                "Choose your organisation from the list (or none).",
                "Bitte wählen Sie Ihre Organisation aus der Liste (oder keine).",
                field="organisation_id",
            )
        )
    return validated(PublicRegistrationIn, values, problems)


@router.post(PUBLIC + "/{event_id}", response_model=None, dependencies=[public(REGISTER_LIMIT)])
async def register_publicly(request: Request, event_id: str, runtime: RuntimeDep) -> Response:
    event = await public_event(runtime, event_id)
    values = registration_values(await request.form())
    try:
        body = await checked_form(runtime, event_id, values)
        await register_or_remind(runtime, request, event_id, body, consent_text(request, runtime))
    except (InvalidInput, DomainRuleViolation) as problem:
        fresh = await public_event(runtime, event_id)
        return await event_page(request, runtime, fresh, values, errors_of(problem), status_of(problem))
    # the same words whether the place is confirmed, on the waitlist or was registered before: the page
    # must not tell a stranger typing someone's address whether that person comes; the e-mail tells them
    flash(
        request,
        "success",
        "Thank you! We have sent you an e-mail saying whether your place is confirmed or you are on the "
        "waitlist, with the link to cancel. No e-mail within a few minutes? Please look in your spam folder.",
        message_de="Vielen Dank! Wir haben Ihnen eine E-Mail geschickt: Darin steht, ob Ihr Platz bestätigt "
        "ist oder Sie auf der Warteliste stehen, und der Link zum Stornieren. Keine E-Mail in den nächsten "
        "Minuten? Bitte sehen Sie auch im Spam-Ordner nach.",
    )
    return RedirectResponse(f"{PUBLIC}/{event['id']}", status_code=303)


async def link_page(
    request: Request,
    runtime: Runtime,
    token: str,
    status_code: int = 200,
    values: dict[str, Any] | None = None,
    errors: list[dict[str, str]] | None = None,
) -> HTMLResponse:
    """The registration behind a link; for who came, after the event, the feedback form (with what they
    said before, or what they just typed and its errors)."""
    async with read_transaction(runtime.engine) as conn:
        registration = await queries.registration_by_token(conn, token_hash(token))
        event = await queries.get_event(conn, registration["event_id"]) if registration else None
        own = await queries.feedback_by(conn, registration["id"]) if registration else None
    if registration is None or event is None:
        raise handlers.unknown_link()
    lang = current_language(request)
    return await render(
        request,
        "events/public_link.html",
        {
            "event": shown(event, lang),
            "registration": registration,
            "status_label": label(registration["status"], lang) if registration["status"] else "",
            "action": f"{LINK}/{token}",
            "begun": local(event["starts_at"]) <= handlers.utc_now(),
            "ended": local(event["ends_at"]) <= handlers.utc_now(),
            "own_feedback": own,
            "values": values or own or {"rating": "", "comment": ""},
            "errors": errors or [],
            "ratings": RATINGS,
            "public": PUBLIC,
            "contact": CONTACT,
            "show_login_link": False,
        },
        status_code=status_code,
        headers=NO_REFERRER,
    )


@router.get(LINK + "/{token}", response_class=HTMLResponse, dependencies=[public(LINK_LIMIT)])
async def personal_link(request: Request, token: str, runtime: RuntimeDep) -> HTMLResponse:
    """Looking does nothing: a mail program that opens the link to preview it cancels nothing."""
    return await link_page(request, runtime, token)


@router.post(LINK + "/{token}", response_model=None, dependencies=[public(LINK_LIMIT)])
async def cancel_by_link(request: Request, token: str, runtime: RuntimeDep) -> Response:
    try:
        _event, _registration, changed = await handlers.cancel_by_token(runtime.uow, token, links(runtime))
    except DomainRuleViolation as problem:
        flash(request, "error", problem.message_en, message_de=problem.message_de)
        return RedirectResponse(f"{LINK}/{token}", status_code=303, headers=NO_REFERRER)
    wake_dispatcher(request)
    if changed:
        flash(
            request,
            "success",
            "Your registration is cancelled. Thank you for letting us know.",
            message_de="Ihre Anmeldung ist storniert. Danke, dass Sie Bescheid gegeben haben.",
        )
    return RedirectResponse(f"{LINK}/{token}", status_code=303, headers=NO_REFERRER)


async def registration_of_link(runtime: Runtime, token: str) -> dict[str, Any]:
    """The registration a personal link stands for, or the 404 that says nothing more."""
    async with read_transaction(runtime.engine) as conn:
        registration = await queries.registration_by_token(conn, token_hash(token))
    if registration is None:
        raise handlers.unknown_link()
    return registration


@router.get(LINK + "/{token}/teilnahmebescheinigung.pdf", dependencies=[public(PDF_LIMIT)])
async def certificate_by_link(request: Request, token: str, runtime: RuntimeDep) -> Response:
    """Whoever attended downloads their certificate through their personal link."""
    registration = await registration_of_link(runtime, token)
    return await certificate_response(
        runtime, request, registration["event_id"], registration["id"], headers=NO_REFERRER
    )


@router.post(LINK + "/{token}/rueckmeldung", response_model=None, dependencies=[public(LINK_LIMIT)])
async def feedback_by_link(request: Request, token: str, runtime: RuntimeDep) -> Response:
    """Feedback from who came, after the event; a second one replaces the first."""
    registration = await registration_of_link(runtime, token)
    form = await request.form()
    values = {"rating": str(form.get("rating", "")).strip(), "comment": str(form.get("comment", "")).strip()}
    try:
        body = FeedbackIn.from_form(values)
        await record_feedback(
            runtime, registration["event_id"], registration["id"], body, FeedbackBy.PARTICIPANT
        )
    except (ValidationError, InvalidInput, DomainRuleViolation) as problem:
        return await link_page(request, runtime, token, status_of(problem), values, errors_of(problem))
    flash(
        request,
        "success",
        "Thank you for your feedback!",
        message_de="Vielen Dank für Ihre Rückmeldung!",
    )
    return RedirectResponse(f"{LINK}/{token}", status_code=303, headers=NO_REFERRER)
