"""Merging duplicates: two records of one organisation become one, and neither history is lost.

The survivor carries on and takes over what the duplicate knew (districts, fields of work and languages are
added; its website is taken only when the survivor has none; the survivor's name, legal form and consent
to a public profile stay, since consent is given for one record and is not carried over). The duplicate
ends in a "merged into" state: it changes and joins nothing any more, its history stays readable, and
its id now stands for the survivor. Both events are recorded in one transaction, so no one sees half a
merge; other services learn of it from `ikmo.directory.organisation.merged`.

Rules (German and English):
- a record cannot be merged with itself (422, field `absorbed_id`);
- only records of the same kind merge, except that an MO and a refugee initiative may (the same group
  entered once as each): 422, field `absorbed_id`;
- a record merged away can be neither merged again nor take over another (409, naming the survivor);
- an archived record cannot take over a duplicate (409); an archived duplicate may be merged away.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from services.directory.domain.model import Organisation, Profile
from shared.contracts.directory import COOPERATING_KINDS
from shared.errors import DomainRuleViolation, InvalidInput


@dataclass(frozen=True)
class MergeOrganisations:
    """Merge `absorbed_id` into `survivor_id`; the expected versions are those the person looked at."""

    survivor_id: str
    absorbed_id: str
    reason: str | None = None
    survivor_version: int | None = None
    absorbed_version: int | None = None


def _added(first: tuple[str, ...], second: tuple[str, ...]) -> tuple:  # type: ignore[type-arg]
    return tuple(dict.fromkeys((*first, *second)))


def merged_profile(survivor: Profile, absorbed: Profile) -> Profile:
    """The profile the two records make together (what the confirmation page shows before merging)."""
    return replace(
        survivor,
        districts=_added(survivor.districts, absorbed.districts),
        fields_of_work=_added(survivor.fields_of_work, absorbed.fields_of_work),
        languages=_added(survivor.languages, absorbed.languages),
        website=survivor.website or absorbed.website,
    )


def _name(organisation: Organisation) -> str:
    return organisation.profile.name if organisation.profile else organisation.id


def check_merge(survivor: Organisation, absorbed: Organisation) -> None:
    """Raise the reason these two cannot be merged (in this direction), if there is one."""
    if survivor.id == absorbed.id:
        raise InvalidInput(
            "An organisation cannot be merged with itself: choose the duplicate.",
            "Eine Organisation kann nicht mit sich selbst zusammengeführt werden: Bitte die Dublette wählen.",
            field="absorbed_id",
        )
    for record in (absorbed, survivor):
        if record.merged_into is not None:
            raise DomainRuleViolation(
                f"{_name(record)} was already merged into {record.merged_into_name}.",
                f"{_name(record)} wurde bereits mit {record.merged_into_name} zusammengeführt.",
            )
    if survivor.archived:
        raise DomainRuleViolation(
            f"{_name(survivor)} is archived and cannot take over a duplicate; merge the other way round.",
            f"{_name(survivor)} ist archiviert und kann keine Dublette übernehmen; "
            "bitte umgekehrt zusammenführen.",
        )
    kinds = {survivor.kind, absorbed.kind}
    if len(kinds) > 1 and not kinds <= COOPERATING_KINDS:
        raise InvalidInput(
            "Only records of the same kind can be merged (an MO and a refugee initiative may).",
            "Nur Einträge derselben Art können zusammengeführt werden "
            "(eine MO und eine Geflüchteteninitiative schon).",
            field="absorbed_id",
        )


def merge(survivor: Organisation, absorbed: Organisation, reason: str | None) -> None:
    """Decide the merge: record `duplicate_absorbed` on the survivor and `merged` on the duplicate."""
    check_merge(survivor, absorbed)
    assert survivor.profile is not None and absorbed.profile is not None
    combined = merged_profile(survivor.profile, absorbed.profile)
    survivor.absorb_duplicate(absorbed.id, _name(absorbed), combined)
    absorbed.merge_into(survivor.id, _name(survivor), reason)
