"""The public calendar as an iCalendar feed (RFC 5545) that calendar apps and websites subscribe to.

Times go out in UTC (`…Z`), so no VTIMEZONE block is needed and every client shows them in its own zone.
A cancelled event stays in the feed with STATUS:CANCELLED, so subscribers remove it rather than keep a
stale entry; SEQUENCE is the event's version, so clients take the newest description. The feed speaks
German, or English when subscribed with `?lang=en` (a feed has no Accept-Language of a person behind it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from services.events.labels import label

PRODID = "-//IKMO Berlin//Veranstaltungen VIA//DE"
CALENDAR_NAME = {"de": "VIA Berlin/Brandenburg – Veranstaltungen", "en": "VIA Berlin/Brandenburg – Events"}
HOSTED_BY = {"de": "Zu Gast bei", "en": "Hosted by"}
DETAILS = {"de": "Anmeldung und Details", "en": "Registration and details"}


def escape(text: str) -> str:
    """TEXT values: backslash, semicolon, comma and line breaks escaped."""
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space, never inside a character."""
    out: list[bytes] = []
    current = b""
    for char in line:
        encoded = char.encode()
        limit = 75 if not out else 74  # continuation lines start with the space
        if len(current) + len(encoded) > limit:
            out.append(current)
            current = b""
        current += encoded
    out.append(current)
    return "\r\n ".join(part.decode() for part in out)


def stamp(moment: datetime) -> str:
    if moment.tzinfo is None:  # SQLite hands times back without their zone; they are stored in UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def vevent(event: Mapping[str, Any], url: str, lang: str = "de") -> list[str]:
    topics = [label(t, lang) for t in event["topics"]]
    place = ", ".join(
        p for p in (event["venue"], label(event["district"], lang) if event["district"] else None) if p
    )
    location = f"{place} / Online" if event["online"] and place else place or "Online"
    description = [f"{label(event['format'], lang)} – {', '.join(topics)}"]
    if event["description"]:
        description += ["", event["description"]]
    if event["host"]:
        description += ["", f"{HOSTED_BY[lang]}: {event['host']['name']}"]
    description += ["", f"{DETAILS[lang]}: {url}"]
    lines = [
        "BEGIN:VEVENT",
        f"UID:{event['id']}@events.ikmo-berlin",
        f"DTSTAMP:{stamp(event['updated_at'])}",
        f"LAST-MODIFIED:{stamp(event['updated_at'])}",
        f"SEQUENCE:{event['version']}",
        f"DTSTART:{stamp(event['starts_at'])}",
        f"DTEND:{stamp(event['ends_at'])}",
        f"SUMMARY:{escape(event['title'])}",
        f"DESCRIPTION:{escape(chr(10).join(description))}",
        f"LOCATION:{escape(location)}",
        f"URL:{url}",
        f"CATEGORIES:{','.join(escape(c) for c in [label(event['format'], lang), *topics])}",
        "STATUS:CANCELLED" if event["status"] == "cancelled" else "STATUS:CONFIRMED",
        "END:VEVENT",
    ]
    return lines


def calendar(events: Iterable[Mapping[str, Any]], url_of: Any, lang: str = "de") -> str:
    """The whole feed; `url_of(event)` is the public page of an event."""
    lang = lang if lang in CALENDAR_NAME else "de"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape(CALENDAR_NAME[lang])}",
    ]
    for event in events:
        lines += vevent(event, url_of(event), lang)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
