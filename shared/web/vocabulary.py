"""Labels and local time that every service shows the same way.

A service keeps its own vocabulary (what people choose from in its forms), but the values of the shared
contracts (Berlin's districts) and the city's clock are one thing platform-wide: written here once, so a
district is never called two names by two services.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from shared.contracts.directory import District

Labels = Mapping[Any, tuple[str, str]]  # value -> (German, English)

BERLIN = ZoneInfo("Europe/Berlin")  # people read times in their own city's time

DISTRICTS: Labels = {
    District.MITTE: ("Mitte", "Mitte"),
    District.FRIEDRICHSHAIN_KREUZBERG: ("Friedrichshain-Kreuzberg", "Friedrichshain-Kreuzberg"),
    District.PANKOW: ("Pankow", "Pankow"),
    District.CHARLOTTENBURG_WILMERSDORF: ("Charlottenburg-Wilmersdorf", "Charlottenburg-Wilmersdorf"),
    District.SPANDAU: ("Spandau", "Spandau"),
    District.STEGLITZ_ZEHLENDORF: ("Steglitz-Zehlendorf", "Steglitz-Zehlendorf"),
    District.TEMPELHOF_SCHOENEBERG: ("Tempelhof-Schöneberg", "Tempelhof-Schöneberg"),
    District.NEUKOELLN: ("Neukölln", "Neukölln"),
    District.TREPTOW_KOEPENICK: ("Treptow-Köpenick", "Treptow-Köpenick"),
    District.MARZAHN_HELLERSDORF: ("Marzahn-Hellersdorf", "Marzahn-Hellersdorf"),
    District.LICHTENBERG: ("Lichtenberg", "Lichtenberg"),
    District.REINICKENDORF: ("Reinickendorf", "Reinickendorf"),
}


def label_in(vocabulary: Mapping[str, Labels], value: StrEnum | str | None, lang: str = "de") -> str:
    """A value's label from any table of a vocabulary, German by default; the value itself if unknown."""
    if value is None:
        return ""
    for table in vocabulary.values():
        if value in table:
            de, en = table[value]
            return en if lang == "en" else de
    return str(value)


def local(moment: datetime) -> datetime:
    """A stored time as Berlin reads it; SQLite hands times back without their zone, and they are UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(BERLIN)
