"""Heap figure: what one full pass of Python's cycle collector costs in a serving process, before and after
`api.heap.settle_heap` freezes what start-up made.

A probe process (`python -m bench.bench_heap --probe`) starts Cody as `cody serve --demo` does, on a temporary SQLite
file (migrations, the demo workspace, the sandbox runtime, the app), and answers requests in-process: the leads,
contacts and threads pages and a chat command that drafts a text. It times full collections (`gc.collect()`), each
after another round of those requests. Such a pass runs whenever enough objects have outlived two younger passes,
and the request running then waits for it. Baseline: the same passes in the same process before settling.
"""

import gc
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.harness import Figure
from bench.live import ROOT, clean_env

PASSES = {True: 3, False: 7}  # full collections timed each way, by quick


def _serve_some(client) -> None:
    """A few of the requests a CRM's page makes: the leads and contacts pages, the inbox's threads, a chat command."""
    for path in ("/api/v1/lead/", "/api/v1/contact/", "/api/v1/thread/"):
        client.get(path).raise_for_status()
    client.post("/api/chat/messages", json={"text": "text Sarah I'm running late"}).raise_for_status()


def _full_passes(client, count: int) -> list[float]:
    """Seconds each of `count` full collections took, each after a few requests."""
    took = []
    for _ in range(count):
        _serve_some(client)
        start = time.perf_counter()
        gc.collect()
        took.append(time.perf_counter() - start)
    return took


def probe(passes: int) -> dict:
    """Start Cody's app as `cody serve --demo` does, then time full passes between requests, before and after settling
    the heap (run in a process of its own: what it imports and keeps is the figure)."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.heap import settle_heap
    from api.settings import ApiSettings
    from db.migrate import upgrade
    from db.session import make_engine, make_sessionmaker, transaction
    from tools.demo import seed_demo
    from tools.runtime import build_runtime
    from tools.settings import TelephonySettings

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'cody.db'}"
        upgrade(url)
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        with transaction(factory) as session:
            demo = seed_demo(session)
        runtime = build_runtime(TelephonySettings(_env_file=None, public_base_url="http://127.0.0.1:9"), factory)
        app = create_app(ApiSettings(_env_file=None, database_url=url, run_dispatcher=False), factory, runtime)
        with TestClient(app) as client:
            client.auth = (demo.api_key, "")
            _serve_some(client)
            before = _full_passes(client, passes)
            objects = len(gc.get_objects())
            frozen = settle_heap()
            after = _full_passes(client, passes)
        engine.dispose()
    return {"objects": objects, "frozen": frozen, "before": before, "after": after}


def run(quick: bool, databases: list[str] | None = None) -> list[Figure]:
    """One figure; the probe runs on SQLite whatever `databases` says (the heap does not depend on the database)."""
    done = subprocess.run([sys.executable, "-m", "bench.bench_heap", "--probe", str(PASSES[quick])], cwd=ROOT,
                          env=clean_env(), capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the heap probe failed ({done.returncode}): {done.stderr[-2000:]}")
    found = json.loads(done.stdout.strip().splitlines()[-1])
    after_ms = 1000 * statistics.median(found["after"])
    before_ms = 1000 * statistics.median(found["before"])
    return [Figure(
        group="heap", name="full cycle-collector pass, serving process", value=after_ms, unit="ms",
        baseline=before_ms, baseline_name="before settling", higher_is_better=False,
        note=f"median of {len(found['after'])} passes each way; {found['objects']:,} objects tracked after start-up "
             f"and a few requests, {found['frozen']:,} frozen by settle_heap",
    )]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--probe"]:
        print(json.dumps(probe(int(sys.argv[2]))))
    else:
        from rich.console import Console

        from bench.__main__ import render

        Console(width=200).print(render(run(quick="--quick" in sys.argv)))
