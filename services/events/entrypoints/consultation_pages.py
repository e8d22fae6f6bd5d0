"""Staff pages of advice (Beratung) and process accompaniment (Prozessbegleitung): the list of sessions with
filters, the form to record or correct a session, a session's page, the accompaniments, and an accompaniment
with its sessions in order, its hours and the form to close it.

Forms are read into the API's input models and handed to the same handlers, so a page accepts exactly what
the API accepts and shows the API's messages beside their fields. Partners' staff may read the sessions;
only VIA records them and sees who was advised and the minutes.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from babel.dates import format_date
from babel.numbers import format_decimal
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from services.events import consultation_handlers, consultation_queries, replica
from services.events.domain.consultation import ADVICE_TOPICS
from services.events.domain.consultation_commands import (
    CloseAccompaniment,
    CorrectConsultation,
    OpenAccompaniment,
)
from services.events.entrypoints.api import Staff, ViaStaff, is_via
from services.events.entrypoints.consultation_api import (
    AccompanimentIn,
    CloseIn,
    ConsultationIn,
    ConsultationPatch,
    accompaniment_not_found,
    consultation_not_found,
    read_notes,
    record,
)
from services.events.entrypoints.forms import options
from services.events.labels import label
from shared.auth.principal import Principal
from shared.db import read_transaction
from shared.errors import ConcurrencyError, DomainRuleViolation, InvalidInput
from shared.service import Runtime, RuntimeDep
from shared.vault import scrub_after_erasure
from shared.web.flash import flash
from shared.web.forms import Errors, errors_of, status_of, version_of
from shared.web.templating import current_language, render

router = APIRouter(tags=["pages"], include_in_schema=False)
ADVICE = "/veranstaltungen/beratungen"
ACCOMPANIMENTS = "/veranstaltungen/prozessbegleitungen"
PROBLEMS = (ValidationError, InvalidInput, DomainRuleViolation, ConcurrencyError)
PAGE_SIZE = 50


def day(value: date | None, lang: str) -> str:
    if value is None:
        return ""
    return format_date(value, "dd.MM.y" if lang == "de" else "d MMM y", locale=lang)


def hours(minutes: int, lang: str) -> str:
    """150 minutes read as "2,5" in German and "2.5" in English."""
    return format_decimal(round(minutes / 60, 2), locale=lang)


def topic_options(lang: str) -> list[tuple[str, str]]:
    """The advice catalogue's topics, in its order, in the page's language."""
    return [(str(t), label(t, lang)) for t in ADVICE_TOPICS]


def shown(item: dict[str, Any], lang: str) -> dict[str, Any]:
    """A session with what a page prints: labels, the day in the page's language."""
    return {
        **item,
        "day": day(item["held_on"], lang),
        "topic_labels": [label(t, lang) for t in item["topics"]],
        "format_label": label(item["format"], lang),
        "funding_label": label(item["funding_line"], lang),
    }


def _text(form: FormData, name: str) -> str:
    return str(form.get(name, "")).strip()


def _date_or_none(raw: str, field: str) -> date | None:
    """A day from a filter or an `<input type=date>`; what cannot be read is said beside its field."""
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(
            "Give a day such as 2026-11-20.", "Bitte einen Tag angeben, z. B. 20.11.2026.", field=field
        ) from None


async def organisation_choices(runtime: Runtime) -> list[tuple[str, str]]:
    async with read_transaction(runtime.engine) as conn:
        return [(o.id, o.name) for o in await replica.list_organisations(conn)]


# -- the sessions -------------------------------------------------------------------------------------------


