"""Figures, repeated timing and the printed table shared by every benchmark."""

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Figure:
    """One measured figure beside its baseline from the same run (higher_is_better says which way is good)."""

    group: str
    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    p50_ms: float | None = None
    p99_ms: float | None = None
    higher_is_better: bool = True
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if not self.baseline:
            return None
        return self.value / self.baseline


def median_of(runs: int, measure: Callable[[], float]) -> float:
    """Median of several runs of a measurement that returns one number."""
    return statistics.median(measure() for _ in range(runs))


def rate(count: int, fn: Callable[[], None]) -> float:
    """Items per second for calling fn once over `count` items."""
    start = time.perf_counter()
    fn()
    return count / (time.perf_counter() - start)


def percentiles_ms(samples_s: list[float]) -> tuple[float, float]:
    """p50 and p99 in milliseconds of latencies given in seconds."""
    ordered = sorted(samples_s)
    if not ordered:
        return (0.0, 0.0)
    p50 = ordered[len(ordered) // 2]
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (p50 * 1000, p99 * 1000)
