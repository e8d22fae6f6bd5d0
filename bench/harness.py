"""Timing: calibrate the operation count, repeat interleaved trials, report medians.

A trial does its own untimed set-up (fresh table, filled outbox, warm-up operations) and returns only the
seconds of its timed part, so set-up never leaks into a rate. The trials of one comparison run interleaved
(baseline, candidate, baseline, candidate, ...) so that drift of the machine (page cache, a noisy
neighbour, a growing JetStream file) hits both sides alike, and a candidate's ratio is the median of its
per-round ratios to the baseline of the same round: a round disturbed by a neighbour counts once, as one
outlier, instead of moving both medians apart.
"""

from __future__ import annotations

import statistics
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

# A trial performs `n` operations and returns the seconds its timed part took.
Trial = Callable[[int], Awaitable[float]]


@dataclass(frozen=True)
class Settings:
    seconds: float = 1.0  # aimed duration of one timed trial
    reps: int = 5


@dataclass
class Measurement:
    """One line of the table: a median rate and, for a candidate, its ratio to the baseline's median."""

    group: str
    name: str
    unit: str
    ops: int
    rates: list[float] = field(default_factory=list)
    events_per_op: int = 1
    baseline: Measurement | None = None
    target: float | None = None  # the minimum ratio to the baseline, when there is one
    paired: bool = False  # measured in the same rounds as its baseline (see compare)

    @property
    def rate(self) -> float:
        return statistics.median(self.rates)

    @property
    def ratio(self) -> float | None:
        """Median of the per-round ratios when paired with the baseline, else the ratio of the medians."""
        if self.baseline is None:
            return None
        if self.paired and len(self.rates) == len(self.baseline.rates):
            return statistics.median(c / b for c, b in zip(self.rates, self.baseline.rates, strict=True))
        return self.rate / self.baseline.rate

    @property
    def passed(self) -> bool | None:
        ratio = self.ratio
        return None if self.target is None or ratio is None else ratio >= self.target

    def to_json(self) -> dict[str, object]:
        return {
            "group": self.group,
            "name": self.name,
            "unit": self.unit,
            "ops_per_trial": self.ops,
            "events_per_op": self.events_per_op,
            "rates": [round(r, 1) for r in self.rates],
            "median": round(self.rate, 1),
            "events_per_s": round(self.rate * self.events_per_op, 1),
            "baseline": None if self.baseline is None else self.baseline.name,
            "ratio": None if self.ratio is None else round(self.ratio, 4),
            "ratio_of": "median of per-round ratios" if self.paired else "ratio of medians",
            "target": self.target,
            "passed": self.passed,
        }


async def calibrate(trial: Trial, settings: Settings, probe: int, low: int, high: int) -> int:
    """Run `probe` operations (doubling as the warm-up) and size n so that a trial takes ~settings.seconds."""
    elapsed = await trial(probe)
    rate = probe / max(elapsed, 1e-9)
    return max(low, min(high, int(rate * settings.seconds)))


async def compare(trials: list[tuple[Measurement, Trial]], settings: Settings) -> None:
    """Run every trial settings.reps times in rounds (each trial once per round), collecting rates."""
    for _ in range(settings.reps):
        for measurement, trial in trials:
            elapsed = await trial(measurement.ops)
            measurement.rates.append(measurement.ops / elapsed)
    measured = {id(m) for m, _ in trials}
    for measurement, _ in trials:
        measurement.paired = measurement.baseline is not None and id(measurement.baseline) in measured
