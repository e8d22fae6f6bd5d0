"""Languages of the pages: German first, English second, from gettext catalogues compiled in memory.

Message ids are English (the language of the code, as everywhere in this repository); the German catalogue
translates them, the English one repeats them so that a test can insist that both are complete. The `.po`
files are read with Babel at first use and compiled in memory, so there is no build step and no `.mo` file
in the repository. A service may add its own `locale/` folder; its entries extend the shared ones.

Run `python -m shared.web.i18n [TEMPLATES_OR_CODE_DIR ...]` to add new msgids to the catalogues.
"""

from __future__ import annotations

import functools
import gettext as _gettext
import sys
from collections.abc import Callable, Iterable, Sequence
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

LANGUAGES = ("de", "en")
DEFAULT_LANGUAGE = "de"
LANG_COOKIE = "ikmo_lang"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600
LANGUAGE_NAMES = {"de": "Deutsch", "en": "English"}  # each in its own language: never translated

PACKAGE_DIR = Path(__file__).parent
LOCALE_DIR = PACKAGE_DIR / "locale"
TEMPLATES_DIR = PACKAGE_DIR / "templates"
DOMAIN = "messages"

# What the extractor looks for: gettext's usual names plus `N_` (mark now, translate later) and `both`.
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None, "both": None}
METHOD_MAP = [("**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
OPTIONS_MAP = {"**.html": {"trimmed": "true"}}


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Marks a msgid for extraction where the language is not known yet (labels in tables)."""
    return message


def normalise(lang: str | None) -> str:
    """A supported language code, or the default: anything unknown means German."""
    code = (lang or "").strip().lower()[:2]
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def po_path(locale_dir: Path, lang: str) -> Path:
    return locale_dir / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalogue(locale_dir: Path, lang: str) -> Catalog:
    with po_path(locale_dir, lang).open("rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


def _compile(catalog: Catalog) -> _gettext.GNUTranslations:
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


@functools.cache
def translations(lang: str, extra_locale_dirs: tuple[Path, ...] = ()) -> _gettext.NullTranslations:
    """The compiled catalogue of `lang`; a service's own catalogues win over the shared one."""
    lang = normalise(lang)
    result: _gettext.NullTranslations = _compile(read_catalogue(LOCALE_DIR, lang))
    for extra in extra_locale_dirs:
        if po_path(extra, lang).exists():
            own = _compile(read_catalogue(extra, lang))
            own.add_fallback(result)
            result = own
    return result


def gettext_for(lang: str, extra_locale_dirs: tuple[Path, ...] = ()) -> Callable[[str], str]:
    """`_` for code that knows the language (a handler building a message)."""
    return translations(lang, extra_locale_dirs).gettext


def both(message: str, **variables: object) -> tuple[str, str]:
    """(English, German) of one msgid, formatted: the shape error bodies and flash messages carry."""
    en = gettext_for("en")(message)
    de = gettext_for("de")(message)
    if variables:
        en, de = en % variables, de % variables
    return en, de


# -- catalogue maintenance and checks -------------------------------------------------------------------


def extract(sources: Iterable[Path]) -> dict[str, set[str]]:
    """Every msgid used in the given template/code folders, with where it was found."""
    found: dict[str, set[str]] = {}
    for source in sources:
        for filename, lineno, message, _comments, _context in extract_from_dir(
            str(source), METHOD_MAP, OPTIONS_MAP, keywords=KEYWORDS
        ):
            msgids = message if isinstance(message, tuple) else (message,)
            for msgid in msgids:
                if msgid:
                    found.setdefault(msgid, set()).add(f"{source.name}/{filename}:{lineno}")
    return found


def catalogue_problems(sources: Sequence[Path], locale_dir: Path = LOCALE_DIR) -> list[str]:
    """What a test should fail on: used but untranslated or fuzzy msgids, and entries nobody uses."""
    used = extract(sources)
    problems = []
    for lang in LANGUAGES:
        catalog = read_catalogue(locale_dir, lang)
        known = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog if m.id}
        for msgid, where in sorted(used.items()):
            entry = known.get(msgid)
            strings = entry.string if entry is not None else None
            texts = strings if isinstance(strings, tuple | list) else (strings,)
            if entry is None or not all(texts):
                problems.append(f"{lang}: no translation for {msgid!r} ({', '.join(sorted(where))})")
            elif entry.fuzzy:
                problems.append(f"{lang}: fuzzy translation for {msgid!r}")
        for msgid in sorted(set(known) - set(used)):
            problems.append(f"{lang}: {msgid!r} is in the catalogue but used nowhere")
    return problems


def update_catalogues(sources: Sequence[Path], locale_dir: Path = LOCALE_DIR) -> None:
    """Adds new msgids (English filled in, German left empty so the completeness test names them)."""
    used = extract(sources)
    for lang in LANGUAGES:
        catalog = read_catalogue(locale_dir, lang) if po_path(locale_dir, lang).exists() else None
        catalog = catalog or Catalog(locale=lang, domain=DOMAIN, project="IKMO")
        new = [msgid for msgid in sorted(used) if msgid not in catalog]
        if not new:
            continue  # leave the file (and its hand-written header) alone
        for msgid in new:
            catalog.add(msgid, msgid if lang == "en" else "")
        po_path(locale_dir, lang).parent.mkdir(parents=True, exist_ok=True)
        with po_path(locale_dir, lang).open("wb") as f:
            write_po(f, catalog, width=110, omit_header=False, sort_output=True)


def default_sources() -> list[Path]:
    """Where the shared catalogue's msgids live: the shared templates, the web look, the login page."""
    return [TEMPLATES_DIR, PACKAGE_DIR, PACKAGE_DIR.parent / "auth"]


if __name__ == "__main__":
    update_catalogues([Path(p) for p in sys.argv[1:]] or default_sources())
    print("\n".join(catalogue_problems(default_sources())) or "catalogues complete")
