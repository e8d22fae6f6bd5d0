"""`python -m bench`: run every benchmark, print the table, write bench/results/latest.json."""

from __future__ import annotations

import argparse
import asyncio

from bench.harness import Settings
from bench.report import run_all


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", choices=["store", "relay"], help="run one part only")
    parser.add_argument("--seconds", type=float, default=1.5, help="target duration of one measurement")
    parser.add_argument("--reps", type=int, default=3, help="repetitions; the median is reported")
    args = parser.parse_args()
    asyncio.run(run_all(Settings(seconds=args.seconds, reps=args.reps), only=args.only))


if __name__ == "__main__":
    main()
