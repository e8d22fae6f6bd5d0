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
- an archived record cannot take over a duplicate (409); an archived duplicate may be merged away;
- what both records take part in at once would be doubled by the merge: the same network, a seat in
  the same committee, a cooperation with the same partner in the same field, an open mentoring with the
  same organisation; and an open mentoring between the two would become one of an organisation by itself.
  Each is refused (409, naming it) until one side of it ended.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from services.directory.domain.model import Organisation, Profile
from shared.contracts.directory import COOPERATING_KINDS, OrganisationKind
from shared.errors import DomainRuleViolation, InvalidInput


@dataclass(frozen=True)
class MergeOrganisations:
    """Merge `absorbed_id` into `survivor_id`; the expected versions are those the person looked at."""

    survivor_id: str
    absorbed_id: str
    reason: str | None = None
    survivor_version: int | None = None
    absorbed_version: int | None = None


@dataclass(frozen=True)
class Connections:
    """What one record (with every record merged into it before) takes part in now, each with its name,
    as the read models hold it. Organisations on the other side are given as they stand today."""

    networks: Mapping[str, str] = field(default_factory=dict)  # network id -> name
    committees: Mapping[str, str] = field(default_factory=dict)  # committee id -> name
    cooperations: Mapping[tuple[str, str], str] = field(default_factory=dict)  # (partner, field) -> name
    mentorings: Mapping[str, str] = field(default_factory=dict)  # open: the other organisation -> name


def check_connections(
    survivor_id: str, absorbed_id: str, survivor: Connections, absorbed: Connections
) -> None:
    """Raise what the merge would double, or turn into a mentoring of an organisation by itself."""
    clashes: list[tuple[str, str]] = []
    for network in sorted(survivor.networks.keys() & absorbed.networks.keys()):
        name = survivor.networks[network]
        clashes.append((f"both are members of the network {name}", f"beide sind Mitglied im Netzwerk {name}"))
    for committee in sorted(survivor.committees.keys() & absorbed.committees.keys()):
        name = survivor.committees[committee]
        clashes.append((f"both hold a seat in {name}", f"beide haben einen Sitz in {name}"))
    for partner, field_of_work in sorted(survivor.cooperations.keys() & absorbed.cooperations.keys()):
        name = survivor.cooperations[(partner, field_of_work)]
        clashes.append(
            (f"both cooperate with {name} in the same field", f"beide kooperieren mit {name} im selben Feld")
        )
    if absorbed_id in survivor.mentorings or survivor_id in absorbed.mentorings:
        clashes.append(
            ("a mentoring between the two is open", "zwischen den beiden läuft eine Mentoring-Begleitung")
        )
    for other in sorted(
        (survivor.mentorings.keys() & absorbed.mentorings.keys()) - {survivor_id, absorbed_id}
    ):
        name = survivor.mentorings[other]
        clashes.append(
            (f"both have an open mentoring with {name}", f"beide haben eine laufende Begleitung mit {name}")
        )
    if clashes:
        raise DomainRuleViolation(
            "The merge would double what both records take part in: "
            + "; ".join(en for en, _ in clashes)
            + ". End it for the duplicate first, then merge.",
            "Die Zusammenführung würde verdoppeln, woran beide Einträge teilnehmen: "
            + "; ".join(de for _, de in clashes)
            + ". Bitte dies zuerst für die Dublette beenden, dann zusammenführen.",
        )


def _added(first: tuple[str, ...], second: tuple[str, ...]) -> tuple:
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
    assert survivor.kind is not None and absorbed.kind is not None
    if not mergeable_kinds(survivor.kind, absorbed.kind):
        raise InvalidInput(
            "Only records of the same kind can be merged (an MO and a refugee initiative may).",
            "Nur Einträge derselben Art können zusammengeführt werden "
            "(eine MO und eine Geflüchteteninitiative schon).",
            field="absorbed_id",
        )


def merge(
    survivor: Organisation,
    absorbed: Organisation,
    reason: str | None,
    connections: tuple[Connections, Connections] = (Connections(), Connections()),
) -> None:
    """Decide the merge: record `duplicate_absorbed` on the survivor and `merged` on the duplicate.

    `connections` are what the survivor and the duplicate take part in now (read in the same transaction).
    """
    check_merge(survivor, absorbed)
    check_connections(survivor.id, absorbed.id, *connections)
    assert survivor.profile is not None and absorbed.profile is not None
    combined = merged_profile(survivor.profile, absorbed.profile)
    survivor.absorb_duplicate(absorbed.id, _name(absorbed), combined)
    absorbed.merge_into(survivor.id, _name(survivor), reason)


# -- finding likely duplicates -----------------------------------------------------------------------------

# Words that say nothing about which organisation it is (legal forms, fillers, the city).
_FILLERS = frozenset(
    {"gbr", "ggmbh", "gmbh", "und", "fuer", "der", "die", "das", "des", "dem", "den", "von", "vom", "zur"}
    | {"zum", "auf", "mit", "verein", "berlin", "demo"}
)
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def name_words(name: str) -> frozenset[str]:
    """The telling words of a name, spelled as people type them ("Brücke" and "Bruecke" are one word)."""
    spelled = unicodedata.normalize("NFKD", name.casefold().translate(_UMLAUTS))
    plain = "".join(c for c in spelled if not unicodedata.combining(c)).replace("e.v.", " ")
    return frozenset(w for w in re.split(r"[^a-z0-9]+", plain) if len(w) >= 3 and w not in _FILLERS)


def likely_duplicates(name: str, candidates: Iterable[tuple[str, str]]) -> list[str]:
    """Ids of the (id, name) candidates whose names share telling words with `name`, most shared first."""
    own = name_words(name)
    shared = [(len(own & name_words(other)), other.casefold(), i) for i, other in candidates]
    return [i for count, _, i in sorted((s for s in shared if s[0]), key=lambda s: (-s[0], s[1]))]


def mergeable_kinds(first: OrganisationKind, second: OrganisationKind) -> bool:
    return first == second or {first, second} <= COOPERATING_KINDS
