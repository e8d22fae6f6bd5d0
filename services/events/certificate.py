"""The certificate of participation (Teilnahmebescheinigung): who may have one, what it says, the PDF.

Only a registration that was checked in gets one, and none once the person is erased (there is no name
left to print). The PDF is drawn with fpdf2 in DejaVu Sans, bundled in `fonts/` (not the system's fonts,
which a clean machine may lack): its Unicode glyphs print „Anführungszeichen“ and umlauts as well as
names such as Ayşe Yılmaz or Łukasz, which the PDF core fonts (Latin-1) cannot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from babel.dates import format_date
from fpdf import FPDF

from services.events.labels import label, local, timespan
from shared.errors import DomainRuleViolation

FONTS = Path(__file__).parent / "fonts"
ISSUER = (
    "VIA – Verband für interkulturelle Arbeit",
    "Regionalverband Berlin/Brandenburg e.V.",
    "Petersburger Straße 92, 10247 Berlin",
)

TEXTS = {
    "de": {
        "heading": "Teilnahmebescheinigung",
        "confirm": "Hiermit bestätigen wir, dass",
        "took_part": "an der folgenden Veranstaltung teilgenommen hat:",
        "format": "Format",
        "when": "Datum",
        "duration": "Dauer",
        "topics": "Themen",
        "where": "Ort",
        "online": "online",
        "funding": "Gefördert durch",
        "frame": "Die Veranstaltung fand im Rahmen des Interkulturellen Kompetenzzentrums für "
        "Migrant*innenorganisationen (IKMO) in Berlin statt, einer Kooperation von TBB, VIA und Club Dialog.",
        "issued": "Berlin, den {date}",
        "issuer": "VIA Berlin/Brandenburg e.V.",
        "reference": "Nummer der Bescheinigung: {reference}. Elektronisch erstellt; Rückfragen bitte an VIA.",
        "title": "Teilnahmebescheinigung – {title}",
    },
    "en": {
        "heading": "Certificate of participation",
        "confirm": "We hereby confirm that",
        "took_part": "took part in the following event:",
        "format": "Format",
        "when": "Date",
        "duration": "Duration",
        "topics": "Topics",
        "where": "Venue",
        "online": "online",
        "funding": "Funded by",
        "frame": "The event was part of the Intercultural Competence Centre for migrant organisations (IKMO) "
        "in Berlin, a cooperation of TBB, VIA and Club Dialog.",
        "issued": "Berlin, {date}",
        "issuer": "VIA Berlin/Brandenburg e.V.",
        "reference": "Certificate number: {reference}. Issued electronically; questions to VIA, please.",
        "title": "Certificate of participation – {title}",
    },
}


@dataclass(frozen=True)
class Certificate:
    """What the certificate says, in the language it is printed in."""

    lang: str
    name: str
    organisation: str | None
    title: str
    format: str
    when: str
    duration: str
    topics: str
    where: str
    funding: str
    issued_on: str
    reference: str


def refusal(registration: dict[str, Any]) -> DomainRuleViolation | None:
    """Why this registration gets no certificate, or None when it gets one."""
    if registration["erased"]:
        return DomainRuleViolation(
            "This person's data was erased: there is no certificate any more.",
            "Die Daten dieser Person wurden gelöscht: Eine Teilnahmebescheinigung gibt es nicht mehr.",
        )
    if not registration["attended"]:
        return DomainRuleViolation(
            "A certificate of participation is only for people who were checked in at the event.",
            "Eine Teilnahmebescheinigung gibt es nur für Personen, die bei der Veranstaltung "
            "eingelassen wurden.",
        )
    return None


def duration(starts_at: datetime, ends_at: datetime, lang: str) -> str:
    """ "6 Stunden", "2 Stunden 30 Minuten"; across days: "3 Tage" (the days, not the hours, count)."""
    start, end = local(starts_at), local(ends_at)
    de = lang == "de"
    if end.date() != start.date():
        days = (end.date() - start.date()).days + 1
        return f"{days} {'Tage' if de else 'days'}"
    minutes = round((end - start).total_seconds() / 60)
    hours, rest = divmod(minutes, 60)
    hour_word = ("Stunde", "Stunden") if de else ("hour", "hours")
    parts = [f"{hours} {hour_word[hours != 1]}"] if hours else []
    if rest or not hours:
        parts.append(f"{rest} {'Minuten' if de else 'minutes'}")
    return " ".join(parts)


def certificate_of(
    event: dict[str, Any], registration: dict[str, Any], lang: str, issued_on: date
) -> Certificate:
    """The facts from the read models (`queries.get_event`, `queries.registrations_of`)."""
    place = event["venue"] or ""
    if place and event["district"]:
        place = f"{place} ({label(event['district'], lang)})"
    if event["online"]:
        place = f"{place}, {TEXTS[lang]['online']}" if place else TEXTS[lang]["online"]
    return Certificate(
        lang=lang,
        name=registration["name"],
        organisation=registration["organisation_name"],
        title=event["title"],
        format=label(event["format"], lang),
        when=timespan(event["starts_at"], event["ends_at"], lang),
        duration=duration(event["starts_at"], event["ends_at"], lang),
        topics=", ".join(label(t, lang) for t in event["topics"]),
        where=place,
        funding=label(event["funding_line"], lang),
        issued_on=format_date(issued_on, "d. MMMM y" if lang == "de" else "d MMMM y", locale=lang),
        reference=registration["id"],
    )


def pdf(certificate: Certificate) -> bytes:
    """One A4 page."""
    text = TEXTS[certificate.lang]
    doc = FPDF(format="A4")
    doc.set_margins(25, 25, 25)
    doc.set_auto_page_break(True, margin=20)
    doc.add_font("DejaVu", "", FONTS / "DejaVuSans.ttf")
    doc.add_font("DejaVu", "B", FONTS / "DejaVuSans-Bold.ttf")
    doc.set_title(text["title"].format(title=certificate.title))
    doc.set_author(text["issuer"])
    doc.set_creator("IKMO")
    doc.set_lang(certificate.lang)
    doc.add_page()

    def line(words: str, size: float = 11, bold: bool = False, height: float = 6, after: float = 0) -> None:
        doc.set_font("DejaVu", "B" if bold else "", size)
        doc.multi_cell(0, height, words, new_x="LMARGIN", new_y="NEXT", align="L")
        if after:
            doc.ln(after)

    line(ISSUER[0], 11, bold=True, height=5)
    for part in ISSUER[1:]:
        line(part, 10, height=5)
    doc.ln(4)
    doc.set_draw_color(0, 80, 122)
    doc.set_line_width(0.6)
    doc.line(25, doc.get_y(), 185, doc.get_y())
    doc.ln(18)
    line(text["heading"], 24, bold=True, height=11, after=10)
    line(text["confirm"], 11, after=3)
    line(certificate.name, 16, bold=True, height=8)
    if certificate.organisation:
        line(certificate.organisation, 11)
    doc.ln(3)
    line(text["took_part"], 11, after=4)
    line(f"„{certificate.title}“" if certificate.lang == "de" else f"“{certificate.title}”", 14, True, 7, 5)
    for key, value in (
        ("format", certificate.format),
        ("when", certificate.when),
        ("duration", certificate.duration),
        ("topics", certificate.topics),
        ("where", certificate.where),
        ("funding", certificate.funding),
    ):
        doc.set_font("DejaVu", "B", 10)
        doc.cell(38, 6, text[key] + ":")
        doc.set_font("DejaVu", "", 10)
        doc.multi_cell(0, 6, value, new_x="LMARGIN", new_y="NEXT", align="L")
    doc.ln(6)
    line(text["frame"], 10, height=5, after=14)
    line(text["issued"].format(date=certificate.issued_on), 11, after=2)
    line(text["issuer"], 11, bold=True, after=20)
    line(text["reference"].format(reference=certificate.reference), 8, height=4)
    return bytes(doc.output())
