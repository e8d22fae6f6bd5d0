"""`ikmo`: run the platform (`up`), mint a token (`token`), look at it (`status`), rebuild read models."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import urllib.request
from pathlib import Path

from shared.auth.login import mint_for_script
from shared.auth.principal import Role
from shared.platform.runner import (
    Platform,
    PlatformError,
    Ports,
    existing_services,
    get_json,
    issuer_url,
    nats_answers,
    running_runner,
    stop_on_signals,
)
from shared.settings import NATS_PORT_OFFSET

UP, READY, DOWN = "läuft / up", "bereit / ready", "aus / down"


def _ports(args: argparse.Namespace) -> Ports:
    return Ports.from_base(args.port_base, args.nats_port)


def cmd_up(args: argparse.Namespace) -> int:
    platform = Platform(
        Path(args.data_dir), _ports(args), load_demo=not args.no_demo, external_nats=args.nats_url
    )
    stop_on_signals()
    code = 0
    try:
        platform.start()
        print(platform.banner(), flush=True)
        platform.wait()
    except KeyboardInterrupt:
        pass
    except PlatformError as problem:
        print(f"ikmo up: {problem}", file=sys.stderr, flush=True)
        code = 1
    finally:
        # A second Ctrl-C must not cut the orderly stop short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if platform.children or platform.nats:
            print("IKMO wird beendet / stopping …", flush=True)
        platform.stop()
    if code == 0:
        kept = Path(args.data_dir).resolve()
        print(f"Beendet / stopped. Die Daten bleiben / data kept in {kept}", flush=True)
    return code


def cmd_token(args: argparse.Namespace) -> int:
    token = mint_for_script(
        Path(args.data_dir),
        args.role,
        subject=args.subject,
        organisation_id=args.organisation,
        issuer=issuer_url(_ports(args)),
    )
    print(token)
    return 0


def _metrics(url: str) -> dict[str, float]:
    """The unlabelled sums of the few gauges `status` shows, from a service's /metrics."""
    wanted = ("ikmo_outbox_backlog", "ikmo_dead_letters", "ikmo_consumer_lag")
    found: dict[str, float] = {}
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:
            for line in resp.read().decode().splitlines():
                name = line.split("{", 1)[0].split(" ", 1)[0]
                if name in wanted:
                    found[name] = found.get(name, 0.0) + float(line.rsplit(" ", 1)[1])
    except (OSError, ValueError):
        pass
    return found


def cmd_status(args: argparse.Namespace) -> int:
    ports = _ports(args)
    if args.nats_url:
        nats_up, nats_where = nats_answers(args.nats_url), args.nats_url
    else:
        url = f"http://127.0.0.1:{ports.nats_monitor}/healthz?js-enabled-only=true"
        nats_up, nats_where = get_json(url)[0] == 200, ports.nats_url()
    rows = [("nats", nats_where, UP if nats_up else DOWN, "")]
    login_up = get_json(ports.auth_url() + "/healthz")[0] == 200
    rows.append(("login", ports.auth_url(), UP if login_up else DOWN, ""))
    all_up = nats_up and login_up
    for name in existing_services():
        url = ports.service_urls()[name]
        status, body = get_json(url + "/readyz")
        detail = ""
        if status == 200:
            state = READY
            metrics = _metrics(url + "/metrics")
            detail = "outbox: " + (str(int(metrics["ikmo_outbox_backlog"])) if metrics else "?")
            if metrics.get("ikmo_dead_letters"):
                detail += f", dead letters: {int(metrics['ikmo_dead_letters'])}"
            if metrics.get("ikmo_consumer_lag"):
                detail += f", consumer lag: {int(metrics['ikmo_consumer_lag'])}"
        elif status:
            failing = ", ".join(k for k, v in body.items() if v is False)
            state = f"nicht bereit / not ready ({failing})"
        else:
            state = DOWN
        all_up = all_up and status == 200
        rows.append((name, url, state, detail))
    for row in rows:
        print(f"{row[0]:<14}{row[1]:<28}{row[2]:<36}{row[3]}".rstrip())
    runner = running_runner(Path(args.data_dir))
    if runner is not None:
        print(f"`ikmo up` auf / on {Path(args.data_dir).resolve()}: pid {runner}")
    return 0 if all_up else 3


