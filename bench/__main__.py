"""``python -m bench [--quick] [--only NAME]``: run every benchmark and print one table."""

import importlib
import pkgutil

import typer
from rich.console import Console
from rich.table import Table

import bench
from bench.harness import Figure

cli = typer.Typer(add_completion=False)


def discover() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_"))


def render(figures: list[Figure]) -> Table:
    table = Table(title="Cody benchmarks")
    for column in ("group", "figure", "value", "p50 ms", "p99 ms", "baseline", "ratio", "note"):
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
            f.note,
        )
    return table


@cli.command()
def main(quick: bool = typer.Option(False, help="Small sizes, for a smoke run in CI"),
         only: list[str] = typer.Option([], help="Run only these modules (e.g. bench_text)")) -> None:
    figures: list[Figure] = []
    for name in discover():
        if only and name not in only:
            continue
        module = importlib.import_module(f"bench.{name}")
        figures.extend(module.run(quick=quick))
    Console(width=200).print(render(figures))


if __name__ == "__main__":
    cli()
