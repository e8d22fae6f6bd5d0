"""Commands of advice (Beratung) and process accompaniment (Prozessbegleitung): what VIA's staff ask for.

Organisations arrive as ids; whether one exists and is active is the handler's question to the directory's
copy. The adviser is whoever is signed in: the entrypoint takes them from the principal, never from a form.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from shared.contracts.events import AccompanimentOutcome, ConsultationFormat, FundingLine, Topic


@dataclass(frozen=True)
class Advice:
    """Everything that describes one advice session (the facts for reports and the sealed notes)."""

    organisation_id: str
    topics: tuple[Topic, ...]
    held_on: date
    duration_minutes: int
    format: ConsultationFormat
    funding_line: FundingLine = FundingLine.SENATE_IKMO
    person_advised: str | None = None  # personal: sealed
    minutes: str | None = None  # Protokoll; may name people: sealed


@dataclass(frozen=True)
class RecordConsultation:
    """Record a session; with `accompaniment_id` it becomes a session of that accompaniment."""

    advice: Advice
    adviser_id: str
    accompaniment_id: str | None = None


@dataclass(frozen=True)
class CorrectConsultation:
    """Only the named fields change (`Advice` field names; None clears the person or the minutes)."""

    consultation_id: str
    changes: Mapping[str, Any]
    expected_version: int | None = None


@dataclass(frozen=True)
class OpenAccompaniment:
    organisation_id: str
    topics: tuple[Topic, ...]
    opened_on: date
    goal: str


@dataclass(frozen=True)
class CloseAccompaniment:
    accompaniment_id: str
    closed_on: date
    outcome: AccompanimentOutcome
    note: str
    expected_version: int | None = None
