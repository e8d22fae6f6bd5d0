"""The public directory: profiles of the organisations that consented, and a CSV export of them.

No sign-in, rate limited; nothing of an organisation that did not consent (404, as if it did not exist),
and never contact persons.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.directory import queries
from services.directory.entrypoints.pages import not_found
from services.directory.labels import label
from shared.auth.access import public
from shared.db import read_transaction
from shared.service import RuntimeDep
from shared.web.ratelimit import RateLimiter
from shared.web.templating import current_language, render

router = APIRouter(tags=["public"], include_in_schema=False)
PUBLIC = "/oeffentlich/organisationen"
LIMIT = RateLimiter(120, 60.0)  # per client address and minute: plenty for people, a brake for scrapers
CSV_HEADERS = ["Name", "Art", "Rechtsform", "Bezirke", "Arbeitsfelder", "Sprachen", "Website"]


async def public_organisations(runtime: RuntimeDep) -> list[dict[str, Any]]:
    async with read_transaction(runtime.engine) as conn:
        items, _ = await queries.list_organisations(
            conn, queries.OrganisationFilter(public_only=True), 100_000
        )
    return items


@router.get(PUBLIC, response_class=HTMLResponse, dependencies=[public(LIMIT)])
async def public_list(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    lang = current_language(request)
    context = {
        "items": await public_organisations(runtime),
        "labels": lambda values: ", ".join(label(v, lang) for v in values),
        "label": lambda value: label(value, lang),
        "public": PUBLIC,
        "show_login_link": False,
    }
    return await render(request, "directory/public_list.html", context)


def cell(value: str) -> str:
    """A cell Excel shows as text: one starting like a formula (=, +, -, @, tab, CR) gets a leading
    apostrophe, so a name typed as `=HYPERLINK(...)` is never run on a reader's machine."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@router.get(PUBLIC + ".csv", dependencies=[public(LIMIT)])
async def public_csv(runtime: RuntimeDep) -> Response:
    """UTF-8 with a byte-order mark and semicolons, so that Excel in Germany opens it as it is."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(CSV_HEADERS)
    for o in await public_organisations(runtime):
        writer.writerow(
            cell(value)
            for value in [
                o["name"],
                label(o["kind"]),
                label(o["legal_form"]),
                ", ".join(label(d) for d in o["districts"]),
                ", ".join(label(f) for f in o["fields_of_work"]),
                ", ".join(label(x) for x in o["languages"]),
                o["website"] or "",
            ]
        )
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="ikmo-verzeichnis.csv"'},
    )


@router.get(
    PUBLIC + "/{organisation_id}",
    response_class=HTMLResponse,
    response_model=None,
    dependencies=[public(LIMIT)],
)
async def public_profile(request: Request, organisation_id: str, runtime: RuntimeDep) -> Response:
    async with read_transaction(runtime.engine) as conn:
        found = await queries.get_organisation(conn, organisation_id)
        survivor = (
            found and found["merged_into"] and await queries.get_organisation(conn, found["merged_into"])
        )
    if survivor and survivor["public_profile"] and not survivor["archived"]:
        # A merged duplicate's address leads to the survivor, if that one is public itself.
        return RedirectResponse(f"{PUBLIC}/{survivor['id']}", status_code=301)
    if found is None or not found["public_profile"] or found["archived"]:
        raise not_found(organisation_id)
    lang = current_language(request)
    context = {
        "organisation": found,
        "labels": lambda values: ", ".join(label(v, lang) for v in values),
        "label": lambda value: label(value, lang),
        "public": PUBLIC,
        "show_login_link": False,
    }
    return await render(request, "directory/public_profile.html", context)
