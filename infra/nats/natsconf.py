"""The NATS users of the platform and what each may do; renders `nats-server.conf` and makes credentials.

    python infra/nats/natsconf.py render              # print the configuration (nats-server.conf is this)
    python infra/nats/natsconf.py check               # exit 1 if nats-server.conf differs from the rules
    python infra/nats/natsconf.py credentials DIR     # fresh passwords: DIR/nats-server.env + DIR/<user>.env

The rules below are the only place to change: who reads which stream, which integrators exist. Subjects
are enumerated because NATS wildcards match whole tokens only (`reporting-*` is not a pattern), so each
durable consumer name appears literally. See README.md beside this file for the reasons.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONFIG_FILE = HERE / "nats-server.conf"

DLQ_STREAM = "IKMO_DLQ"
DLQ_PREFIX = "ikmo.dlq"

# Which service streams each service consumes (architecture: events, grants and volunteering read the
# directory; grants also reads events; reporting reads every public stream). One durable per pair,
# named `<reader>-<source>`.
READS: Mapping[str, tuple[str, ...]] = {
    "directory": (),
    "events": ("directory",),
    "grants": ("directory", "events"),
    "volunteering": ("directory",),
    "reporting": ("directory", "events", "grants", "volunteering"),
}
SERVICES: tuple[str, ...] = tuple(READS)

# External consumers of public events; user and durable consumer name are `integrator-<name>`.
INTEGRATORS: tuple[str, ...] = ("iq-monitoring",)

ADMIN = "admin"
_NAME = re.compile(r"^[a-z][a-z0-9-]*$")


def stream(service: str) -> str:
    return f"IKMO_{service.upper()}"


def password_variable(user: str) -> str:
    """`IKMO_NATS_<USER>_PASSWORD`: holds the bcrypt hash (or a plain password) for nats-server."""
    return f"IKMO_NATS_{user.upper().replace('-', '_')}_PASSWORD"


def inbox(user: str) -> str:
    """The only subjects a user may subscribe to (`shared.bus.connection.inbox_prefix_for`)."""
    return f"_INBOX.{user}.>"


def _consumer_subjects(stream_name: str, consumer: str) -> list[str]:
    """What a durable pull consumer needs: create (every form nats clients use), info, pull, ack."""
    api = "$JS.API.CONSUMER"
    return [
        f"{api}.CREATE.{stream_name}.{consumer}",
        f"{api}.CREATE.{stream_name}.{consumer}.>",  # the form with one filter subject in the name
        f"{api}.DURABLE.CREATE.{stream_name}.{consumer}",  # nats-py with filter_subjects, older clients
        f"{api}.INFO.{stream_name}.{consumer}",
        f"{api}.MSG.NEXT.{stream_name}.{consumer}",
        f"$JS.ACK.{stream_name}.{consumer}.>",
    ]


@dataclass(frozen=True)
class User:
    name: str
    role: str
    publish: tuple[str, ...] = ()
    publish_deny: tuple[str, ...] = ()
    subscribe: tuple[str, ...] = ()
    unrestricted: bool = False


def service_user(service: str) -> User:
    own = stream(service)
    publish = [f"ikmo.{service}.>"]
    for name in (own, DLQ_STREAM):
        publish += [f"$JS.API.STREAM.{op}.{name}" for op in ("CREATE", "UPDATE", "INFO")]
    for source in READS[service]:
        consumer = f"{service}-{source}"
        publish.append(f"{DLQ_PREFIX}.{consumer}")
        publish += _consumer_subjects(stream(source), consumer)
    reads = ", ".join(READS[service]) or "nothing"
    role = f"service {service}: publishes its own stream, reads {reads}"
    return User(service, role, publish=tuple(publish), subscribe=(inbox(service),))


def integrator_user(name: str) -> User:
    user = f"integrator-{name}"
    publish: list[str] = []
    for service in SERVICES:
        publish.append(f"$JS.API.STREAM.INFO.{stream(service)}")
        publish += _consumer_subjects(stream(service), user)
        publish.append(f"$JS.API.CONSUMER.DELETE.{stream(service)}.{user}")
    # Explicit denials win over any allow: they stay true if the allow list is ever widened by mistake.
    deny = (
        "ikmo.>",
        "$JS.API.STREAM.CREATE.>",
        "$JS.API.STREAM.UPDATE.>",
        "$JS.API.STREAM.DELETE.>",
        f"$JS.API.*.*.{DLQ_STREAM}",
        f"$JS.API.*.*.{DLQ_STREAM}.>",
        f"$JS.API.*.*.*.{DLQ_STREAM}",
        f"$JS.API.*.*.*.{DLQ_STREAM}.>",
        f"$JS.ACK.{DLQ_STREAM}.>",
    )
    role = f"integrator {name}: reads public events through its own durables, publishes nothing"
    return User(user, role, publish=tuple(publish), publish_deny=deny, subscribe=(inbox(user),))


def users() -> list[User]:
    for name in (*SERVICES, *INTEGRATORS):
        if not _NAME.match(name):
            raise ValueError(f"{name!r}: lowercase letters, digits and hyphens only")
    return [
        User(ADMIN, "operations: everything (streams, consumers, IKMO_DLQ)", unrestricted=True),
        *(service_user(s) for s in SERVICES),
        *(integrator_user(i) for i in INTEGRATORS),
    ]


def _list(items: Iterable[str], indent: str) -> str:
    return "[\n" + "".join(f'{indent}  "{item}"\n' for item in items) + f"{indent}]"


def render() -> str:
    out = [
        "# GENERATED by infra/nats/natsconf.py from its rules; edit those and run `natsconf.py render`.",
        "# Ports and the JetStream store directory come from the command line:",
        "#   nats-server -c nats-server.conf -p 4222 -m 8222 -js -sd /data",
        "# Each password is read from the environment variable named beside it; its value is parsed as a",
        "# NATS config value, so it must be in double quotes: IKMO_NATS_ADMIN_PASSWORD='\"$2b$11$...\"'.",
        "# A bcrypt hash (as `natsconf.py credentials` writes) or a plain password both work.",
        "",
        "jetstream: enabled",
        "",
        "authorization {",
        "  users: [",
    ]
    for user in users():
        out.append(f"    # {user.role}")
        out.append("    {")
        out.append(f'      user: "{user.name}"')
        out.append(f"      password: ${password_variable(user.name)}")
        if not user.unrestricted:
            out.append("      permissions: {")
            out.append("        publish: {")
            out.append(f"          allow: {_list(user.publish, '          ')}")
            if user.publish_deny:
                out.append(f"          deny: {_list(user.publish_deny, '          ')}")
            out.append("        }")
            allowed = ", ".join(f'"{subject}"' for subject in user.subscribe)
            out.append(f"        subscribe: {{ allow: [{allowed}] }}")
            out.append("      }")
        out.append("    }")
    out += ["  ]", "}", ""]
    return "\n".join(out)


@dataclass(frozen=True)
class Credentials:
    """Fresh passwords: `server_env` for nats-server (hashes), `passwords` per user for the clients."""

    server_env: dict[str, str]
    passwords: dict[str, str]


def make_credentials(rounds: int = 11, hashed: bool = True) -> Credentials:
    """A random password per user; nats-server gets its bcrypt hash (or, with `hashed=False`, the password
    itself, for a throwaway local server without the bcrypt package), quoted as the config parser needs.
    """
    passwords = {user.name: secrets.token_urlsafe(24) for user in users()}
    if hashed:
        import bcrypt

        def server_value(password: str) -> str:
            return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()
    else:

        def server_value(password: str) -> str:
            return password

    server_env = {password_variable(name): f'"{server_value(pw)}"' for name, pw in passwords.items()}
    return Credentials(server_env, passwords)


def write_credentials(directory: Path, credentials: Credentials) -> list[Path]:
    """`nats-server.env` (hashes only) and `<user>.env` (IKMO_NATS_USER/IKMO_NATS_PASSWORD), mode 0600.

    Values are single-quoted: literal for a POSIX shell (`set -a; . file`) and for docker compose.
    """
    directory.mkdir(parents=True, exist_ok=True)
    files = {"nats-server.env": credentials.server_env}
    for user, password in credentials.passwords.items():
        files[f"{user}.env"] = {"IKMO_NATS_USER": user, "IKMO_NATS_PASSWORD": password}
    written = []
    for filename, values in files.items():
        path = directory / filename
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.writelines(f"{key}='{value}'\n" for key, value in values.items())
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("render", help="print the configuration")
    sub.add_parser("check", help="fail if nats-server.conf is not what the rules render")
    cred = sub.add_parser("credentials", help="write fresh passwords and bcrypt hashes as env files")
    cred.add_argument("directory", type=Path)
    cred.add_argument("--rounds", type=int, default=11, help="bcrypt cost (default 11)")
    cred.add_argument("--plain", action="store_true", help="give nats-server the passwords, not hashes")
    args = parser.parse_args(argv)
    if args.command == "render":
        sys.stdout.write(render())
    elif args.command == "check":
        if CONFIG_FILE.read_text() != render():
            print(f"{CONFIG_FILE} is stale: python {__file__} render > {CONFIG_FILE}", file=sys.stderr)
            return 1
    else:
        for path in write_credentials(args.directory, make_credentials(args.rounds, hashed=not args.plain)):
            print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
