"""Who is calling: a principal with roles, read from token claims shaped as Keycloak issues them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    VIA = "via"  # VIA staff: qualification, coaching, networking, events
    TBB = "tbb"  # TBB staff: Aktionsfonds, Teilhabecheck
    CLD = "cld"  # Club Dialog staff: voluntary services desk
    SENATE = "senate"  # Senate office: aggregated reports only
    ADMIN = "admin"
    ORGANISATION = "organisation"  # an organisation's own account: acts only for that organisation
    INTEGRATOR = "integrator"  # another system: public events only


PARTNER_STAFF = frozenset({Role.VIA, Role.TBB, Role.CLD})

ROLE_LABELS_DE = {
    Role.VIA: "VIA (Mitarbeiter*in)",
    Role.TBB: "TBB (Mitarbeiter*in)",
    Role.CLD: "Club Dialog (Mitarbeiter*in)",
    Role.SENATE: "Senatsverwaltung",
    Role.ADMIN: "Administration",
    Role.ORGANISATION: "Organisationskonto",
    Role.INTEGRATOR: "Schnittstelle",
}


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[Role]
    name: str = ""
    organisation_id: str | None = None

    @property
    def actor(self) -> str:
        """What events record as their actor: the stable subject id, never a name."""
        return self.subject

    def has_any(self, roles: frozenset[Role]) -> bool:
        return bool(self.roles & roles)

    def may_act_for(self, organisation_id: str) -> bool:
        """Staff and admins act for anyone; an organisation account only for its own organisation."""
        if self.roles & (PARTNER_STAFF | {Role.ADMIN}):
            return True
        return Role.ORGANISATION in self.roles and self.organisation_id == organisation_id

    @classmethod
    def from_claims(cls, claims: dict[str, Any], client_id: str | None = None) -> Principal:
        """Roles from `realm_access.roles` and, if given, `resource_access.<client>.roles`."""
        names = set((claims.get("realm_access") or {}).get("roles") or [])
        if client_id:
            names |= set(((claims.get("resource_access") or {}).get(client_id) or {}).get("roles") or [])
        roles = frozenset(Role(n) for n in names if n in Role._value2member_map_)
        return cls(
            subject=str(claims["sub"]),
            roles=roles,
            name=str(claims.get("name") or claims.get("preferred_username") or ""),
            organisation_id=claims.get("ikmo_org"),
        )
