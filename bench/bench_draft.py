"""Message-to-draft figures: `Assistant.handle` with the offline planner on workspaces of 1,000, 10,000 and 100,000
contacts (quick: 1,000 and 10,000).

Each size gets its own migrated SQLite database (PostgreSQL too when asked for with ``databases``) holding one
workspace built by bench_resolve.build (leads, contacts, phones, threads and name tokens, by core inserts; on SQLite
built once a run and copied, see bench_resolve.built_workspace), plus an active US business line for the user, so
prepare finds a sender as it would in a real workspace.

Two commands, each handled REPEAT times, one session and one new conversation per call, as the chat API does:

- "text Sarah I'm running late": Sarah is a common first name, so every size has several and the answer is a
  question ("Which Sarah do you mean?" with the most recently contacted first), not a draft;
- "text <First Last> I'm running late" for one person of the workspace whose full name is unique there: planned,
  resolved, prepared (sender, opt-out, quiet hours, segments) and saved as a draft awaiting confirmation.

Baseline, same size: the bare save the draft path ends in (one conversation row, two message rows and the draft row,
inserted by core statements and committed), so the ratio is what planning, resolving and preparing add.
The growth figure compares the draft command's p99 at the largest size with the smallest (target, as for
resolution: under 3x).
"""

import json
import random
import time

from sqlalchemy import insert

from assistant.planner import OfflinePlanner
from assistant.service import Assistant
from assistant.settings import AssistantSettings
from bench.bench_resolve import built_workspace
from bench.harness import Figure, percentiles_ms
from db.ids import new_id
from db.models import Conversation, ConversationMessage, Draft, PhoneNumber
from db.session import make_engine, make_sessionmaker, transaction
from db.types import utcnow
from tools.context import Ctx
from tools.runtime import build_runtime
from tools.settings import TelephonySettings
from tools.telephony.sandbox import SANDBOX_MESSAGING_SERVICE_SID, SandboxProvider

REPEATS_INSIDE = True  # each command is timed REPEAT times per size: run once by `python -m bench`
SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (1_000, 10_000)
REPEAT = {True: 10, False: 40}
TARGET_GROWTH = 3.0
LINE = "+14155550100"
AMBIGUOUS = "text Sarah I'm running late"


def _settings() -> TelephonySettings:
    return TelephonySettings(_env_file=None, twilio_account_sid=None, twilio_auth_token=None,
                             twilio_messaging_service_sid=None, public_base_url="http://127.0.0.1:9",
                             sandbox_callback_delay_seconds=0.0)


def _add_line(factory, ctx: Ctx) -> None:
    with transaction(factory) as session:
        session.add(PhoneNumber(organization_id=ctx.organization_id, number=LINE, label="Main line", country="US",
                                sms=True, mms=True, voice=True, user_id=ctx.user_id, sharing="personal",
                                provider="sandbox", provider_sid="PNbench0000000000000000000000000"))


def _assistant(factory) -> Assistant:
    settings = _settings()
    sandbox = SandboxProvider(settings, post_callback=lambda form: None)
    runtime = build_runtime(settings, factory, provider=sandbox, default_messaging_service=SANDBOX_MESSAGING_SERVICE_SID)
    return Assistant(runtime.messaging, OfflinePlanner(), AssistantSettings(_env_file=None))


def _unique_person(assistant: Assistant, factory, ctx: Ctx, people: list[tuple[str, str]]) -> str:
    """A command naming someone whose full name is unique here, checked to end in exactly one draft."""
    counts: dict[tuple[str, str], int] = {}
    for person in people:
        counts[person] = counts.get(person, 0) + 1
    rng = random.Random(5)
    candidates = [p for p, c in counts.items() if c == 1 and " " not in p[0] + p[1] and "'" not in p[0] + p[1]]
    rng.shuffle(candidates)
    for first, last in candidates[:50]:
        command = f"text {first} {last} I'm running late"
        with factory() as session:
            result = assistant.handle(session, ctx, command)
        if len(result.drafts) == 1 and not result.question:
            return command
    raise RuntimeError("no person in the workspace made a single draft")


def _time(assistant: Assistant, factory, ctx: Ctx, command: str, repeat: int) -> tuple[list[float], list[float], str]:
    """Wall and CPU seconds of each call, and what the last call answered ("draft", "question" or "reply")."""
    wall, cpu, outcome = [], [], ""
    for _ in range(repeat):
        with factory() as session:
            start, used = time.perf_counter(), time.thread_time()
            result = assistant.handle(session, ctx, command)
            wall.append(time.perf_counter() - start)
            cpu.append(time.thread_time() - used)
        outcome = "draft" if result.drafts else "question" if result.question else "reply"
    return wall, cpu, outcome


