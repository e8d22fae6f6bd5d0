"""A NUL character anywhere in a request is refused with a plain message before anything is decided:
on PostgreSQL it would otherwise end in a 500 (text cannot hold it), on SQLite be kept silently."""

from __future__ import annotations

import httpx
import pytest

from services.events.tests.conftest import seminar
from shared.web.nul import nul_in_body

ANONYMOUS = {"Authorization": "", "Accept": "text/html"}
PAGE = {"Accept": "text/html"}


async def test_no_nul_gets_in_through_a_path_a_query_a_form_or_json(client: httpx.AsyncClient) -> None:
    event = (await client.post("/events", json=seminar())).json()
    await client.post(f"/events/{event['id']}/publish")
    before = (await client.get(f"/events/{event['id']}")).json()["version"]

    assert (await client.get("/events/a%00b")).status_code == 404
    page = await client.get("/oeffentlich/veranstaltungen/a%00b", headers=ANONYMOUS)
    assert page.status_code == 404 and "Diese Seite gibt es nicht" in page.text
    query = await client.get("/notices", params={"event_id": "a\x00b"})
    assert query.status_code == 422 and "Nullzeichen" in query.json()["message_de"]

    title = await client.post("/events", json=seminar(title="Vereins\x00gründung"))
    assert title.status_code == 422 and "NUL character" in title.json()["message"]
    change = await client.patch(f"/events/{event['id']}", json={"description": "a\u0000b"})
    assert change.status_code == 422
    person = {"name": "Ay\x00lin", "email": "a@verein.example", "privacy_consent": "true"}
    form = await client.post(f"/oeffentlich/veranstaltungen/{event['id']}", data=person, headers=ANONYMOUS)
    assert form.status_code == 422 and "gespeichert wurde nichts" in form.text
    english = await client.post(
        f"/oeffentlich/veranstaltungen/{event['id']}?lang=en", data=person, headers=ANONYMOUS
    )
    assert "nothing was saved" in english.text

    assert (await client.get(f"/events/{event['id']}")).json()["version"] == before  # nothing appended
    assert (await client.get("/events")).json()["total"] == 1
    written = "Vereins\\u0000 steht so im Text"  # a backslash the person typed is no NUL
    plain = await client.post("/events", json=seminar(description=written.replace("\\", "\\\\")))
    assert plain.status_code == 201, plain.text


@pytest.mark.parametrize(
    ("content_type", "body", "nul"),
    [
        ("application/json", b'{"a": "x\\u0000"}', True),
        ("application/json", b'{"a": "x\\\\u0000"}', False),  # an escaped backslash, then text
        ("application/json", b'{"a": "x\\\\\\u0000"}', True),
        ("application/x-www-form-urlencoded; charset=utf-8", b"name=a%00b", True),
        ("application/x-www-form-urlencoded", b"name=a%2500", False),  # the text "%00"
        ("text/plain", b"\x00", True),
        ("text/plain", b"%00", False),
    ],
)
def test_what_counts_as_a_nul_in_a_body(content_type: str, body: bytes, nul: bool) -> None:
    assert nul_in_body(content_type, body) is nul
