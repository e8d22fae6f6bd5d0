"""The certificate of participation: only for who was checked in, never for someone erased; the PDF read
back with pypdf has the name, organisation, title and umlauts, and the names of the people VIA serves in
their own scripts (Arabic joined, Ethiopic, Cyrillic, Vietnamese composed); a character no bundled font
has is refused with a 409 instead of printing an empty box; staff get it from the API and the pages, the
participant through their personal link."""

from __future__ import annotations

import io
import unicodedata
from datetime import date, datetime
from typing import Any

import httpx
import pytest
from fontTools.ttLib import TTFont
from pypdf import PageObject, PdfReader
from pypdf.generic import DictionaryObject

from services.events import certificate
from services.events.tests.conftest import Directory
from services.events.tests.test_api import register
from services.events.tests.test_attendance_api import HTML, event_with_people
from services.events.tests.test_public import ANONYMOUS, fresh_limits, link_of

BERLIN_TIME = "+01:00"
__all__ = ["fresh_limits"]  # the public rate limits, reset around each test


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def fonts_on(page: PageObject) -> DictionaryObject:
    """A page's /Font resources; pypdf types each lookup as a bare PdfObject, so they are narrowed here."""
    resources = page["/Resources"]
    assert isinstance(resources, DictionaryObject)
    fonts = resources["/Font"]
    assert isinstance(fonts, DictionaryObject)
    return fonts


def fonts_of(pdf: bytes) -> set[str]:
    reader = PdfReader(io.BytesIO(pdf))
    return {str(font["/BaseFont"]) for page in reader.pages for font in fonts_on(page).values()}


def embedded_glyphs(pdf: bytes, family: str) -> set[str]:
    """The glyph names of the embedded subset of `family`: what the PDF actually draws with."""
    reader = PdfReader(io.BytesIO(pdf))
    names: set[str] = set()
    for font in fonts_on(reader.pages[0]).values():
        font = font.get_object()
        if font["/BaseFont"].endswith("+" + family):
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
            data = descriptor["/FontFile2"].get_object().get_data()
            names |= set(TTFont(io.BytesIO(data)).getGlyphOrder())
    return names