def _bare_save(factory, ctx: Ctx, repeat: int) -> list[float]:
    """Core inserts of what one draft turn stores (conversation, user and assistant messages, draft), committed."""
    engine = factory.kw["bind"]
    args = {"text": "I'm running late", "send_at": None, "contact_id": None}
    preview = {"contact_id": None, "contact_name": "Bench", "to": "+14155550132", "from": LINE,
               "text": "I'm running late", "encoding": "GSM-7", "segments": 1, "attachments": [],
               "date_scheduled": None}
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        now = utcnow()
        conversation = new_id("conv")
        with engine.begin() as conn:
            conn.execute(insert(Conversation).values(id=conversation, organization_id=ctx.organization_id,
                                                     user_id=ctx.user_id, channel="chat", date_created=now,
                                                     date_updated=now))
            conn.execute(insert(ConversationMessage), [
                {"conversation_id": conversation, "role": role, "text": text, "data": data, "date_created": now}
                for role, text, data in (("user", "text Bench I'm running late", {}),
                                         ("assistant", "Text Bench: \u201cI'm running late\u201d", {"draft_ids": []}))])
            conn.execute(insert(Draft).values(
                id=new_id("draft"), organization_id=ctx.organization_id, user_id=ctx.user_id,
                conversation_id=conversation, channel="chat", tool="send_sms", args=args, preview=preview,
                problems=[], args_hash="0" * 64, state="pending", expires_at=now, date_created=now, date_updated=now))
        out.append(time.perf_counter() - start)
    return out


def _measure(kind: str, n: int, repeat: int) -> dict:
    with built_workspace(kind, n) as (url, ctx, made, built):
        engine = make_engine(url)
        try:
            factory = make_sessionmaker(engine)
            _add_line(factory, ctx)
            assistant = _assistant(factory)
            command = _unique_person(assistant, factory, ctx, made.people)
            for text in (AMBIGUOUS, command):  # warm up: statement caches, pages
                with factory() as session:
                    assistant.handle(session, ctx, text)
            draft_wall, draft_cpu, draft_outcome = _time(assistant, factory, ctx, command, repeat)
            ask_wall, ask_cpu, ask_outcome = _time(assistant, factory, ctx, AMBIGUOUS, repeat)
            bare = _bare_save(factory, ctx, repeat)
        finally:
            engine.dispose()
    if draft_outcome != "draft":
        raise RuntimeError(f"{command!r} answered with a {draft_outcome}, not a draft")
    return {"draft": (draft_wall, draft_cpu), "ask": (ask_wall, ask_cpu, ask_outcome), "bare": bare,
            "command": command, "built": built}


def run(quick: bool, databases: list[str] | None = None) -> list[Figure]:
    sizes = QUICK_SIZES if quick else SIZES
    repeat = REPEAT[quick]
    figures: list[Figure] = []
    for kind in databases or ["sqlite"]:
        p99s: dict[int, float] = {}
        for n in sizes:
            m = _measure(kind, n, repeat)
            wall, cpu = m["draft"]
            p50, p99 = percentiles_ms(wall)
            cpu50, _ = percentiles_ms(cpu)
            bare50, _ = percentiles_ms(m["bare"])
            ask50, ask99 = percentiles_ms(m["ask"][0])
            p99s[n] = p99
            figures.append(Figure(
                group="draft", name=f"message to draft, {n:,} contacts ({kind})", value=p50, unit="ms p50",
                baseline=bare50, baseline_name="bare save p50", p50_ms=p50, p99_ms=p99, higher_is_better=False,
                note=(f"offline planner, {json.dumps(m['command'])} x{len(wall)}: CPU p50 {cpu50:.2f} ms; "
                      f"{json.dumps(AMBIGUOUS)} -> {m['ask'][2]} p50/p99 {ask50:.1f}/{ask99:.1f} ms; "
                      f"made in {m['built']:.0f} s (copied if built before in this run)")))
        small, large = sizes[0], sizes[-1]
        growth = p99s[large] / p99s[small] if p99s[small] else 0.0
        verdict = "meets" if growth < TARGET_GROWTH else "MISSES"
        figures.append(Figure(
            group="draft", name=f"message to draft p99 growth {large // 1000}k vs {small // 1000}k ({kind})",
            value=p99s[large], unit="ms p99", baseline=p99s[small], baseline_name=f"{small:,} contacts",
            higher_is_better=False, note=f"{growth:.2f}x: {verdict} < {TARGET_GROWTH:.0f}x"))
    return figures


if __name__ == "__main__":
    import sys

    from rich.console import Console

    from bench.__main__ import render

    Console(width=200).print(render(run(quick="--quick" in sys.argv)))
