"""Pages for merging a duplicate into an organisation (partner staff): choose the duplicate, compare both
records with what they make together, confirm.

Reached from the organisation's page. The confirmation carries the versions of both records the person
compared; if either changed meanwhile, the merge is refused and the comparison shown again, fresh.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from services.directory import merge_handlers, queries
from services.directory.domain.merge import MergeOrganisations, likely_duplicates, mergeable_kinds
from services.directory.entrypoints.api import Staff
from services.directory.entrypoints.merge_api import MergeIn, preview
from services.directory.entrypoints.pages import (
    BASE,
    LOCALE_DIR,
    Errors,
    errors_of,
    load,
    status_of,
    version_of,
)
from services.directory.labels import label
from shared.contracts.directory import OrganisationKind
from shared.db import read_transaction
from shared.errors import ConcurrencyError, DomainRuleViolation, InvalidInput
from shared.service import RuntimeDep
from shared.web.flash import flash
from shared.web.i18n import N_, translations
from shared.web.templating import current_language, render

router = APIRouter(tags=["pages"], include_in_schema=False)
MERGE = BASE + "/{organisation_id}/zusammenfuehren"
ROWS = [  # (field, label) of the comparison
    ("kind", N_("Kind")),
    ("legal_form", N_("Legal form")),
    ("districts", N_("Districts")),
    ("fields_of_work", N_("Fields of work")),
    ("languages", N_("Languages")),
    ("website", N_("Website")),
    ("public_profile", N_("Public profile")),
]


@router.get(MERGE, response_class=HTMLResponse)
async def merge_page(
    request: Request,
    organisation_id: str,
    runtime: RuntimeDep,
    _: Staff,
    dublette: Annotated[str, Query(max_length=36, description="The duplicate to compare")] = "",
) -> HTMLResponse:
    """Without a duplicate chosen: the choice; with one: the comparison and the confirmation."""
    if dublette:
        return await _confirm(request, runtime, organisation_id, dublette)
    return await _choose(request, runtime, organisation_id)


async def _choose(
    request: Request,
    runtime: RuntimeDep,
    organisation_id: str,
    errors: Errors | None = None,
    status: int = 200,
) -> HTMLResponse:
    organisation = await load(runtime, organisation_id)
    # An archived duplicate may be merged away too (someone archived it instead of merging): offered,
    # marked; one merged already is not (it lives on in its survivor).
    everyone = queries.OrganisationFilter(include_archived=True)
    async with read_transaction(runtime.engine) as conn:
        found, _ = await queries.list_organisations(conn, everyone, 100_000)
    kind = OrganisationKind(organisation["kind"])
    others = [
        o
        for o in found
        if o["id"] != organisation_id and o["merged_into"] is None and mergeable_kinds(kind, o["kind"])
    ]
    likely = likely_duplicates(organisation["name"], [(o["id"], o["name"]) for o in others])
    by_id = {o["id"]: o for o in others}
    lang = current_language(request)
    archived = translations(lang, (LOCALE_DIR,)).gettext("archived")
    context = {
        "organisation": organisation,
        "likely": [by_id[i] for i in likely],
        "others": [(o["id"], f"{o['name']} ({archived})" if o["archived"] else o["name"]) for o in others],
        "errors": errors or [],
        "label": lambda value: label(value, lang),
        "labels": lambda values: ", ".join(label(v, lang) for v in values),
        "base": BASE,
        "section": "organisations",
    }
    return await render(request, "directory/merge_choose.html", context, status_code=status)


def _shown(field: str, value: Any, lang: str) -> str:
    if field in ("districts", "fields_of_work", "languages"):
        return ", ".join(label(v, lang) for v in value) or "–"
    if field == "public_profile":  # the words the organisation's page uses
        gettext = translations(lang, (LOCALE_DIR,)).gettext
        return gettext("yes") if value else gettext("no")
    if field in ("kind", "legal_form"):
        return label(value, lang)
    return str(value or "–")


async def _confirm(
    request: Request,
    runtime: RuntimeDep,
    survivor_id: str,
    absorbed_id: str,
    errors: Errors | None = None,
    reason: str = "",
    status: int = 200,
) -> HTMLResponse:
    seen = await preview(runtime, survivor_id, absorbed_id)
    lang = current_language(request)
    survivor, absorbed, result = seen["survivor"], seen["absorbed"], seen["result"]
    rows = [
        {
            "label": text,
            "survivor": _shown(field, survivor[field], lang),
            "absorbed": _shown(field, absorbed[field], lang),
            "result": _shown(field, result.get(field, survivor[field]), lang),
        }
        for field, text in ROWS
    ]
    context = {
        "survivor": survivor,
        "absorbed": absorbed,
        "result_name": result["name"],
        "rows": rows,
        "problem": seen["problem"],
        "errors": errors or [],
        "reason": reason,
        "base": BASE,
        "section": "organisations",
    }
    return await render(request, "directory/merge_confirm.html", context, status_code=status)


@router.post(MERGE, response_model=None)
async def merge(request: Request, organisation_id: str, runtime: RuntimeDep, _: Staff) -> Response:
    form = await request.form()
    absorbed_id = str(form.get("absorbed_id", "")).strip()
    reason = str(form.get("reason", "")).strip()
    absorbed_version = str(form.get("absorbed_version", ""))
    try:
        body = MergeIn.model_validate(
            {
                "absorbed_id": absorbed_id,
                "reason": reason or None,
                "absorbed_version": int(absorbed_version) if absorbed_version.isdigit() else None,
            }
        )
        survivor = await merge_handlers.merge_organisations(
            runtime.uow,
            MergeOrganisations(
                survivor_id=organisation_id,
                absorbed_id=body.absorbed_id,
                reason=body.reason,
                survivor_version=version_of(form),
                absorbed_version=body.absorbed_version,
            ),
        )
    except (ValidationError, InvalidInput, DomainRuleViolation, ConcurrencyError) as problem:
        errors = errors_of(problem)
        if not absorbed_id:  # nothing chosen: the choice's field is called `dublette`
            errors = [{**e, "field": "dublette"} for e in errors]
            return await _choose(request, runtime, organisation_id, errors, status_of(problem))
        return await _confirm(
            request, runtime, organisation_id, absorbed_id, errors, reason, status_of(problem)
        )
    assert survivor.profile is not None
    flash(
        request,
        "success",
        f"The duplicate was merged into {survivor.profile.name}.",
        message_de=f"Die Dublette wurde mit {survivor.profile.name} zusammengeführt.",
    )
    return RedirectResponse(f"{BASE}/{organisation_id}", status_code=303)
