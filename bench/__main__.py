"""``python -m bench [--quick] [--only NAME] [--runs N]`` (or ``cody bench``): run every benchmark, print one table.

Each benchmark module (bench/bench_*.py) is run --runs times (default 3; 1 with --quick) and every figure printed is
the median of its runs: value, baseline, p50 and p99 each, and the ratio as the median of each run's own ratio.
Modules that build large fixtures and repeat their measurements inside (REPEATS_INSIDE = True, or listed in
SINGLE_RUN) run once: their figures already are percentiles of many timed calls.
"""

import importlib
import os
import pkgutil
import platform
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

import bench
from bench.harness import Figure, median_figures

cli = typer.Typer(add_completion=False)

DEFAULT_RUNS = 3
SINGLE_RUN = frozenset({"bench_resolve"})  # repeats each query inside; builds 100,000-contact workspaces


def discover() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_"))


def render(figures: list[Figure], caption: str | None = None) -> Table:
    table = Table(title="Cody benchmarks", caption=caption)
    for column in ("group", "figure", "value", "p50 ms", "p99 ms", "baseline", "ratio", "runs", "note"):
        table.add_column(column)
    for f in figures:
        table.add_row(
            f.group,
            f.name,
            f"{f.value:,.1f} {f.unit}",
            "" if f.p50_ms is None else f"{f.p50_ms:.2f}",
            "" if f.p99_ms is None else f"{f.p99_ms:.2f}",
            "" if f.baseline is None else f"{f.baseline:,.1f} ({f.baseline_name})",
            "" if f.ratio is None else f"{f.ratio:.2f}x",
            str(f.runs),
            f.note,
        )
    return table


def machine() -> str:
    """CPUs, CPU model and load average, for the record beside the figures."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        load = "n/a"
    return f"{os.cpu_count()} CPU(s), {model}, load average {load}"


def runs_for(module, name: str, runs: int) -> int:
    return 1 if getattr(module, "REPEATS_INSIDE", False) or name in SINGLE_RUN else runs


def run_all(quick: bool = False, only: list[str] | None = None, runs: int | None = None,
            timings: dict[str, float] | None = None) -> list[Figure]:
    """Every benchmark's figures, medians of its runs; `timings` gets each module's seconds."""
    runs = runs if runs is not None else (1 if quick else DEFAULT_RUNS)
    if runs < 1:
        raise typer.BadParameter("--runs must be at least 1")
    figures: list[Figure] = []
    for name in discover():
        if only and name not in only:
            continue
        began = time.perf_counter()
        module = importlib.import_module(f"bench.{name}")
        figures.extend(median_figures([module.run(quick=quick) for _ in range(runs_for(module, name, runs))]))
        if timings is not None:
            timings[name] = time.perf_counter() - began
    return figures


@cli.command()
def main(quick: bool = typer.Option(False, help="Small sizes, for a smoke run in CI (asserts nothing about speed)"),
         only: list[str] = typer.Option([], help="Run only these modules (e.g. bench_text)"),
         runs: int | None = typer.Option(None, help=f"Runs per benchmark, medians printed (default {DEFAULT_RUNS}; "
                                                    "1 with --quick)")) -> None:
    before = machine()
    began = time.perf_counter()
    timings: dict[str, float] = {}
    figures = run_all(quick=quick, only=only, runs=runs, timings=timings)
    took = ", ".join(f"{name.removeprefix('bench_')} {seconds:.0f}" for name, seconds in timings.items())
    caption = (f"{'quick' if quick else 'full'} run in {time.perf_counter() - began:.0f} s ({took}); "
               f"before: {before}; after: {machine()}")
    Console(width=200).print(render(figures, caption))


if __name__ == "__main__":
    cli()
