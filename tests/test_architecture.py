"""The layers and the one rule (DESIGN.md), checked by walking the source's syntax trees."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ["db", "tools", "assistant", "api"]  # each may import only the ones before it


def sources(*packages: str) -> list[Path]:
    return [p for pkg in packages for p in (ROOT / pkg).rglob("*.py")]


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("layer", LAYERS)
def test_imports_only_go_down(layer):
    above = LAYERS[LAYERS.index(layer) + 1:]
    wrong = [f"{rel(p)} imports {m}" for p in sources(layer) for m in imported_modules(p)
             if m.split(".")[0] in above]
    assert wrong == []


def test_carrier_sdks_are_imported_only_under_tools():
    wrong = [f"{rel(p)} imports {m}" for p in sources("db", "assistant", "api") for m in imported_modules(p)
             if m.split(".")[0] == "twilio"]
    assert wrong == []


def calls_and_constructions(path: Path) -> list[str]:
    """Names called in a file: `Activity(...)`, `update(Activity)`, `x.send_message(...)`, `render_template(...)`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name in ("update", "insert", "delete") and node.args and isinstance(node.args[0], ast.Name):
            name = f"{name}({node.args[0].id})"
        found.append(name)
    return found


WRITES_AND_SENDS = {"Activity", "update(Activity)", "insert(Activity)", "delete(Activity)", "send_message",
                    "start_call", "cancel_message", "render_template"}


def test_only_the_messaging_service_writes_activities_sends_or_renders():
    """The one rule: no router, channel, job or assistant code sends, renders or writes an SMS/Call by itself."""
    allowed = ROOT / "tools" / "messaging"
    offenders = [f"{rel(p)}: {name}" for p in sources("api", "assistant", "tools", "db")
                 if allowed not in p.parents and "telephony" not in p.parts and p.name != "templates.py"
                 for name in calls_and_constructions(p) if name in WRITES_AND_SENDS]
    assert offenders == []


def test_the_rule_catches_a_stray_send(tmp_path):
    """The walker really sees a provider call and an Activity written outside tools/messaging."""
    stray = tmp_path / "stray.py"
    stray.write_text("def f(p, s):\n    p.send_message(m)\n    s.execute(update(Activity).values())\n    Activity(text='x')\n")
    assert {"send_message", "update(Activity)", "Activity"} <= set(calls_and_constructions(stray))
