"""The directory's pages for people: list and search, detail with history, create and edit forms.

Forms are read into the API's own input models and handed to the same handlers, so a page can never accept
what the API refuses, and the errors a person sees are the API's, placed beside their fields.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from services.directory import committee_queries, handlers, queries
from services.directory.domain.commands import (
    ArchiveOrganisation,
    ChangeLegalForm,
    RegisterOrganisation,
    UpdateOrganisationProfile,
)
from services.directory.entrypoints.api import (
    STAFF,
    ArchiveIn,
    LegalFormIn,
    OrganisationIn,
    ProfilePatch,
    Staff,
    StaffOrOwnAccount,
    ensure_may_act_for,
)
from services.directory.entrypoints.cooperation_api import partner_suggestions
from services.directory.labels import VOCABULARY, label
from shared.auth.access import public
from shared.auth.people import actor_names
from shared.auth.principal import Principal
from shared.auth.verify import Forbidden
from shared.contracts.directory import COOPERATING_KINDS, District, FieldOfWork, LegalForm, OrganisationKind
from shared.db import read_transaction
from shared.errors import ConcurrencyError, DomainRuleViolation, InvalidInput, NotFound
from shared.service import RuntimeDep
from shared.vault import Vault
from shared.web.flash import flash
from shared.web.forms import Errors, errors_of, options_of, status_of, version_of
from shared.web.i18n import N_, translations
from shared.web.templating import current_language, render
from shared.web.vocabulary import BERLIN

LOCALE_DIR = Path(__file__).parent.parent / "locale"
router = APIRouter(tags=["pages"], include_in_schema=False)

BASE = "/verzeichnis"
PAGE_SIZE = 25


CHANGE_LABELS = {
    "registered": N_("Registered"),
    "profile_updated": N_("Profile updated"),
    "legal_form_changed": N_("Legal form changed"),
    "archived": N_("Archived"),
    "merged": N_("Merged into another record"),
    "duplicate_absorbed": N_("Duplicate merged in"),
}
FIELD_LABELS = {
    "name": N_("Name"),
    "districts": N_("Districts"),
    "fields_of_work": N_("Fields of work"),
    "languages": N_("Languages"),
    "website": N_("Website"),
    "public_profile": N_("Public profile"),
}


def change_details(change: dict[str, Any], lang: str) -> str:
    """One line saying what changed, in the page's language."""
    data, gettext = change["data"], translations(lang, (LOCALE_DIR,)).gettext
    match change["change"]:
        case "legal_form_changed":
            return f"{label(data['previous_legal_form'], lang)} → {label(data['legal_form'], lang)}"
        case "profile_updated":
            fields = ", ".join(gettext(FIELD_LABELS.get(f, f)) for f in data.get("changed", []))
            return gettext(N_("Changed: %(fields)s")) % {"fields": fields} if fields else ""
        case "archived":
            return str(data.get("reason") or "")
        case "merged":  # the survivor's name as it was then; its page is linked above the profile
            return " – ".join(filter(None, [f"→ {data['survivor_name']}", data.get("reason")]))
        case "duplicate_absorbed":
            return f"← {data['absorbed_name']}"
        case _:
            return ""


E = TypeVar("E", bound=StrEnum)


FILTER_LABELS = {  # a filter's name in its error: (English, German)
    "kind": ("kind", "Art"),
    "legal_form": ("legal form", "Rechtsform"),
    "district": ("district", "Bezirk"),
    "field_of_work": ("field of work", "Arbeitsfeld"),
}


def choice(enum: type[E], raw: str, field: str) -> E | None:
    """A filter's value: empty means no filter; anything unknown is the person's mistake (422)."""
    if not raw:
        return None
    try:
        return enum(raw)
    except ValueError:
        en, de = FILTER_LABELS.get(field, (field, field))
        raise InvalidInput(
            f"{raw!r} is not a valid choice for {en}.",
            f"{raw!r} ist für {de} keine gültige Auswahl.",
            field,
        ) from None


def options(vocabulary: str, lang: str) -> list[tuple[str, str]]:
    """(value, label) pairs of one of the directory's vocabularies in the page's language."""
    return options_of(VOCABULARY[vocabulary], lang)


