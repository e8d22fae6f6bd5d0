"""What the events service's pages show of its vocabularies and events: choices in the page's language,
labels and Berlin times. (Errors beside fields and form versions come from shared/web/forms.py.)"""

from __future__ import annotations

from typing import Any

from services.events import handlers
from services.events.labels import VOCABULARY, label, local, moment, month, timespan
from shared.web.forms import options_of


def options(vocabulary: str, lang: str) -> list[tuple[str, str]]:
    """(value, label) pairs of one of the events service's vocabularies in the page's language."""
    return options_of(VOCABULARY[vocabulary], lang)


# The public pages say "only a few places left" from this many free places down, not the number: an exact
# count moves with every registration, so a stranger who types someone's address into the form could
# tell from it whether that person was registered already (the form's answer is the same either way).
FEW_PLACES = 3


def shown(event: dict[str, Any], lang: str) -> dict[str, Any]:
    """An event with what a page prints: labels, times in Berlin, whether registration is open."""
    deadline_passed = local(event["registration_deadline"]) < handlers.utc_now()
    return {
        **event,
        "format_label": label(event["format"], lang),
        "topic_labels": [label(t, lang) for t in event["topics"]],
        "funding_label": label(event["funding_line"], lang),
        "district_label": label(event["district"], lang) if event["district"] else "",
        "cancel_reason_label": label(event["cancel_reason"], lang) if event.get("cancel_reason") else "",
        "when": timespan(event["starts_at"], event["ends_at"], lang),
        "deadline": moment(event["registration_deadline"], lang),
        "month": month(event["starts_at"], lang),
        "open": event["status"] == "published" and not deadline_passed,
        "deadline_passed": deadline_passed,
        "full": event["free_places"] == 0,
        "few_places": 0 < event["free_places"] <= FEW_PLACES,
    }
