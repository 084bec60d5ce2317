"""Filters and search: SQL-shaped, oversized and odd values in every query parameter of every list are answered
400 or an empty (or the caller's own) page, never 500 and never another workspace's rows. Runs on SQLite and
PostgreSQL (NUL bytes, huge numbers and bad dates fail differently on each).
"""

from concurrent.futures import ThreadPoolExecutor

from tests.security.conftest import World, app_routes

HOSTILE = [
    "' OR '1'='1",
    "' OR 1=1 --",
    "1; DROP TABLE lead; --",
    "' UNION SELECT key_hash, key_hash FROM api_key --",
    "%",
    "_",
    "%%' OR '%'='",
    "\\",
    "null",
    "\x00",
    "abc\x00' OR 1=1",
    "\u202e\ufeff\U0001f600" * 20,
    "a" * 5000,
    "9" * 400,
    "-1",
    "2024-01-01T00:00:00+99:00",
    "{\"$ne\": null}",
    ",,,,,",
    "x," * 6000,  # an id list with 6,000 items
]
# For parameters whose type FastAPI checks (integers, booleans, dates).
TYPED = ["' OR 1=1 --", "\x00", "9" * 400, "-1", "1e309", "NaN", "9999-99-99T99:99:99", "a" * 5000]
# Names a client might try beyond those a list declares.
UNDECLARED = ["organization_id", "q", "_order_by"]


def is_free_text(schema: dict) -> bool:
    options = schema.get("anyOf", [schema])
    return any(o.get("type") == "string" and "format" not in o for o in options)


def list_routes(world: World) -> dict[str, dict[str, bool]]:
    """Every GET without a path parameter under /api/: its query parameters, each free text or not."""
    schema = world.cody.app.openapi()
    routes: dict[str, dict[str, bool]] = {}
    for path, ops in schema["paths"].items():
        if "get" in ops and "{" not in path and path.startswith("/api/"):
            routes[path] = {p["name"]: is_free_text(p.get("schema", {}))
                            for p in ops["get"].get("parameters", []) if p["in"] == "query"}
    for route in app_routes(world.cody.app):  # hidden lists too (the web page's), with the usual search names
        if "GET" in route.methods and not route.in_schema and "{" not in route.path and route.path.startswith("/api/"):
            routes.setdefault(route.path, {"query": True, "_skip": False, "_limit": False})
    return routes


def probes(world: World) -> list[tuple[str, str, str]]:
    b_ids = [world.b_ids["lead"], world.b_ids["contact"], f"x,{world.b_ids['sms']},{world.b_ids['call']}",
             world.b.user_id, world.b.organization_id, f"{world.b_ids['lead']}' OR '1'='1"]
    found = []
    for path, params in list_routes(world).items():
        for name, free_text in params.items():
            found += [(path, name, v) for v in (HOSTILE + b_ids if free_text else TYPED)]
        for name in UNDECLARED:
            if name not in params:
                found += [(path, name, v) for v in (world.b.organization_id, "' OR 1=1 --", "\x00")]
    return found


def test_hostile_filter_values_are_400_or_a_page_without_anothers_rows(world: World) -> None:
    b_markers = {f"B's {kind}": value for kind, value in world.b_ids.items()}
    b_markers |= {"B's organization": world.b.organization_id, "B's user": world.b.user_id,
                  "B's contact name": "Bob Stone", "B's text": "Hello Bob", "B's number": "+14155550300"}
    cases = probes(world)
    assert len(cases) > 500

    with world.a_client() as a:
        def check(case: tuple[str, str, str]) -> str | None:
            path, name, value = case
            response = a.get(path, params={name: value})
            what = f"GET {path}?{name}={value[:40]!r}"
            if response.status_code not in (200, 400, 413, 414):
                return f"{what}: {response.status_code} {response.text[:120]}"
            if response.status_code == 400:
                body = response.json()
                if not (body.get("field-errors") or body.get("errors") or body.get("error")):
                    return f"{what}: a 400 that says nothing: {response.text[:120]}"
            leaked = [label for label, marker in b_markers.items()
                      if marker in response.text and marker not in value]  # an echo of the value is no leak
            return f"{what}: shows {leaked}" if leaked else None

        with ThreadPoolExecutor(max_workers=6) as pool:
            failures = [f for f in pool.map(check, cases) if f]
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:60])


def test_a_sql_shaped_search_finds_nothing_and_a_real_one_still_works(world: World) -> None:
    with world.a_client() as a:
        assert a.get("/api/v1/lead/", params={"query": "' OR '1'='1"}).json()["data"] == []
        assert a.get("/api/v1/lead/", params={"query": "%"}).json()["data"] == []
        assert a.get("/api/v1/lead/", params={"query": "_"}).json()["data"] == []
        found = a.get("/api/v1/lead/", params={"query": "Sarah"}).json()["data"]
        assert [lead["name"] for lead in found] == ["Sarah Lee"]
        # B's lead is there, but not for A.
        assert a.get("/api/v1/lead/", params={"query": "Bob"}).json()["data"] == []
