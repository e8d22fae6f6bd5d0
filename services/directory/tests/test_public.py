"""The public directory: only organisations that consented, without sign-in, as pages and as CSV."""

from __future__ import annotations

import csv
import io

import httpx

from services.directory.entrypoints import public_pages

ORG = {"kind": "mo", "legal_form": "e_v", "districts": ["neukoelln"], "fields_of_work": ["youth"]}
ANONYMOUS = {"Authorization": "", "Accept": "text/html"}


async def test_only_consenting_organisations_are_public(client: httpx.AsyncClient) -> None:
    shown = (
        await client.post(
            "/organisations", json={**ORG, "name": "Offener Verein e.V.", "public_profile": True}
        )
    ).json()
    hidden = (await client.post("/organisations", json={**ORG, "name": "Stiller Verein e.V."})).json()
    gone = (
        await client.post("/organisations", json={**ORG, "name": "Alter Verein e.V.", "public_profile": True})
    ).json()
    await client.post(f"/organisations/{gone['id']}/archive", json={})
    await client.post(
        f"/organisations/{shown['id']}/contacts",
        json={"name": "Aylin Demir", "role": "board", "consent": True, "email": "aylin@offen.example"},
    )

    listing = await client.get("/oeffentlich/organisationen", headers=ANONYMOUS)
    assert listing.status_code == 200
    assert "Offener Verein e.V." in listing.text
    assert "Stiller Verein" not in listing.text and "Alter Verein" not in listing.text
    profile = await client.get(f"/oeffentlich/organisationen/{shown['id']}", headers=ANONYMOUS)
    assert profile.status_code == 200 and "Neukölln" in profile.text and "Jugend" in profile.text
    assert "Aylin" not in profile.text  # never contact persons
    for other in (hidden, gone):
        assert (
            await client.get(f"/oeffentlich/organisationen/{other['id']}", headers=ANONYMOUS)
        ).status_code == 404

    exported = await client.get("/oeffentlich/organisationen.csv", headers={"Authorization": ""})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert exported.content.startswith(b"\xef\xbb\xbf")  # Excel reads the umlauts right
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == public_pages.CSV_HEADERS
    assert rows[1:] == [
        [
            "Offener Verein e.V.",
            "Migrant*innenorganisation (MO)",
            "eingetragener Verein (e.V.)",
            "Neukölln",
            "Jugend",
            "",
            "",
        ]
    ]
    assert "Aylin" not in exported.text


async def test_public_pages_are_rate_limited(client: httpx.AsyncClient) -> None:
    public_pages.LIMIT.reset()
    statuses = [
        (await client.get("/oeffentlich/organisationen.csv", headers={"Authorization": ""})).status_code
        for _ in range(public_pages.LIMIT.limit + 1)
    ]
    assert statuses[:-1] == [200] * public_pages.LIMIT.limit and statuses[-1] == 429
    public_pages.LIMIT.reset()


async def test_a_name_that_looks_like_a_formula_is_exported_as_text(client: httpx.AsyncClient) -> None:
    public_pages.LIMIT.reset()
    body = {**ORG, "name": '=HYPERLINK("http://böse.example";"Klick")', "public_profile": True}
    assert (await client.post("/organisations", json=body)).status_code == 201
    exported = await client.get("/oeffentlich/organisationen.csv", headers={"Authorization": ""})
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[1][0] == '\'=HYPERLINK("http://böse.example";"Klick")'  # Excel shows it, never runs it
    assert public_pages.cell("Yaar e.V.") == "Yaar e.V." and public_pages.cell("@sum") == "'@sum"