def form_values(form: FormData) -> dict[str, Any]:
    """What the person typed, in the API's shape (lists for multiple choices, a bool for the checkbox)."""
    return {
        "name": str(form.get("name", "")).strip(),
        "kind": form.get("kind") or None,
        "legal_form": form.get("legal_form") or None,
        "districts": form.getlist("districts"),
        "fields_of_work": form.getlist("fields_of_work"),
        "languages": form.getlist("languages"),
        "website": str(form.get("website", "")).strip() or None,
        "public_profile": form.get("public_profile") == "true",
    }


STALE_PROFILE = {
    "field": "request",
    "message": "Someone else changed this profile meanwhile. Your entries are kept below; the saved profile "
    "is on the organisation's page. Saving again replaces it with your entries.",
    "message_de": "Jemand anderes hat dieses Profil inzwischen geändert. Ihre Eingaben stehen unten; den "
    "gespeicherten Stand zeigt die Seite der Organisation. Wenn Sie erneut speichern, ersetzen Ihre "
    "Eingaben ihn.",
}


def not_found(organisation_id: str) -> NotFound:
    return NotFound(
        f"Organisation {organisation_id} does not exist", f"Organisation {organisation_id} gibt es nicht"
    )


async def load(runtime: RuntimeDep, organisation_id: str) -> dict[str, Any]:
    async with read_transaction(runtime.engine) as conn:
        found = await queries.get_organisation(conn, organisation_id)
    if found is None:
        raise not_found(organisation_id)
    return found


