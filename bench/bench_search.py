"""Search figures: Close's `query` on /lead/ and /contact/ (`tools/crm.list_leads`, `list_contacts`) in workspaces of
10,000 and 100,000 contacts on SQLite and PostgreSQL (quick: 1,000). A text of three characters or more goes by
trigram indexes (PostgreSQL: migration 0009; SQLite: FTS5, 0011); a shorter one reads the list in its order.

Each workspace is bench_resolve's (leads, contacts, phones, name tokens), plus one email per contact
("first.last@mail.example"), then analysed as a live database would be (PostgreSQL: VACUUM ANALYZE, which autovacuum
does; SQLite: ANALYZE). The searches, each the first page (100) in list order, one session per call as a request:

- rare: a full name only one contact has;
- surname: a common surname (a few percent of the workspace match);
- two letters: the first two letters of a common first name (too short for a trigram; most of the workspace);
- phone: the digits of part of a number, written as a person types them ("(415) 000-12");
- email: a unique address's local part.

Baseline, same database and size: the first page of the same list with no query. The searches are timed with the
process's heap settled (`bench.harness.settled_heap`), as a server's is once it has started: a full pass of the cycle
collector then walks what the searches make, not the 100,000 people the benchmark holds.
"""

import random
import time
from collections import Counter

import sqlalchemy as sa

from bench.bench_resolve import built_workspace
from bench.harness import Figure, percentiles_ms, settled_heap
from bench.live import database_kinds
from db.session import make_engine, make_sessionmaker
from tools.context import Ctx
from tools.crm import list_contacts, list_leads
from tools.paging import PageRequest

SIZES = {"sqlite": (10_000, 100_000), "postgres": (10_000, 100_000)}
QUICK_SIZES = (1_000,)
PER_CLASS = {True: 3, False: 8}  # queries per class, by quick
REPEAT = 3
REPEATS_INSIDE = True  # run once by python -m bench: each search is timed REPEAT times, and building takes minutes
LISTS = {"contacts": list_contacts, "leads": list_leads}


def _with_emails(url: str) -> None:
    """One email per contact, then the planner's statistics, as a live database has them."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO contact_email (contact_id, email, type, position) "
                             "SELECT id, replace(lower(name), ' ', '.') || '@mail.example', 'office', 0 FROM contact"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    engine.dispose()


def _queries(people: list[tuple[str, str]], per_class: int, seed: int = 5) -> dict[str, list[str]]:
    """The searches of each class, drawn from the workspace's people."""
    rng = random.Random(seed)
    full = [f"{first} {last}" for first, last in people]
    counts = Counter(full)
    unique = [name for name in full if counts[name] == 1]
    common = [last for last, _ in Counter(last for _, last in people).most_common(per_class * 2)]
    firsts = sorted({first for first, _ in people})
    return {
        "rare": rng.sample(unique, per_class),
        "surname": rng.sample(common, per_class),
        "two letters": [first[:2].lower() for first in rng.sample(firsts, per_class)],
        "phone": [f"(415) {n:03d}-{rng.randrange(10, 99)}" for n in rng.sample(range(len(people) // 10_000 + 1),
                                                                                min(per_class, len(people) // 10_000 + 1))],
        "email": [name.lower().replace(" ", ".") + "@" for name in rng.sample(unique, per_class)],
    }


def _time(factory, ctx: Ctx, lister, queries: list[str | None]) -> list[float]:
    """Seconds per call of the list with each query, REPEAT rounds, one session per call."""
    samples = []
    for _ in range(REPEAT):
        for query in queries:
            with factory() as session:
                began = time.perf_counter()
                lister(session, ctx, PageRequest(), query=query)
                samples.append(time.perf_counter() - began)
    return samples


def _measure(kind: str, n: int, per_class: int) -> list[Figure]:
    figures = []
    with built_workspace(kind, n) as (url, ctx, made, built):
        _with_emails(url)
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        classes = _queries(made.people, per_class)
        with settled_heap():
            for name, lister in LISTS.items():
                _time(factory, ctx, lister, [q for qs in classes.values() for q in qs[:1]])  # warm the caches
                bare50, bare99 = percentiles_ms(_time(factory, ctx, lister, [None] * per_class))
                per = {c: percentiles_ms(_time(factory, ctx, lister, qs)) for c, qs in classes.items()}
                every = [s for qs in classes.values() for s in _time(factory, ctx, lister, qs)]
                p50, p99 = percentiles_ms(every)
                figures.append(Figure(
                    group="search", name=f"{name} search, {n:,} contacts ({kind})", value=p50, unit="ms p50",
                    baseline=bare50, baseline_name="first page, no query p50", p50_ms=p50, p99_ms=p99,
                    higher_is_better=False,
                    note="p50/p99 by class: " + ", ".join(f"{c} {a:.1f}/{b:.1f}" for c, (a, b) in per.items())
                         + f"; no query p99 {bare99:.1f}; made in {built:.0f} s"))
        engine.dispose()
    return figures


def run(quick: bool, databases: list[str] | None = None) -> list[Figure]:
    figures: list[Figure] = []
    for kind in database_kinds(databases):
        for n in QUICK_SIZES if quick else SIZES[kind]:
            figures.extend(_measure(kind, n, PER_CLASS[quick]))
    return figures


if __name__ == "__main__":
    import sys

    from rich.console import Console

    from bench.__main__ import render

    Console(width=200).print(render(run(quick="--quick" in sys.argv)))
