"""A contact person of an organisation. Names, e-mail addresses and phone numbers are personal data: the
events carrying them are private and sealed under the person's own key, so erasing the key erases them
everywhere; what goes on the bus names the person only by a pseudonymous id.

Rules: a name of 2 to 200 characters; an e-mail address that looks like one; a phone number of digits,
spaces and + - / ( ); role and consent can change (a change to what already holds records nothing); a
removed or erased contact cannot be changed again.
"""

from __future__ import annotations

import re

from services.directory.domain.model import valid_name
from shared.contracts.directory import (
    ContactPersonAssigned,
    ContactPersonChanged,
    ContactPersonErased,
    ContactPersonRecorded,
    ContactPersonRemoved,
    ContactRole,
)
from shared.domain import Aggregate, DomainEvent
from shared.errors import DomainRuleViolation, InvalidInput

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ()/-]{5,30}$")


def valid_email(email: str | None) -> str | None:
    if not email or not email.strip():
        return None
    cleaned = email.strip()
    if not _EMAIL.match(cleaned) or len(cleaned) > 200:
        raise InvalidInput(
            "Enter an e-mail address such as name@example.org.",
            "Bitte eine E-Mail-Adresse wie name@beispiel.de angeben.",
            field="email",
        )
    return cleaned


def valid_phone(phone: str | None) -> str | None:
    if not phone or not phone.strip():
        return None
    cleaned = " ".join(phone.split())
    if not _PHONE.match(cleaned):
        raise InvalidInput(
            "Enter a phone number with digits, e.g. +49 30 1234567.",
            "Bitte eine Telefonnummer mit Ziffern angeben, z. B. +49 30 1234567.",
            field="phone",
        )
    return cleaned


class ContactPerson(Aggregate):
    stream_prefix = "contact"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.organisation_id = ""
        self.role: ContactRole | None = None
        self.consent = False
        self.removed = False
        self.erased = False

    @classmethod
    def record(
        cls,
        contact_id: str,
        organisation_id: str,
        name: str,
        role: ContactRole,
        consent: bool,
        email: str | None = None,
        phone: str | None = None,
    ) -> ContactPerson:
        contact = cls(contact_id)
        details = ContactPersonRecorded(
            contact_id=contact_id,
            organisation_id=organisation_id,
            name=valid_name(name),
            email=valid_email(email),
            phone=valid_phone(phone),
        )
        contact._record(details)
        contact._record(
            ContactPersonAssigned(
                contact_id=contact_id, organisation_id=organisation_id, role=role, consent=consent
            )
        )
        return contact

    def change(self, role: ContactRole | None, consent: bool | None) -> None:
        """A new role or consent (None: stays); consent can always be withdrawn, also when the
        organisation is archived."""
        self._ensure_current()
        assert self.role is not None
        new_role = self.role if role is None else role
        new_consent = self.consent if consent is None else consent
        changed = [
            what
            for what, before, after in (("role", self.role, new_role), ("consent", self.consent, new_consent))
            if before != after
        ]
        if not changed:
            return  # the same form sent twice
        self._record(
            ContactPersonChanged(
                contact_id=self.id,
                organisation_id=self.organisation_id,
                role=new_role,
                consent=new_consent,
                changed=changed,
            )
        )

    def remove(self) -> None:
        self._ensure_current()
        self._record(ContactPersonRemoved(contact_id=self.id, organisation_id=self.organisation_id))

    def erase(self) -> None:
        """Record the erasure; the handler deletes the person's key in the same transaction."""
        if self.erased:
            return
        self._record(ContactPersonErased(contact_id=self.id, organisation_id=self.organisation_id))

    def _ensure_current(self) -> None:
        if self.removed or self.erased:
            raise DomainRuleViolation(
                "This contact person has been removed.", "Diese Ansprechperson wurde bereits entfernt."
            )

    def apply(self, event: DomainEvent) -> None:
        match event:
            case ContactPersonRecorded():
                self.organisation_id = event.organisation_id
            case ContactPersonAssigned() | ContactPersonChanged():
                self.role, self.consent = event.role, event.consent
            case ContactPersonRemoved():
                self.removed = True
            case ContactPersonErased():
                self.erased = True
