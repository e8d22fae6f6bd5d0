"""Actor ids become names on pages: from the sign-in's accounts, from the viewer's token, else the id."""

from __future__ import annotations

import json
import os
from pathlib import Path

from shared.auth.people import actor_names
from shared.auth.principal import Principal, Role
from shared.auth.users import UserStore, users_path


def test_names_come_from_the_sign_in_accounts_and_follow_edits(tmp_path: Path) -> None:
    UserStore.load_or_create(tmp_path)  # the demo accounts, as the embedded sign-in writes them
    assert actor_names(tmp_path)["via"] == "Vera Demir"

    path = users_path(tmp_path)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["users"][0]["name"] = "Vera Demir-Schulz"
    path.write_text(json.dumps(data), encoding="utf-8")
    os.utime(path, (1, 1))  # a different modification time, however fast the edit was
    assert actor_names(tmp_path)["via"] == "Vera Demir-Schulz"


def test_without_accounts_only_the_viewer_is_named(tmp_path: Path) -> None:
    viewer = Principal("kc-4711", frozenset({Role.TBB}), name="Tarik Bulut")
    assert actor_names(tmp_path, viewer) == {"kc-4711": "Tarik Bulut"}
    assert actor_names(tmp_path) == {}


def test_a_broken_users_file_names_nobody_rather_than_failing(tmp_path: Path) -> None:
    users_path(tmp_path).parent.mkdir(parents=True)
    users_path(tmp_path).write_text("{not json", encoding="utf-8")
    assert actor_names(tmp_path) == {}
