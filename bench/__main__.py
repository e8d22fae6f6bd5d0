"""`python -m bench`: run every benchmark, print the table, write bench/results/latest.json."""

from __future__ import annotations

import argparse
import asyncio

from bench.harness import Settings
from bench.report import run_all


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", choices=["store", "relay"], help="run one part only")
    defaults = Settings()
    parser.add_argument(
        "--seconds", type=float, default=defaults.seconds, help="target duration of one timed trial"
    )
    parser.add_argument(
        "--reps", type=int, default=defaults.reps, help="rounds of trials; medians are reported"
    )
    args = parser.parse_args()
    asyncio.run(run_all(Settings(seconds=args.seconds, reps=args.reps), only=args.only))


if __name__ == "__main__":
    main()
