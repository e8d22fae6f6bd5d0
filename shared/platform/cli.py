"""`ikmo`: run the platform (`up`), mint a token (`token`), look at it (`status`), rebuild read models."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
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
    stop_on_signals,
)


def _ports(args: argparse.Namespace) -> Ports:
    return Ports.from_base(args.port_base, args.nats_port)


def cmd_up(args: argparse.Namespace) -> int:
    platform = Platform(Path(args.data_dir), _ports(args), load_demo=not args.no_demo)
    stop_on_signals()
    try:
        platform.start()
        print(platform.banner(), flush=True)
        platform.wait()
    except KeyboardInterrupt:
        pass
    except PlatformError as problem:
        print(f"ikmo up: {problem}", file=sys.stderr, flush=True)
        return 1
    finally:
        # A second Ctrl-C must not cut the orderly stop short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("IKMO wird beendet / stopping …", flush=True)
        platform.stop()
    print("Beendet / stopped. Die Daten bleiben erhalten / data kept in " + args.data_dir, flush=True)
    return 0


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


def _backlog(metrics_url: str) -> str:
    import urllib.request

    try:
        with urllib.request.urlopen(metrics_url, timeout=2) as resp:
            for line in resp.read().decode().splitlines():
                if line.startswith("ikmo_outbox_backlog "):
                    return str(int(float(line.split()[1])))
    except OSError:
        pass
    return "?"


def cmd_status(args: argparse.Namespace) -> int:
    ports = _ports(args)
    nats_status, _ = get_json(f"http://127.0.0.1:{ports.nats_monitor}/healthz?js-enabled-only=true")
    rows = [
        ("nats", f"nats://127.0.0.1:{ports.nats}", "läuft / up" if nats_status == 200 else "aus / down", "")
    ]
    login_status, _ = get_json(ports.auth_url() + "/healthz")
    rows.append(("login", ports.auth_url(), "läuft / up" if login_status == 200 else "aus / down", ""))
    all_up = nats_status == 200 and login_status == 200
    for name in existing_services():
        url = ports.service_urls()[name]
        status, body = get_json(url + "/readyz")
        if status == 200:
            state, backlog = "bereit / ready", _backlog(url + "/metrics")
        elif status:
            failing = ", ".join(k for k, v in body.items() if v is False)
            state, backlog = f"nicht bereit / not ready ({failing})", ""
        else:
            state, backlog = "aus / down", ""
        all_up = all_up and status == 200
        rows.append((name, url, state, f"outbox: {backlog}" if backlog else ""))
    for row in rows:
        print(f"{row[0]:<14}{row[1]:<28}{row[2]:<36}{row[3]}")
    return 0 if all_up else 3


def cmd_rebuild(args: argparse.Namespace) -> int:
    if args.service not in existing_services():
        known = ", ".join(existing_services())
        print(
            f"ikmo rebuild: unbekannter Dienst / unknown service {args.service!r} (known: {known})",
            file=sys.stderr,
        )
        return 2
    url = _ports(args).service_urls()[args.service]
    if get_json(url + "/healthz", timeout=1.0)[0]:
        print(
            f"ikmo rebuild: {args.service} läuft noch auf {url}; bitte erst stoppen. "
            f"It is still running; stop it first.",
            file=sys.stderr,
        )
        return 1
    return asyncio.run(_rebuild(args.service, Path(args.data_dir)))


async def _rebuild(service: str, data_dir: Path) -> int:
    from shared.contracts.catalogue import service_definitions
    from shared.db import create_tables, make_engine
    from shared.projections import rebuild
    from shared.settings import Settings
    from shared.store.eventstore import EventStore
    from shared.store.schema import store_metadata

    definition = next(d for d in service_definitions() if d.name == service)
    engine = make_engine(Settings(data_dir=data_dir).database_url(service))
    try:
        await create_tables(engine, store_metadata)
        store = EventStore(definition.upcasters)
        for projection in definition.projections:

            def progress(done: int, total: int, name: str = projection.name) -> None:
                print(f"\r{name}: {done}/{total} Ereignisse / events", end="", flush=True)

            count = await rebuild(engine, store, projection, progress=progress)
            print(f"\r{projection.name}: {count} Ereignisse neu angewandt / events replayed", flush=True)
    finally:
        await engine.dispose()
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="ikmo", description="Die IKMO-Plattform / the IKMO platform")
    top.add_argument("--data-dir", default=os.environ.get("IKMO_DATA_DIR", "data"), help="data folder")
    top.add_argument(
        "--port-base",
        type=int,
        default=int(os.environ["IKMO_PORT_BASE"]) if os.environ.get("IKMO_PORT_BASE") else None,
        help="sign-in app on this port, the services on the next ones (default 8100)",
    )
    top.add_argument("--nats-port", type=int, default=None, help="NATS port (default 14222, or base+10)")
    sub = top.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start NATS and every service; Ctrl-C stops them")
    up.add_argument("--no-demo", action="store_true", help="do not load demo data on first start")
    up.set_defaults(func=cmd_up)
    token = sub.add_parser("token", help="print a bearer token of the embedded issuer")
    token.add_argument("--role", required=True, choices=[r.value for r in Role])
    token.add_argument("--subject", default=None)
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