async def form_page(
    request: Request,
    values: dict[str, Any],
    errors: Errors,
    *,
    organisation: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    lang = current_language(request)
    return await render(
        request,
        "directory/form.html",
        {
            "values": values,
            "errors": errors,
            "organisation": organisation,
            "choices": {name: options(name, lang) for name in VOCABULARY},
            "base": BASE,
        },
        status_code=status_code,
    )


@router.get("/", dependencies=[public()])
async def home() -> RedirectResponse:
    """The service's address leads to the list (which asks to sign in when needed)."""
    return RedirectResponse(BASE, status_code=303)


@router.get(BASE, response_model=None)
async def list_page(
    request: Request,
    runtime: RuntimeDep,
    who: StaffOrOwnAccount,
    q: Annotated[str, Query(max_length=200)] = "",
    kind: str = "",
    legal_form: str = "",
    district: str = "",
    field_of_work: str = "",
    include_archived: bool = False,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    if not who.has_any(frozenset(STAFF)):  # an organisation's account: the directory is its own page
        if who.organisation_id is None:
            raise Forbidden()
        return RedirectResponse(f"{BASE}/{who.organisation_id}", status_code=303)
    # The filter form sends "" for "all": read the choices by hand rather than as optional enums.
    where = queries.OrganisationFilter(
        q.strip() or None,
        choice(OrganisationKind, kind, "kind"),
        choice(LegalForm, legal_form, "legal_form"),
        choice(District, district, "district"),
        choice(FieldOfWork, field_of_work, "field_of_work"),
        None,
        include_archived,
    )
    async with read_transaction(runtime.engine) as conn:
        items, total = await queries.list_organisations(conn, where, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    lang = current_language(request)
    chosen = {
        "q": q,
        "kind": kind or "",
        "legal_form": legal_form or "",
        "district": district or "",
        "field_of_work": field_of_work or "",
        "include_archived": "true" if include_archived else "",
    }
    kept = {k: v for k, v in chosen.items() if v}

    def page_url(number: int) -> str:
        return f"{BASE}?{urlencode({**kept, 'page': number})}"

    pages = max(1, -(-total // PAGE_SIZE))
    context = {
        "items": items,
        "total": total,
        "chosen": chosen,
        "filtered": bool(kept),
        "choices": {name: options(name, lang) for name in VOCABULARY},
        "label": lambda value: label(value, lang),
        "labels": lambda values: ", ".join(label(v, lang) for v in values),
        "page": page,
        "pages": pages,
        "section": "organisations",
        "previous_url": page_url(page - 1) if page > 1 else None,
        "next_url": page_url(page + 1) if page < pages else None,
        "base": BASE,
    }
    if "hx-request" in request.headers:  # live search: only the results are swapped in
        return await render(request, "directory/_results.html", context)
    return await render(request, "directory/list.html", context)


@router.get(BASE + "/neu", response_class=HTMLResponse)
async def create_form(request: Request, _: Staff) -> HTMLResponse:
    empty = {"name": "", "kind": None, "legal_form": None, "website": None, "public_profile": False}
    return await form_page(request, {**empty, "districts": [], "fields_of_work": [], "languages": []}, [])


@router.post(BASE + "/neu", response_model=None)
async def create(request: Request, runtime: RuntimeDep, _: Staff) -> Response:
    values = form_values(await request.form())
    try:
        body = OrganisationIn.model_validate(values)
        organisation = await handlers.register_organisation(
            runtime.uow,
            RegisterOrganisation(
                name=body.name,
                kind=body.kind,
                legal_form=body.legal_form,
                districts=tuple(body.districts),
                fields_of_work=tuple(body.fields_of_work),
                languages=tuple(body.languages),
                website=body.website,
                public_profile=body.public_profile,
            ),
        )
    except (ValidationError, InvalidInput) as problem:
        return await form_page(request, values, errors_of(problem), status_code=status_of(problem))
    flash(
        request,
        "success",
        f"{body.name} was registered.",
        message_de=f"{body.name} wurde eingetragen.",
    )
    return RedirectResponse(f"{BASE}/{organisation.id}", status_code=303)


@router.get(BASE + "/{organisation_id}", response_class=HTMLResponse)
async def detail_page(
    request: Request, organisation_id: str, runtime: RuntimeDep, who: StaffOrOwnAccount
) -> HTMLResponse:
    return await organisation_page(request, runtime, who, organisation_id)


async def organisation_page(
    request: Request,
    runtime: RuntimeDep,
    who: Principal,
    organisation_id: str,
    *,
    errors: Errors | None = None,
    contact_form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The organisation's page; a form on it that went wrong comes back here with its errors."""
    ensure_may_act_for(who, organisation_id)
    organisation = await load(runtime, organisation_id)
    async with read_transaction(runtime.engine) as conn:
        changes = await queries.history(conn, runtime.store, organisation_id)
        memberships = await queries.networks_of(conn, organisation_id)
        contacts = await queries.contacts_of(conn, organisation_id, Vault())
        versions = await queries.contact_versions(conn, runtime.store, [c["id"] for c in contacts])
        cooperations = await queries.cooperations_of(conn, organisation_id)
        seats = await committee_queries.seats_of(conn, organisation_id)
        mentorings = await queries.list_mentorings(conn, organisation_id)  # also of records merged in
        partners = await queries.cooperation_partners(conn)
    suggestions = (
        await partner_suggestions(runtime, organisation_id, 5)
        if organisation["kind"] in COOPERATING_KINDS
        else []
    )
    lang = current_language(request)
    names = actor_names(runtime.settings.data_dir, who)
    return await render(
        request,
        "directory/detail.html",
        {
            "organisation": organisation,
            # newest first: what a person looks for; people by name, the store keeps only their ids
            "changes": [
                {
                    **c,
                    "actor": names.get(c["actor"] or "", c["actor"]),
                    "at": c["at"].astimezone(BERLIN),
                    "details": change_details(c, lang),
                }
                for c in reversed(changes)
            ],
            "change_labels": CHANGE_LABELS,
            "memberships": memberships,
            "contacts": [{**c, "version": versions[c["id"]]} for c in contacts],
            "cooperations": cooperations,
            "seats": seats,
            "mentorings": mentorings,
            "today": date.today().isoformat(),
            "suggestions": suggestions,
            "partners": partners,
            "may_cooperate": organisation["kind"] in COOPERATING_KINDS,
            "fields": options("field_of_work", lang),
            "contact_form": contact_form
            or {"name": "", "role": None, "email": "", "phone": "", "consent": False},
            "contact_roles": options("contact_role", lang),
            "errors": errors or [],
            "label": lambda value: label(value, lang),
            "labels": lambda values: ", ".join(label(v, lang) for v in values),
            "legal_forms": options("legal_form", lang),
            "is_staff": who.has_any(frozenset(STAFF)),
            "base": BASE,
        },
        status_code=status_code,
    )


@router.get(BASE + "/{organisation_id}/bearbeiten", response_class=HTMLResponse)
async def edit_form(
    request: Request, organisation_id: str, runtime: RuntimeDep, who: StaffOrOwnAccount
) -> HTMLResponse:
    ensure_may_act_for(who, organisation_id)
    organisation = await load(runtime, organisation_id)
    return await form_page(request, dict(organisation), [], organisation=organisation)


@router.post(BASE + "/{organisation_id}/bearbeiten", response_model=None)
async def edit(
    request: Request, organisation_id: str, runtime: RuntimeDep, who: StaffOrOwnAccount
) -> Response:
    ensure_may_act_for(who, organisation_id)
    organisation = await load(runtime, organisation_id)
    form = await request.form()
    values = form_values(form)
    profile = {k: values[k] for k in ("name", "districts", "fields_of_work", "languages", "website")}
    profile["public_profile"] = values["public_profile"]
    try:
        body = ProfilePatch.model_validate(profile)
        await handlers.update_profile(
            runtime.uow,
            UpdateOrganisationProfile(
                organisation_id=organisation_id,
                expected_version=version_of(form),
                name=body.name,
                districts=tuple(body.districts or ()),
                fields_of_work=tuple(body.fields_of_work or ()),
                languages=tuple(body.languages or ()),
                website=body.website,
                clear_website=body.website is None,
                public_profile=body.public_profile,
            ),
        )
    except (ValidationError, InvalidInput, ConcurrencyError, DomainRuleViolation) as problem:
        stale = isinstance(problem, ConcurrencyError)
        # After a conflict the form carries the version just read: saving again is a deliberate choice.
        values = {
            **organisation,
            **values,
            "version": organisation["version"] if stale else form.get("version"),
        }
        errors = [STALE_PROFILE] if stale else errors_of(problem)
        return await form_page(
            request, values, errors, organisation=organisation, status_code=status_of(problem)
        )
    flash(request, "success", "The profile was saved.", message_de="Das Profil wurde gespeichert.")
    return RedirectResponse(f"{BASE}/{organisation_id}", status_code=303)


@router.post(BASE + "/{organisation_id}/rechtsform", response_model=None)
async def legal_form(
    request: Request, organisation_id: str, runtime: RuntimeDep, who: StaffOrOwnAccount
) -> Response:
    ensure_may_act_for(who, organisation_id)
    form = await request.form()
    try:
        body = LegalFormIn.model_validate({"legal_form": form.get("legal_form") or None})
        await handlers.change_legal_form(
            runtime.uow, ChangeLegalForm(organisation_id, body.legal_form, version_of(form))
        )
    except (ValidationError, InvalidInput, ConcurrencyError, DomainRuleViolation) as problem:
        for error in errors_of(problem):
            flash(request, "error", error["message"], message_de=error["message_de"])
        return RedirectResponse(f"{BASE}/{organisation_id}", status_code=303)
    flash(request, "success", "The legal form was changed.", message_de="Die Rechtsform wurde geändert.")
    return RedirectResponse(f"{BASE}/{organisation_id}", status_code=303)


@router.get(BASE + "/{organisation_id}/archivieren", response_class=HTMLResponse)
async def archive_form(request: Request, organisation_id: str, runtime: RuntimeDep, _: Staff) -> HTMLResponse:
    organisation = await load(runtime, organisation_id)
    return await render(
        request, "directory/archive.html", {"organisation": organisation, "errors": [], "base": BASE}
    )


@router.post(BASE + "/{organisation_id}/archivieren", response_model=None)
async def archive(request: Request, organisation_id: str, runtime: RuntimeDep, _: Staff) -> Response:
    organisation = await load(runtime, organisation_id)
    form = await request.form()
    try:
        body = ArchiveIn.model_validate({"reason": str(form.get("reason", "")).strip() or None})
        await handlers.archive_organisation(
            runtime.uow, ArchiveOrganisation(organisation_id, body.reason, version_of(form))
        )
    except (ValidationError, InvalidInput, ConcurrencyError, DomainRuleViolation) as problem:
        return await render(
            request,
            "directory/archive.html",
            {"organisation": organisation, "errors": errors_of(problem), "base": BASE},
            status_code=status_of(problem),
        )
    flash(
        request,
        "success",
        f"{organisation['name']} was archived.",
        message_de=f"{organisation['name']} wurde archiviert.",
    )
    return RedirectResponse(f"{BASE}/{organisation_id}", status_code=303)
