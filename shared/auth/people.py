"""Names for the actor ids that events record: the store keeps stable ids, pages show people.

Names are never written into events (a name changes, and an immutable store could not forget it). A page
that shows who did something looks the id up here: in the accounts of the embedded sign-in when its users
file is in the data folder, and always the person looking (their token carries their name). An id found
nowhere (an external OIDC provider's account) is shown as it is.
"""

from __future__ import annotations

import json
from pathlib import Path

from shared.auth.principal import Principal
from shared.auth.users import normalise_username, users_path

_cache: dict[Path, tuple[float, dict[str, str]]] = {}


def _accounts(path: Path) -> dict[str, str]:
    """username → name from the users file, read again only when it changed (people edit it by hand)."""
    try:
        changed = path.stat().st_mtime
    except FileNotFoundError:
        return {}
    cached = _cache.get(path)
    if cached and cached[0] == changed:
        return cached[1]
    try:
        users = json.loads(path.read_text(encoding="utf-8")).get("users", [])
        names = {normalise_username(str(u["username"])): str(u.get("name") or u["username"]) for u in users}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}  # a half-edited file must not break a page; the ids are shown instead
    _cache[path] = (changed, names)
    return names


def actor_names(data_dir: Path, viewer: Principal | None = None) -> dict[str, str]:
    """Every actor id this service can name, mapped to the person's name."""
    names = dict(_accounts(users_path(data_dir)))
    if viewer is not None and viewer.name:
        names[viewer.subject] = viewer.name
    return names
