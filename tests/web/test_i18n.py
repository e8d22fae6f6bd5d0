"""Catalogues: every text a page or the sign-in shows exists in German and English."""

from __future__ import annotations

from pathlib import Path

from shared.auth.principal import ROLE_LABELS_DE
from shared.web.i18n import (
    LOCALE_DIR,
    TEMPLATES_DIR,
    both,
    catalogue_problems,
    default_sources,
    extract,
    gettext_for,
    normalise,
    translations,
)
from shared.web.templating import ROLE_LABELS, SERVICES


def test_every_msgid_in_templates_and_code_is_translated_in_both_catalogues() -> None:
    problems = catalogue_problems(default_sources())
    assert problems == [], "\n".join(problems) + "\nRun: .venv/bin/python -m shared.web.i18n"


def test_the_extractor_reads_the_templates_and_the_code() -> None:
    used = extract(default_sources())
    from_templates = {m for m, where in used.items() if any(w.startswith("templates/") for w in where)}
    assert {
        "Skip to main content",
        "Please check your entries",
        "Sign in",
        "Required field",
    } <= from_templates
    assert "The user name or the password is not correct." in used  # shared/auth/login.py
    assert set(dict(SERVICES).values()) | set(ROLE_LABELS.values()) <= set(used)  # N_ markers


def test_a_missing_german_translation_is_named(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "page.html").write_text(
        '<p>{{ _("Sign in") }}</p><p>{% trans %}Brand new text{% endtrans %}</p>'
    )
    problems = catalogue_problems([templates], LOCALE_DIR)
    assert any(
        p.startswith("de: no translation for 'Brand new text' (templates/page.html:1)") for p in problems
    )
    assert any(p.startswith("en: no translation for 'Brand new text'") for p in problems)
    assert not any("'Sign in'" in p and "no translation" in p for p in problems)
    assert TEMPLATES_DIR.is_dir()


def test_navigation_and_role_labels_read_as_the_partners_name_them() -> None:
    german = gettext_for("de")
    assert [german(label) for _, label in SERVICES] == [
        "Verzeichnis",
        "Veranstaltungen",
        "Aktionsfonds",
        "Freiwilligendienste",
        "Berichte",
    ]
    assert {role: german(label) for role, label in ROLE_LABELS.items()} == ROLE_LABELS_DE


def test_german_is_the_default_and_unknown_languages_fall_back_to_it() -> None:
    assert normalise(None) == normalise("") == normalise("tr") == "de"
    assert normalise("EN") == normalise("en-GB") == "en"
    assert translations("xx").gettext("Sign in") == "Anmelden"
    assert both("You are signed in as %(name)s.", name="Ayşe") == (
        "You are signed in as Ayşe.",
        "Sie sind angemeldet als Ayşe.",
    )