@router.get(ADVICE, response_class=HTMLResponse)
async def list_page(
    request: Request,
    runtime: RuntimeDep,
    who: Staff,
    organisation_id: Annotated[str, Query(max_length=36)] = "",
    topic: str = "",
    format: str = "",
    held_from: str = "",
    held_until: str = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    lang = current_language(request)
    errors: Errors = []
    period: dict[str, date | None] = {}
    for name, raw in (("held_from", held_from), ("held_until", held_until)):
        try:
            period[name] = _date_or_none(raw, name)
        except InvalidInput as problem:
            errors += errors_of(problem)
            period[name] = None
    chosen = (
        organisation_id or None,
        topic if topic in {str(t) for t in ADVICE_TOPICS} else None,
        format if format in {v for v, _ in options("consultation_format", lang)} else None,
    )
    try:
        where = consultation_queries.ConsultationFilter(*chosen, period["held_from"], period["held_until"])
    except InvalidInput as problem:  # a reversed period: said beside "Bis", the list shown without it
        errors += errors_of(problem)
        where = consultation_queries.ConsultationFilter(*chosen)
    async with read_transaction(runtime.engine) as conn:
        every, total = await consultation_queries.list_consultations(conn, where, limit=10**9)
    pages = max(1, -(-total // PAGE_SIZE))
    return await render(
        request,
        "events/consultations.html",
        {
            "items": [shown(i, lang) for i in every[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]],
            "total": total,
            "hours": hours(sum(i["duration_minutes"] for i in every), lang),
            "chosen": {
                "organisation_id": organisation_id,
                "topic": topic,
                "format": format,
                "held_from": held_from,
                "held_until": held_until,
            },
            "errors": errors,
            "organisations": await organisation_choices(runtime),
            "topics": topic_options(lang),
            "formats": options("consultation_format", lang),
            "page": page,
            "pages": pages,
            "may_write": is_via(who),
            "section": "advice",
            "base": "/veranstaltungen",
            "advice": ADVICE,
            "accompaniments": ACCOMPANIMENTS,
        },
        status_code=422 if errors else 200,
    )


def form_values(form: FormData) -> dict[str, Any]:
    """What the person typed, as the page shows it again."""
    return {
        "organisation_id": _text(form, "organisation_id"),
        "accompaniment_id": _text(form, "accompaniment_id"),
        "topics": form.getlist("topics"),
        "held_on": _text(form, "held_on"),
        "duration_minutes": _text(form, "duration_minutes"),
        "format": _text(form, "format"),
        "funding_line": _text(form, "funding_line") or "senate_ikmo",
        "person_advised": _text(form, "person_advised"),
        "minutes": str(form.get("minutes", "")).strip(),
        "version": _text(form, "version"),
    }


def api_body(values: dict[str, Any], with_accompaniment: bool = True) -> dict[str, Any]:
    """The form's values in the API's shape: empty choices left out, so the API names what is missing."""
    body: dict[str, Any] = {
        "topics": values["topics"],
        "person_advised": values["person_advised"] or None,
        "minutes": values["minutes"] or None,
    }
    for name in ("organisation_id", "held_on", "duration_minutes", "format", "funding_line"):
        if values[name]:
            body[name] = values[name]
    if with_accompaniment and values["accompaniment_id"]:
        body["accompaniment_id"] = values["accompaniment_id"]
    return body


async def form_page(
    request: Request,
    runtime: Runtime,
    values: dict[str, Any],
    errors: Errors,
    *,
    consultation: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    lang = current_language(request)
    accompaniment = None
    accompaniment_id = values.get("accompaniment_id") or (consultation or {}).get("accompaniment_id")
    if accompaniment_id:
        async with read_transaction(runtime.engine) as conn:
            accompaniment = await consultation_queries.get_accompaniment(conn, accompaniment_id)
    return await render(
        request,
        "events/consultation_form.html",
        {
            "values": values,
            "errors": errors,
            "consultation": consultation,
            "accompaniment": accompaniment,
            "organisations": await organisation_choices(runtime),
            "topics": topic_options(lang),
            "formats": options("consultation_format", lang),
            "funding_lines": options("funding_line", lang),
            "advice": ADVICE,
            "accompaniments": ACCOMPANIMENTS,
        },
        status_code=status_code,
    )


@router.get(ADVICE + "/neu", response_class=HTMLResponse)
async def record_form(
    request: Request,
    runtime: RuntimeDep,
    _: ViaStaff,
    begleitung: Annotated[str, Query(max_length=36)] = "",
) -> HTMLResponse:
    """A new session; from an accompaniment's page (`?begleitung=`) it becomes one of its sessions."""
    organisation_id = ""
    if begleitung:
        async with read_transaction(runtime.engine) as conn:
            found = await consultation_queries.get_accompaniment(conn, begleitung)
        if found is None:
            raise accompaniment_not_found(begleitung)
        organisation_id = found["organisation"]["id"]
    values = {
        "organisation_id": organisation_id,
        "accompaniment_id": begleitung,
        "topics": [],
        "held_on": consultation_handlers.berlin_today().isoformat(),
        "duration_minutes": "60",
        "format": "",
        "funding_line": "senate_ikmo",
        "person_advised": "",
        "minutes": "",
        "version": "",
    }
    return await form_page(request, runtime, values, [])


@router.post(ADVICE + "/neu", response_model=None)
async def record_session(request: Request, runtime: RuntimeDep, who: ViaStaff) -> Response:
    values = form_values(await request.form())
    try:
        body = ConsultationIn.model_validate(api_body(values))
        consultation_id = await record(runtime, body, who)
    except PROBLEMS as problem:
        return await form_page(request, runtime, values, errors_of(problem), status_code=status_of(problem))
    flash(request, "success", "The advice session was recorded.", message_de="Die Beratung ist erfasst.")
    if body.accompaniment_id:
        return RedirectResponse(f"{ACCOMPANIMENTS}/{body.accompaniment_id}", status_code=303)
    return RedirectResponse(f"{ADVICE}/{consultation_id}", status_code=303)


async def load(runtime: Runtime, consultation_id: str) -> dict[str, Any]:
    async with read_transaction(runtime.engine) as conn:
        found = await consultation_queries.get_consultation(conn, consultation_id)
    if found is None:
        raise consultation_not_found(consultation_id)
    return found


@router.get(ADVICE + "/{consultation_id}", response_class=HTMLResponse)
async def detail_page(
    request: Request, consultation_id: str, runtime: RuntimeDep, who: Staff
) -> HTMLResponse:
    consultation = await load(runtime, consultation_id)
    lang = current_language(request)
    notes = await read_notes(runtime, consultation_id, who) if is_via(who) else None
    return await render(
        request,
        "events/consultation.html",
        {
            "c": shown(consultation, lang),
            "notes": notes,
            "may_write": is_via(who),
            "advice": ADVICE,
            "accompaniments": ACCOMPANIMENTS,
        },
    )


def values_of(consultation: dict[str, Any], notes: dict[str, Any]) -> dict[str, Any]:
    """A stored session as its correction form shows it."""
    return {
        "organisation_id": consultation["organisation"]["id"],
        "accompaniment_id": consultation["accompaniment_id"] or "",
        "topics": consultation["topics"],
        "held_on": consultation["held_on"].isoformat(),
        "duration_minutes": str(consultation["duration_minutes"]),
        "format": consultation["format"],
        "funding_line": consultation["funding_line"],
        "person_advised": notes["person_advised"] or "",
        "minutes": notes["minutes"] or "",
        "version": str(consultation["version"]),
    }


@router.get(ADVICE + "/{consultation_id}/bearbeiten", response_class=HTMLResponse)
async def edit_form(
    request: Request, consultation_id: str, runtime: RuntimeDep, who: ViaStaff
) -> HTMLResponse:
    consultation = await load(runtime, consultation_id)
    notes = await read_notes(runtime, consultation_id, who)
    return await form_page(request, runtime, values_of(consultation, notes), [], consultation=consultation)


@router.post(ADVICE + "/{consultation_id}/bearbeiten", response_model=None)
async def edit(request: Request, consultation_id: str, runtime: RuntimeDep, who: ViaStaff) -> Response:
    consultation = await load(runtime, consultation_id)
    form = await request.form()
    values = form_values(form)
    notes = await read_notes(runtime, consultation_id, who)
    try:
        body = ConsultationPatch.model_validate(api_body(values, with_accompaniment=False))
        changes = body.changes()
        if notes["erased"]:  # what reads as erased is no correction of the person or the minutes
            changes.pop("person_advised", None)
            changes.pop("minutes", None)
        await consultation_handlers.correct_consultation(
            runtime.uow, CorrectConsultation(consultation_id, changes, version_of(form))
        )
    except PROBLEMS as problem:
        return await form_page(
            request,
            runtime,
            values,
            errors_of(problem),
            consultation=consultation,
            status_code=status_of(problem),
        )
    flash(request, "success", "The advice session was corrected.", message_de="Die Beratung ist korrigiert.")
    return RedirectResponse(f"{ADVICE}/{consultation_id}", status_code=303)


@router.post(ADVICE + "/{consultation_id}/loeschen", response_model=None)
async def erase(request: Request, consultation_id: str, runtime: RuntimeDep, _: ViaStaff) -> Response:
    await consultation_handlers.erase_consultation(runtime.uow, consultation_id)
    await scrub_after_erasure(runtime.engine)
    flash(
        request,
        "success",
        "The advised person's data and the minutes are erased everywhere; the session still counts.",
        message_de="Die Daten der beratenen Person und das Protokoll sind überall gelöscht; die Beratung "
        "zählt weiter mit.",
    )
    return RedirectResponse(f"{ADVICE}/{consultation_id}", status_code=303)


# -- accompaniments -----------------------------------------------------------------------------------------

EMPTY_OPENING = {"organisation_id": "", "topics": [], "opened_on": "", "goal": ""}


async def accompaniments_page(
    request: Request,
    runtime: Runtime,
    who: Principal,
    values: dict[str, Any],
    errors: Errors,
    status_code: int = 200,
) -> HTMLResponse:
    lang = current_language(request)
    async with read_transaction(runtime.engine) as conn:
        items = await consultation_queries.list_accompaniments(conn)
    for item in items:
        item.update(
            opened=day(item["opened_on"], lang),
            closed=day(item["closed_on"], lang),
            hours=hours(item["total_minutes"], lang),
            outcome_label=label(item["outcome"], lang),
        )
    return await render(
        request,
        "events/accompaniments.html",
        {
            "items": items,
            "values": values,
            "errors": errors,
            "organisations": await organisation_choices(runtime),
            "topics": topic_options(lang),
            "may_write": is_via(who),
            "section": "accompaniments",
            "base": "/veranstaltungen",
            "advice": ADVICE,
            "accompaniments": ACCOMPANIMENTS,
        },
        status_code=status_code,
    )


@router.get(ACCOMPANIMENTS, response_class=HTMLResponse)
async def accompaniments_list(request: Request, runtime: RuntimeDep, who: Staff) -> HTMLResponse:
    values = {**EMPTY_OPENING, "opened_on": consultation_handlers.berlin_today().isoformat()}
    return await accompaniments_page(request, runtime, who, values, [])


@router.post(ACCOMPANIMENTS, response_model=None)
async def open_accompaniment(request: Request, runtime: RuntimeDep, who: ViaStaff) -> Response:
    form = await request.form()
    values = {
        "organisation_id": _text(form, "organisation_id"),
        "topics": form.getlist("topics"),
        "opened_on": _text(form, "opened_on"),
        "goal": str(form.get("goal", "")).strip(),
    }
    try:
        body = AccompanimentIn.model_validate({k: v for k, v in values.items() if v})
        accompaniment = await consultation_handlers.open_accompaniment(
            runtime.uow,
            OpenAccompaniment(body.organisation_id, tuple(body.topics), body.opened_on, body.goal),
        )
    except PROBLEMS as problem:
        return await accompaniments_page(
            request, runtime, who, values, errors_of(problem), status_code=status_of(problem)
        )
    flash(
        request,
        "success",
        "The accompaniment is open. Add its sessions as they take place.",
        message_de="Die Prozessbegleitung ist eröffnet. Fügen Sie Beratungen hinzu, sobald sie stattfinden.",
    )
    return RedirectResponse(f"{ACCOMPANIMENTS}/{accompaniment.id}", status_code=303)


async def accompaniment_page(
    request: Request,
    runtime: Runtime,
    who: Principal,
    accompaniment_id: str,
    values: dict[str, Any] | None = None,
    errors: Errors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    async with read_transaction(runtime.engine) as conn:
        found = await consultation_queries.get_accompaniment(conn, accompaniment_id)
    if found is None:
        raise accompaniment_not_found(accompaniment_id)
    lang = current_language(request)
    found.update(
        opened=day(found["opened_on"], lang),
        closed=day(found["closed_on"], lang),
        hours=hours(found["total_minutes"], lang),
        outcome_label=label(found["outcome"], lang),
        topic_labels=[label(t, lang) for t in found["topics"]],
        sessions=[shown(s, lang) for s in found["sessions"]],
    )
    return await render(
        request,
        "events/accompaniment.html",
        {
            "a": found,
            "values": values
            or {"closed_on": consultation_handlers.berlin_today().isoformat(), "outcome": "", "note": ""},
            "errors": errors or [],
            "outcomes": options("accompaniment_outcome", lang),
            "may_write": is_via(who),
            "advice": ADVICE,
            "accompaniments": ACCOMPANIMENTS,
        },
        status_code=status_code,
    )


@router.get(ACCOMPANIMENTS + "/{accompaniment_id}", response_class=HTMLResponse)
async def accompaniment_detail(
    request: Request, accompaniment_id: str, runtime: RuntimeDep, who: Staff
) -> HTMLResponse:
    return await accompaniment_page(request, runtime, who, accompaniment_id)


@router.post(ACCOMPANIMENTS + "/{accompaniment_id}/abschliessen", response_model=None)
async def close(request: Request, accompaniment_id: str, runtime: RuntimeDep, who: ViaStaff) -> Response:
    form = await request.form()
    values = {
        "closed_on": _text(form, "closed_on"),
        "outcome": _text(form, "outcome"),
        "note": str(form.get("note", "")).strip(),
    }
    try:
        body = CloseIn.model_validate({k: v for k, v in values.items() if v})
        await consultation_handlers.close_accompaniment(
            runtime.uow,
            CloseAccompaniment(
                accompaniment_id,
                body.closed_on,
                body.outcome,
                body.note,
                version_of(form),
            ),
        )
    except PROBLEMS as problem:
        return await accompaniment_page(
            request, runtime, who, accompaniment_id, values, errors_of(problem), status_of(problem)
        )
    flash(
        request,
        "success",
        "The accompaniment is closed.",
        message_de="Die Prozessbegleitung ist abgeschlossen.",
    )
    return RedirectResponse(f"{ACCOMPANIMENTS}/{accompaniment_id}", status_code=303)
