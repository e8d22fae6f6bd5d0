"""The embedded issuer's people: one demo account per role, passwords hashed with argon2.

The accounts live in `<data>/auth/users.json`. When that file is missing, the demo set is written there
(development and tests only: production uses a real OIDC provider and refuses to invent accounts). Edit the
file to change names or add people; `hash_password` makes the hash for a new entry.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from shared.auth.principal import Role

USERS_FILE = "users.json"
AUTH_DIR = "auth"
# The demo organisation account acts for this organisation; the directory's demo data creates it.
DEMO_ORGANISATION_ID = "8f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    name: str
    role: Role


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("via", "Vera Demir", Role.VIA),
    DemoAccount("tbb", "Tarik Bulut", Role.TBB),
    DemoAccount("cld", "Clara Lindner", Role.CLD),
    DemoAccount("senate", "Sena Albrecht", Role.SENATE),
    DemoAccount("admin", "Adrian Mertens", Role.ADMIN),
    DemoAccount("organisation", "Demo-Verein e.V.", Role.ORGANISATION),
    DemoAccount("integrator", "Schnittstelle IQ-Monitoring", Role.INTEGRATOR),
)


def demo_password(username: str) -> str:
    """The embedded default's demo password (documented for local use only): `<username>-demo`."""
    return f"{username}-demo"


@dataclass(frozen=True)
class User:
    username: str
    name: str
    roles: tuple[Role, ...]
    password_hash: str
    organisation_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "name": self.name,
            "roles": [str(r) for r in self.roles],
            "organisation_id": self.organisation_id,
            "password_hash": self.password_hash,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> User:
        return cls(
            username=normalise_username(str(data["username"])),
            name=str(data.get("name") or data["username"]),
            roles=tuple(Role(r) for r in data.get("roles", [])),
            password_hash=str(data["password_hash"]),
            organisation_id=data.get("organisation_id"),
        )


def normalise_username(username: str) -> str:
    """User names are compared without case and surrounding spaces (people type them on phones)."""
    return username.strip().lower()


def users_path(data_dir: Path) -> Path:
    return data_dir / AUTH_DIR / USERS_FILE


def hash_password(password: str, hasher: PasswordHasher | None = None) -> str:
    return (hasher or PasswordHasher()).hash(password)


class UserStore:
    """Looks people up and checks passwords; the same work is done for unknown names (no timing hint)."""

    def __init__(self, users: list[User], hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or PasswordHasher()
        self._users = {u.username: u for u in users}
        self._dummy_hash = self.hasher.hash("no such user")

    def get(self, username: str) -> User | None:
        return self._users.get(normalise_username(username))

    def __len__(self) -> int:
        return len(self._users)

    def authenticate(self, username: str, password: str) -> User | None:
        """The user when name and password match, else None: the caller cannot tell which was wrong."""
        user = self.get(username)
        try:
            self.hasher.verify(user.password_hash if user else self._dummy_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        return user

    def for_role(self, role: Role) -> User | None:
        """The first account holding `role` (what `ikmo token --role` signs for)."""
        return next((u for u in self._users.values() if role in u.roles), None)

    @classmethod
    def load(cls, path: Path, hasher: PasswordHasher | None = None) -> UserStore:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls([User.from_json(item) for item in data.get("users", [])], hasher)

    @classmethod
    def load_or_create(
        cls,
        data_dir: Path,
        *,
        organisation_id: str = DEMO_ORGANISATION_ID,
        allow_demo: bool = True,
        hasher: PasswordHasher | None = None,
    ) -> UserStore:
        """The users file of the data folder; written with the demo accounts when missing and allowed."""
        path = users_path(data_dir)
        if path.exists():
            return cls.load(path, hasher)
        if not allow_demo:
            raise FileNotFoundError(f"{path} is missing and demo accounts are not allowed here")
        hasher = hasher or PasswordHasher()
        users = [
            User(
                username=account.username,
                name=account.name,
                roles=(account.role,),
                password_hash=hasher.hash(demo_password(account.username)),
                organisation_id=organisation_id if account.role is Role.ORGANISATION else None,
            )
            for account in DEMO_ACCOUNTS
        ]
        write_users(path, users)
        return cls(users, hasher)


def write_users(path: Path, users: list[User]) -> None:
    """Written readable by the owner only, atomically (a half-written file would lock everyone out)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({"users": [u.to_json() for u in users]}, f, indent=2, ensure_ascii=False)
    os.replace(tmp, path)