def runs(pdf: bytes) -> list[tuple[float, str]]:
    """The page's text runs as drawn, with their baseline (pt from the bottom), top to bottom."""
    found: list[tuple[float, str]] = []

    def visit(text: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        if text.strip():
            found.append((round(tm[5] * cm[3] + cm[5], 1), text))

    PdfReader(io.BytesIO(pdf)).pages[0].extract_text(visitor_text=visit)
    return found


def at(text: str) -> datetime:
    return datetime.fromisoformat(text + BERLIN_TIME)


def test_the_duration_is_hours_on_one_day_and_days_across_several() -> None:
    assert certificate.duration(at("2026-03-12T10:00"), at("2026-03-12T16:00"), "de") == "6 Stunden"
    assert (
        certificate.duration(at("2026-03-12T17:00"), at("2026-03-12T19:30"), "de") == "2 Stunden 30 Minuten"
    )
    assert certificate.duration(at("2026-03-12T10:00"), at("2026-03-12T11:00"), "en") == "1 hour"
    assert certificate.duration(at("2026-03-12T10:00"), at("2026-03-12T10:45"), "de") == "45 Minuten"
    assert certificate.duration(at("2026-03-12T09:00"), at("2026-03-14T16:00"), "de") == "3 Tage"


def test_who_gets_a_certificate() -> None:
    came = {"attended": True, "erased": False}
    assert certificate.refusal(came) is None
    missing = certificate.refusal({**came, "attended": False})
    assert missing is not None and "eingelassen" in missing.message_de and missing.status_code == 409
    erased = certificate.refusal({**came, "erased": True})
    assert erased is not None and "gelöscht" in erased.message_de


def facts(**changes: Any) -> certificate.Certificate:
    base = {
        "lang": "de",
        "name": "Ayşe Yılmaz-Łukasiewicz",
        "organisation": "Türkischer Elternverein Neukölln e.V.",
        "title": "Fachgespräch „Vorbilder zeigen“: Gründerinnen",
        "format": "Fachgespräch „Vorbilder zeigen“",
        "when": "Donnerstag, 12. März 2026, 10:00–16:00 Uhr",
        "duration": "6 Stunden",
        "topics": "Vereinsgründung und Vereinsführung, Politische Partizipation und Gremienarbeit",
        "where": "VIA, Petersburger Straße 92 (Friedrichshain-Kreuzberg)",
        "funding": "Senatsverwaltung (IKMO)",
        "issued_on": "13. März 2026",
        "reference": "r-1",
    }
    return certificate.Certificate(**{**base, **changes})


def test_the_pdf_prints_names_umlauts_and_quotes_in_the_bundled_font() -> None:
    pdf = certificate.pdf(facts())
    assert pdf.startswith(b"%PDF-")
    text = text_of(pdf)
    for expected in (
        "Teilnahmebescheinigung",
        "Ayşe Yılmaz-Łukasiewicz",
        "Türkischer Elternverein Neukölln e.V.",
        "„Fachgespräch „Vorbilder zeigen“: Gründerinnen“",
        "6 Stunden",
        "Friedrichshain-Kreuzberg",
        "Berlin, den 13. März 2026",
        "VIA – Verband für interkulturelle Arbeit",
    ):
        assert expected in text, (expected, text)
    assert all("DejaVuSans" in font for font in fonts_of(pdf))  # embedded from services/events/fonts
    english = text_of(certificate.pdf(facts(lang="en", issued_on="13 March 2026")))
    assert "Certificate of participation" in english and "took part in the following event" in english


async def test_staff_download_the_certificate_of_who_came_and_nobody_else(
    client: httpx.AsyncClient, directory: Directory
) -> None:
    yaar = await directory.organisation("Yaar e.V.")
    event_id, (first, second) = await _two(client, yaar)
    url = f"/events/{event_id}/registrations"
    refused = await client.get(f"{url}/{second}/certificate")
    assert refused.status_code == 409 and "eingelassen" in refused.json()["message_de"]
    page = await client.get(f"/veranstaltungen/{event_id}", headers=HTML)
    assert "Bescheinigung (PDF)" not in page.text  # nobody came yet: no link offered

    await client.post(f"{url}/{first}/attendance")
    response = await client.get(f"{url}/{first}/certificate")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == (
        'attachment; filename="Teilnahmebescheinigung-Person-1.pdf"'
    )
    text = text_of(response.content)
    assert "Person 1" in text and "Yaar e.V." in text and "Buchhaltung für kleine Vereine" in text
    assert "Qualifizierungsseminar" in text and "Person 2" not in text
    english = await client.get(f"{url}/{first}/certificate", params={"lang": "en"})
    assert "Certificate of participation" in text_of(english.content)

    page = await client.get(f"/veranstaltungen/{event_id}", headers={**HTML, "Cookie": "ikmo_lang=de"})
    assert page.text.count("Bescheinigung (PDF)") == 1  # beside Person 1 only
    checkin = await client.get(f"/veranstaltungen/{event_id}/einlass", headers=HTML)
    assert f"/events/{event_id}/registrations/{first}/certificate" in checkin.text
    unknown = await client.get(f"{url}/nobody/certificate")
    assert unknown.status_code == 404

    await client.post(f"{url}/{first}/erase")
    gone = await client.get(f"{url}/{first}/certificate")
    assert gone.status_code == 409 and "gelöscht" in gone.json()["message_de"]
    assert "Bescheinigung (PDF)" not in (await client.get(f"/veranstaltungen/{event_id}", headers=HTML)).text


async def _two(client: httpx.AsyncClient, organisation_id: str) -> tuple[str, list[str]]:
    """Today's seminar with Person 1 (for the organisation) and Person 2 registered."""
    event_id, _none = await event_with_people(client, people=0, title="Buchhaltung für kleine Vereine")
    first = (await register(client, event_id, 1, organisation_id=organisation_id)).json()["registration_id"]
    second = (await register(client, event_id, 2)).json()["registration_id"]
    return event_id, [first, second]


async def test_the_participant_downloads_it_through_the_personal_link_once_they_came(
    client: httpx.AsyncClient,
) -> None:
    event_id, (first,) = await event_with_people(client, people=1, title="Vereinsrecht kompakt")
    link = await link_of(client, "person1@verein.example")
    before = await client.get(link, headers=ANONYMOUS)
    assert before.status_code == 200 and "teilnahmebescheinigung.pdf" not in before.text
    early = await client.get(f"{link}/teilnahmebescheinigung.pdf", headers=ANONYMOUS)
    assert early.status_code == 409 and "nur für Personen, die bei der Veranstaltung" in early.text

    await client.post(f"/events/{event_id}/registrations/{first}/attendance")
    after = await client.get(link, headers=ANONYMOUS)
    assert "Meine Teilnahmebescheinigung herunterladen" in after.text
    assert "Meine Anmeldung stornieren" not in after.text  # who came cancels nothing any more
    pdf = await client.get(f"{link}/teilnahmebescheinigung.pdf", headers={"Authorization": ""})
    assert pdf.status_code == 200 and pdf.headers["referrer-policy"] == "no-referrer"
    assert "Person 1" in text_of(pdf.content) and "Vereinsrecht kompakt" in text_of(pdf.content)
    wrong = await client.get(
        "/oeffentlich/anmeldung/not-a-token/teilnahmebescheinigung.pdf", headers=ANONYMOUS
    )
    assert wrong.status_code == 404


EVENT = {
    "title": "Online-Fachrunde",
    "format": "network_meeting",
    "topics": ["volunteers"],
    "funding_line": "iq",
    "starts_at": at("2026-03-12T14:00"),
    "ends_at": at("2026-03-12T17:00"),
    "venue": None,
    "district": None,
    "online": True,
}


def test_the_issue_date_is_printed_as_given() -> None:
    person = {"id": "r-9", "name": "Marta Nowak", "organisation_name": None}
    facts_ = certificate.certificate_of(EVENT, person, "de", date(2026, 3, 20))
    assert (facts_.issued_on, facts_.where, facts_.duration) == ("20. März 2026", "online", "3 Stunden")
    assert facts_.funding.startswith("IQ") and facts_.organisation is None


# -- the scripts of the people VIA serves --------------------------------------------------------------------

NAMES = {
    "Arabic": ("محمد عبد الله", "جمعية الأمل", "NotoSansArabicBold"),
    "Persian": ("فاطمه رضایی", "انجمن فرهنگی افغان‌ها", "NotoSansArabicBold"),
    "Kurdish (Sorani)": ("ڕێبوار کەریمی", "کۆمەڵەی کوردان", "NotoSansArabicBold"),
    "Tigrinya": ("ሰላም ተስፋይ", "ማሕበር ኤርትራውያን", "NotoSansEthiopicBold"),
    "Ukrainian": ("Олена Шевченко", "Українська громада", None),
    "Kurdish (Latin)": ("Rêbîn Şêxmûs", "Komeleya Kurdên li Berlînê", None),
    "Azerbaijani": ("Leyla Əliyeva", "Azərbaycan Evi", None),
    "Armenian": ("Անի Պետրոսյան", "Հայկական համայնք", None),
    "Georgian": ("ნინო ბერიძე", "ქართული სათვისტომო", None),
    "Hebrew": ("נועה כהן", "קהילה ישראלית", None),
}


@pytest.mark.parametrize("script", list(NAMES))
def test_names_in_their_own_script_are_printed_in_a_font_that_has_them(script: str) -> None:
    name, organisation, noto = NAMES[script]
    pdf = certificate.pdf(facts(name=name, organisation=organisation))
    text = text_of(pdf)
    # pypdf reads right-to-left runs word by word in the order they stand on the page (visual order),
    # so the words are checked, each of them as typed.
    for word in (*name.split(), *organisation.replace("\u200c", " ").split()):
        assert word in text, (word, text)
    fonts = fonts_of(pdf)
    if noto is None:
        assert all("DejaVuSans" in font for font in fonts)  # DejaVu has them: no fallback loaded
    else:
        assert any(font.endswith("+" + noto) for font in fonts), fonts  # the bold name
        assert any(font.endswith("+" + noto.removesuffix("Bold")) for font in fonts), (
            fonts
        )  # the organisation


def _form(glyph: str) -> str:
    """ "init", "medi", "fina" or "" for a glyph name (Noto calls most joined forms by their presentation
    form's code point, uniFEE3 = MEEM INITIAL FORM, and the rest with a suffix, uni066E.medi)."""
    base, _, suffix = glyph.partition(".")
    if suffix in ("init", "medi", "fina"):
        return suffix
    if base.startswith("uni") and len(base) == 7:
        name = unicodedata.name(chr(int(base[3:], 16)), "")
        for form, word in (("init", "INITIAL FORM"), ("medi", "MEDIAL FORM"), ("fina", "FINAL FORM")):
            if name.endswith(word):
                return form
    return ""


def test_arabic_is_shaped_its_letters_joined() -> None:
    """HarfBuzz picks the initial, medial and final forms: without shaping the PDF would hold only the
    isolated letters, in the order typed, and nobody could read the name."""
    pdf = certificate.pdf(facts(name="محمد عبد الله", organisation=None))
    glyphs = embedded_glyphs(pdf, "NotoSansArabicBold")
    assert {_form(glyph) for glyph in glyphs} >= {"init", "medi", "fina"}, sorted(glyphs)


def test_a_vietnamese_name_typed_decomposed_is_printed_composed() -> None:
    typed = unicodedata.normalize("NFD", "Nguyễn Thị Phương Thảo")
    assert len(typed) > len("Nguyễn Thị Phương Thảo")  # the combining marks typed one by one
    facts_ = certificate.certificate_of(
        EVENT, {"id": "r-2", "name": typed, "organisation_name": None}, "de", date(2026, 3, 20)
    )
    assert facts_.name == "Nguyễn Thị Phương Thảo"
    pdf = certificate.pdf(facts_)
    assert "Nguyễn Thị Phương Thảo" in text_of(pdf)
    assert all("DejaVuSans" in font for font in fonts_of(pdf))


def test_chinese_from_the_common_hanzi_is_printed_in_the_subset() -> None:
    pdf = certificate.pdf(facts(name="王秀英", organisation="柏林华人协会"))
    # pypdf reads the CFF font's two-byte codes with a NUL before each character (pdftotext does not).
    text = text_of(pdf).replace("\x00", "")
    assert "王秀英" in text and "柏林华人协会" in text
    assert any(font.endswith("+NotoSansCJKSC") for font in fonts_of(pdf))


def test_arabic_followed_by_latin_stays_on_its_line_and_the_next_lines_stay_put() -> None:
    latin = runs(certificate.pdf(facts(organisation="Verein Hoffnung e.V.")))
    mixed = runs(certificate.pdf(facts(organisation="جمعية الأمل – Verein Hoffnung e.V.")))
    row = next(y for y, text in mixed if "جمعية" in text)
    line = [text for y, text in mixed if y == row]
    # a left-to-right page: the Arabic run first, "e.V." with its full stop at the end of the line
    assert line[-1] == "Verein Hoffnung e.V." and any("جمعية" in text for text in line[:-1]), line
    after = [run for run in mixed if run[0] < row]
    assert after == [run for run in latin if run[0] < row]  # every later line where it was, as it was


def test_a_character_no_bundled_font_has_is_refused_not_printed_as_a_box() -> None:
    for name in ("陈\U0002000b", "Anna \U0010fffd"):
        problem = certificate.unprintable(facts(name=name))
        assert problem is not None and problem.status_code == 409
        assert "Glyphe" in problem.message_de and "im Namen" in problem.message_de
        assert "no font of the certificate has" in problem.message_en
        with pytest.raises(type(problem)):
            certificate.pdf(facts(name=name))
    in_title = certificate.unprintable(facts(title="Fachtag \U0002000b"))
    assert in_title is not None and "U+2000B im Titel der Veranstaltung" in in_title.message_de
    assert certificate.unprintable(facts(name="فاطمه رضایی", organisation="ሰላም")) is None


async def test_staff_and_the_personal_link_get_a_409_for_a_name_no_font_can_print(
    client: httpx.AsyncClient,
) -> None:
    event_id, _none = await event_with_people(client, people=0, title="Vereinsrecht kompakt")
    email = "chen@verein.example"
    made = await register(client, event_id, 1, name="陈\U0002000b", email=email)
    registration = made.json()["registration_id"]
    await client.post(f"/events/{event_id}/registrations/{registration}/attendance")

    staff = await client.get(f"/events/{event_id}/registrations/{registration}/certificate")
    assert staff.status_code == 409, staff.text
    assert "U+2000B" in staff.json()["message_de"] and "leeres Kästchen" in staff.json()["message_de"]
    assert "empty box" in staff.json()["message"]
    link = await link_of(client, email)
    personal = await client.get(f"{link}/teilnahmebescheinigung.pdf", headers=ANONYMOUS)
    assert personal.status_code == 409 and "leeres Kästchen" in personal.text
    english = await client.get(
        f"{link}/teilnahmebescheinigung.pdf", headers={**ANONYMOUS, "Cookie": "ikmo_lang=en"}
    )
    assert english.status_code == 409 and "empty box" in english.text and "Kästchen" not in english.text


async def test_staff_and_the_personal_link_serve_an_arabic_name_in_noto(client: httpx.AsyncClient) -> None:
    event_id, _none = await event_with_people(client, people=0, title="Vereinsrecht kompakt")
    made = await register(client, event_id, 1, name="فاطمه رضایی", email="fatemeh@verein.example")
    registration = made.json()["registration_id"]
    await client.post(f"/events/{event_id}/registrations/{registration}/attendance")
    staff = await client.get(f"/events/{event_id}/registrations/{registration}/certificate")
    link = await link_of(client, "fatemeh@verein.example")
    personal = await client.get(f"{link}/teilnahmebescheinigung.pdf", headers=ANONYMOUS)
    for response in (staff, personal):
        assert response.status_code == 200
        assert "رضایی" in text_of(response.content) and "فاطمه" in text_of(response.content)
        assert any(font.endswith("+NotoSansArabicBold") for font in fonts_of(response.content))
