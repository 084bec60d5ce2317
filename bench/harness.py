"""Figures, repeated timing and the printed table shared by every benchmark."""

import gc
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

from api.heap import settle_heap


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
    runs: int = 1  # how many runs the figure is the median of
    median_ratio: float | None = None  # set when runs > 1: the median of each run's own ratio

    @property
    def ratio(self) -> float | None:
        if self.median_ratio is not None:
            return self.median_ratio
        if not self.baseline:
            return None
        return self.value / self.baseline


def median_of(runs: int, measure: Callable[[], float]) -> float:
    """Median of several runs of a measurement that returns one number."""
    return statistics.median(measure() for _ in range(runs))


def median_figures(runs: list[list[Figure]]) -> list[Figure]:
    """One figure per (group, name) of several runs of a benchmark: the median of each number across the runs.

    The ratio is the median of each run's own ratio (value and baseline are measured side by side within a run, so
    their quotient is steadier on a busy machine than the quotient of two medians). The note is the one of the run
    whose value is the median. Figures missing from some runs are the median of the runs that have them.
    """
    if len(runs) == 1:
        return runs[0]
    order: list[tuple[str, str]] = []
    by_key: dict[tuple[str, str], list[Figure]] = {}
    for figures in runs:
        for f in figures:
            key = (f.group, f.name)
            if key not in by_key:
                order.append(key)
                by_key[key] = []
            by_key[key].append(f)
    out = []
    for key in order:
        found = by_key[key]
        value = statistics.median(f.value for f in found)
        middle = min(found, key=lambda f: abs(f.value - value))
        ratios = [f.ratio for f in found if f.ratio is not None]
        out.append(replace(
            middle, value=value, baseline=_median_or_none([f.baseline for f in found]),
            p50_ms=_median_or_none([f.p50_ms for f in found]), p99_ms=_median_or_none([f.p99_ms for f in found]),
            runs=len(found), median_ratio=statistics.median(ratios) if ratios else None,
        ))
    return out


def _median_or_none(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


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


@contextmanager
def settled_heap() -> Iterator[None]:
    """Time the block with this process's heap settled, as a serving process's is once started (api/heap.py): the
    cycle collector's full passes then walk what the block makes, not every object the benchmark built or kept."""
    settle_heap()
    try:
        yield
    finally:
        gc.unfreeze()
