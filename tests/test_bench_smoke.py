"""The benchmarks at --quick sizes: each returns figures with positive values beside positive baselines.

Speed is not asserted (machines differ); only that every path ran end to end and measured something. The
PostgreSQL halves skip when PostgreSQL is unreachable, except in CI, where they fail (as tests/conftest.py does).
"""

import pytest

from bench import (
    bench_delete,
    bench_dispatch,
    bench_draft,
    bench_heap,
    bench_inbound,
    bench_outbound,
    bench_search,
    bench_text,
)
from bench.harness import Figure, median_figures
from bench.live import IN_CI, PG_ADMIN_URL, pg_reachable


def check(figures: list[Figure], expected: int) -> None:
    assert len(figures) == expected, [f.name for f in figures]
    for figure in figures:
        assert figure.value > 0, figure
        assert figure.baseline is not None and figure.baseline > 0, figure
        assert figure.baseline_name, figure
        for latency in (figure.p50_ms, figure.p99_ms):
            assert latency is None or latency > 0, figure


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request) -> str:
    if request.param == "postgres" and not pg_reachable():
        if IN_CI:
            pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}; CI must run the PostgreSQL benchmarks")
        pytest.skip("PostgreSQL not reachable (set CODY_TEST_POSTGRES_URL)")
    return request.param


def test_text_bench():
    check(bench_text.run(quick=True), 2)


def test_heap_bench():
    figures = bench_heap.run(quick=True)
    check(figures, 1)
    assert figures[0].unit == "ms" and not figures[0].higher_is_better and "frozen by settle_heap" in figures[0].note


def test_outbound_bench(database):
    figures = bench_outbound.run(quick=True, databases=[database])
    check(figures, 2)
    assert all(f.group == "outbound" and f"({database})" in f.name for f in figures)


def test_inbound_bench(database):
    figures = bench_inbound.run(quick=True, databases=[database])
    check(figures, 2)
    assert all(f.group == "inbound" and f"({database})" in f.name for f in figures)
    throughput, at_rate = figures
    assert throughput.unit == "req/s" and at_rate.unit == "ms" and not at_rate.higher_is_better


def test_delete_bench(database):
    figures = bench_delete.run(quick=True, databases=[database])
    check(figures, 3)
    assert all(f.group == "delete" and f"({database})" in f.name and not f.higher_is_better for f in figures)


def test_search_bench(database):
    figures = bench_search.run(quick=True, databases=[database])
    check(figures, 2)
    assert [f.name for f in figures] == [f"{kind} search, 1,000 contacts ({database})" for kind in ("contacts", "leads")]


def test_draft_bench():
    figures = bench_draft.run(quick=True)
    check(figures, 3)
    assert all(f.group == "draft" and not f.higher_is_better for f in figures)


@pytest.mark.postgres
def test_dispatch_bench():
    if not pg_reachable():
        if IN_CI:
            pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}; CI must run the PostgreSQL benchmarks")
        pytest.skip("PostgreSQL not reachable (set CODY_TEST_POSTGRES_URL)")
    figures = bench_dispatch.run(quick=True)
    check(figures, 2)
    one, three = figures
    assert one.unit == three.unit == "msg/s" and three.baseline == one.value


def test_medians_of_runs():
    runs = [[Figure("g", "f", value, "x/s", baseline=base, p50_ms=value, p99_ms=2 * value)]
            for value, base in ((10.0, 20.0), (30.0, 30.0), (20.0, 50.0))]
    [median] = median_figures(runs)
    assert (median.value, median.baseline, median.p50_ms, median.p99_ms, median.runs) == (20.0, 30.0, 20.0, 40.0, 3)
    assert median.ratio == 0.5  # the median of the runs' own ratios (0.5, 1.0, 0.4), not 20 / 30