def cmd_rebuild(args: argparse.Namespace) -> int:
    services = existing_services()
    if args.service not in services:
        print(
            f"ikmo rebuild: unbekannter Dienst / unknown service {args.service!r} "
            f"(bekannt / known: {', '.join(services)})",
            file=sys.stderr,
        )
        return 2
    data_dir = Path(args.data_dir)
    runner = running_runner(data_dir)
    url = _ports(args).service_urls()[args.service]
    if runner is not None or get_json(url + "/healthz", timeout=1.0)[0]:
        where = f"`ikmo up` (pid {runner})" if runner is not None else url
        print(
            f"ikmo rebuild: {args.service} läuft noch ({where}); bitte erst stoppen (Strg-C). "
            f"It is still running; stop it first (Ctrl-C).",
            file=sys.stderr,
        )
        return 1
    from sqlalchemy.engine import make_url

    from shared.settings import Settings

    database_url = Settings(data_dir=data_dir).database_url(args.service)
    database = make_url(database_url).database
    if database_url.startswith("sqlite") and database and not Path(database).exists():
        print(
            f"ikmo rebuild: keine Daten / no database for {args.service} at {database} "
            "(wrong --data-dir, or never started?)",
            file=sys.stderr,
        )
        return 1
    return asyncio.run(_rebuild(args.service, database_url))


async def _rebuild(service: str, database_url: str) -> int:
    from shared.contracts.catalogue import service_definitions
    from shared.db import create_tables, make_engine
    from shared.projections import rebuild
    from shared.store.eventstore import EventStore
    from shared.store.schema import store_metadata

    definition = next(d for d in service_definitions() if d.name == service)
    engine = make_engine(database_url)
    try:
        await create_tables(engine, store_metadata)
        store = EventStore(definition.upcasters)
        # On a terminal one line per projection counts up; in a log file each batch gets its own line.
        tty = sys.stdout.isatty()
        for projection in definition.projections:

            def progress(done: int, total: int, name: str = projection.name) -> None:
                percent = 100 * done // total if total else 100
                line = f"{name}: {done}/{total} ({percent} %)"
                print("\r" + line if tty else line, end="" if tty else "\n", flush=True)

            count = await rebuild(engine, store, projection, progress=progress)
            done = f"{projection.name}: {count} Ereignisse neu angewandt / events replayed"
            print("\r\x1b[K" + done if tty else done, flush=True)
    finally:
        await engine.dispose()
    print(f"{service}: Lesemodelle neu aufgebaut / read models rebuilt", flush=True)
    return 0


def _port(value: str) -> int:
    port = int(value)
    if not 1024 <= port <= 65535 - 2 * NATS_PORT_OFFSET:
        highest = 65535 - 2 * NATS_PORT_OFFSET
        raise argparse.ArgumentTypeError(f"{port} is not a usable port (1024 … {highest})")
    return port


def parser() -> argparse.ArgumentParser:
    env = os.environ
    top = argparse.ArgumentParser(prog="ikmo", description="Die IKMO-Plattform / the IKMO platform")
    top.add_argument(
        "--data-dir", default=env.get("IKMO_DATA_DIR") or "data", help="data folder (IKMO_DATA_DIR; data)"
    )
    top.add_argument(
        "--port-base",
        type=_port,
        default=env.get("IKMO_PORT_BASE") or None,  # a string default goes through `type` as well
        help="sign-in app on this port, services on the next ones, NATS on +10 (IKMO_PORT_BASE; 8100)",
    )
    top.add_argument("--nats-port", type=_port, default=None, help="bundled NATS port (14222, or base+10)")
    top.add_argument(
        "--nats-url",
        default=env.get("IKMO_NATS_URL") or None,
        help="use this external NATS instead of starting the bundled one (IKMO_NATS_URL)",
    )
    sub = top.add_subparsers(dest="command", required=True, metavar="{up,token,status,rebuild}")
    up = sub.add_parser("up", help="start NATS and every service; Ctrl-C stops them")
    up.add_argument("--no-demo", action="store_true", help="do not load demo data on first start")
    up.set_defaults(func=cmd_up)
    token = sub.add_parser("token", help="print a bearer token of the embedded issuer")
    token.add_argument("--role", required=True, choices=[r.value for r in Role])
    token.add_argument("--subject", default=None, help="the token's sub (default: the role's demo user)")
    token.add_argument("--organisation", default=None, help="organisation id (role organisation)")
    token.set_defaults(func=cmd_token)
    status = sub.add_parser("status", help="which parts are up, and their outbox backlog")
    status.set_defaults(func=cmd_status)
    rebuild = sub.add_parser("rebuild", help="rebuild a stopped service's read models from its events")
    rebuild.add_argument("service")
    rebuild.set_defaults(func=cmd_rebuild)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
