"""Partner search: which administrations and services fit an organisation, and why.

Pure ranking: a candidate scores 3 per shared district, 2 per shared field of work and 1 per shared
language other than German. A language alone makes no suggestion (a Jobcenter across the city is no
partner because both speak Turkish): a candidate must share a district or a field of work. Current
partners, archived ones and the organisation itself are left out. Each suggestion says in German and
English why it was made, so a person can judge it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

DISTRICT_WEIGHT, FIELD_WEIGHT, LANGUAGE_WEIGHT = 3, 2, 1
COMMON_LANGUAGE = "de"  # every administration speaks it: sharing it tells nothing


@dataclass(frozen=True)
class Candidate:
    id: str
    name: str
    districts: frozenset[str]
    fields_of_work: frozenset[str]
    languages: frozenset[str]


@dataclass(frozen=True)
class Suggestion:
    id: str
    name: str
    score: int
    reason_en: str
    reason_de: str


_WORDS = {
    "de": ("gleicher Bezirk", "gemeinsames Arbeitsfeld", "gemeinsame Sprache"),
    "en": ("same district", "shared field of work", "shared language"),
}


def _reason(
    shared: tuple[list[str], list[str], list[str]], lang: str, label: Callable[[str, str], str]
) -> str:
    parts = [
        f"{word}: {', '.join(label(v, lang) for v in values)}"
        for word, values in zip(_WORDS[lang], shared, strict=True)
        if values
    ]
    return "; ".join(parts)


def suggest(
    organisation: Candidate,
    candidates: Iterable[Candidate],
    current_partners: set[str],
    label: Callable[[str, str], str],
    limit: int = 10,
) -> list[Suggestion]:
    """Ranked suggestions (best first, then by name); `label(value, lang)` names districts and fields."""
    found = []
    for candidate in candidates:
        if candidate.id == organisation.id or candidate.id in current_partners:
            continue
        districts = sorted(organisation.districts & candidate.districts)
        fields = sorted(organisation.fields_of_work & candidate.fields_of_work)
        if not districts and not fields:
            continue
        languages = sorted((organisation.languages & candidate.languages) - {COMMON_LANGUAGE})
        score = (
            DISTRICT_WEIGHT * len(districts) + FIELD_WEIGHT * len(fields) + LANGUAGE_WEIGHT * len(languages)
        )

        shared = (districts, fields, languages)
        found.append(
            Suggestion(
                candidate.id,
                candidate.name,
                score,
                _reason(shared, "en", label),
                _reason(shared, "de", label),
            )
        )
    return sorted(found, key=lambda s: (-s.score, s.name.casefold()))[:limit]
