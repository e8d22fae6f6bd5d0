"""The certificate of participation (Teilnahmebescheinigung): who may have one, what it says, the PDF.

Only a registration that was checked in gets one, and none once the person is erased (there is no name
left to print). The PDF is drawn with fpdf2 in DejaVu Sans, bundled in `fonts/` (not the system's fonts,
which a clean machine may lack): its Unicode glyphs print „Anführungszeichen“ and umlauts as well as
names such as Ayşe Yılmaz, Łukasz, Nguyễn or Олена, which the PDF core fonts (Latin-1) cannot. The names
of the people VIA serves need more: Noto Sans Arabic (Arabic, Persian/Dari, Kurdish Sorani), Noto Sans
Ethiopic (Tigrinya, Amharic) and Noto Sans SC (the 6763 hanzi of GB 2312) are fallbacks for what DejaVu
lacks, drawn with HarfBuzz shaping so that Arabic letters join and run right to left. A text with a
character none of them has is refused (`unprintable`) rather than printed as empty boxes.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, fields
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from babel.dates import format_date
from fontTools.ttLib import TTFont
from fpdf import FPDF

from services.events.labels import label, local, timespan
from shared.errors import DomainRuleViolation

FONTS = Path(__file__).parent / "fonts"
MAIN_FONT = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
# Tried in this order for a character DejaVu lacks; a family without a bold file draws bold text regular
# (keeping the CJK subset to one weight keeps the fonts under 5 MB: a name in the right glyphs matters
# more than its weight).
FALLBACK_FONTS = {
    "NotoSansArabic": {"": "NotoSansArabic-Regular.ttf", "B": "NotoSansArabic-Bold.ttf"},
    "NotoSansEthiopic": {"": "NotoSansEthiopic-Regular.ttf", "B": "NotoSansEthiopic-Bold.ttf"},
    "NotoSansSC": {"": "NotoSansSC-Regular-GB2312.otf"},
}
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

    def __post_init__(self) -> None:
        # Vietnamese is often typed decomposed (e + U+0302 + U+0301): composed (NFC) it finds the one
        # glyph ế that DejaVu has, and the PDF's text layer reads back as typed elsewhere.
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, str):
                object.__setattr__(self, field.name, unicodedata.normalize("NFC", value))


@cache
def coverage(file: str) -> frozenset[int]:
    """The code points a bundled font has glyphs for (its cmap), read once per process."""
    with TTFont(FONTS / file, lazy=True) as font:
        return frozenset(font.getBestCmap())


def _main_coverage() -> frozenset[int]:
    return coverage(MAIN_FONT[""]) & coverage(MAIN_FONT["B"])  # either weight may print any text


def fallbacks_for(text: str) -> list[str]:
    """The fallback families this text needs, in the order fpdf2 tries them; a Latin, Greek or Cyrillic
    certificate loads none of them and costs what it did before."""
    needed = {ord(c) for c in text} - _main_coverage()
    return [
        family for family, files in FALLBACK_FONTS.items() if needed & coverage(next(iter(files.values())))
    ]


def missing_glyphs(text: str) -> list[str]:
    """The characters of `text` that no bundled font can draw (they would print as empty boxes)."""
    known = _main_coverage().union(
        *(coverage(f) for files in FALLBACK_FONTS.values() for f in files.values())
    )
    return sorted({c for c in text if c != "\n" and ord(c) not in known})


FIELD_NAMES = {
    "name": ("the name", "im Namen"),
    "organisation": ("the organisation's name", "im Namen der Organisation"),
    "title": ("the event's title", "im Titel der Veranstaltung"),
}


def unprintable(certificate: Certificate) -> DomainRuleViolation | None:
    """Why this certificate cannot be drawn without empty boxes (tofu), or None when every character has
    a glyph: a certificate with a garbled name is worse than none."""
    for field in fields(certificate):
        value = getattr(certificate, field.name)
        missing = missing_glyphs(value) if isinstance(value, str) else []
        if missing:
            en, de = FIELD_NAMES.get(field.name, ("the event's details", "in den Angaben zur Veranstaltung"))
            codes = ", ".join(f"U+{ord(c):04X}" for c in missing)
            return DomainRuleViolation(
                f"The certificate cannot be printed: no font of the certificate has the character {codes} "
                f"in {en}; it would show as an empty box. Please contact VIA.",
                f"Die Teilnahmebescheinigung kann nicht erstellt werden: Für das Zeichen {codes} {de} hat "
                "keine Schrift der Bescheinigung eine Glyphe, es erschiene als leeres Kästchen. Bitte wenden "
                "Sie sich an VIA.",
            )
    return None


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
    """One A4 page; refuses (`unprintable`) what it cannot draw, so no caller prints empty boxes."""
    problem = unprintable(certificate)
    if problem is not None:
        raise problem
    text = TEXTS[certificate.lang]
    doc = FPDF(format="A4")
    doc.set_margins(25, 25, 25)
    doc.set_auto_page_break(True, margin=20)
    for style, file in MAIN_FONT.items():
        doc.add_font("DejaVu", style, FONTS / file)
    needed = fallbacks_for("".join(v for v in vars(certificate).values() if isinstance(v, str)))
    for family in needed:
        for style, file in FALLBACK_FONTS[family].items():
            doc.add_font(family, style, FONTS / file)
    doc.set_fallback_fonts(needed, exact_match=False)  # a family without bold draws bold text regular
    # HarfBuzz shapes each run (Arabic joined and right to left, marks placed); the paragraphs stay left to
    # right as the German or English page is: "جمعية الأمل e.V." keeps its "e.V." at the end, on the right.
    doc.set_text_shaping(True, direction="ltr")
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
