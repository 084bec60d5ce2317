"""LLM planner figures: model requests per command and per confirmation, and prompt size against contact count.

Everything runs through the real `LlmPlanner` (ChatOpenAI and the openai SDK over httpx) with respx answering
`POST /chat/completions` on a fake base URL, so no model is reached and nothing costs money. Counts come from
what respx saw, not from the planner's own counters (those are checked to agree).

- requests per write command: several commands, each answered with one write tool call; baseline is the design's
  budget of one. p50/p99 are the planner's own overhead per command (LangChain + SDK + parsing, fake model).
- prompt size: the messages of the captured request (system + user) in characters / 4 (a rough token count) for
  a workspace of 100,000 contacts, beside the same for 1,000. `planner.Turn` has no contact field (who, where,
  when only), so the Turn is the same for both sizes; the figure documents that nothing in the request grows
  with the contact book. The tool schemas are sent too, also fixed in size (in the note).
- write command + confirmation: one command planned, then its draft confirmed with `assistant.drafts.confirm`
  on a temporary SQLite demo workspace (sandbox provider); the baseline is the command alone. The ratio of 1.00x
  says the confirmation added no model request.
"""

import json
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import respx
from sqlalchemy import select

from assistant import drafts
from assistant.intents import WriteIntent
from assistant.llm import LlmPlanner
from assistant.planner import Turn
from assistant.settings import AssistantSettings
from bench.harness import Figure, percentiles_ms
from bench.live import temp_database
from db.models import Contact
from db.session import make_engine, make_sessionmaker, transaction
from tools.context import Ctx
from tools.demo import seed_demo
from tools.messaging.request import SendRequest
from tools.runtime import build_runtime
from tools.settings import TelephonySettings
from tools.telephony.sandbox import SANDBOX_MESSAGING_SERVICE_SID, SandboxProvider

BASE = "http://llm.bench/v1"
TZ = "America/Los_Angeles"
COMMANDS = [
    ("text Sarah I'm running 10 minutes late", "send_sms", {"contact": "Sarah", "text": "I'm running 10 minutes late"}),
    ("send the Smiths the showing confirmation for 7pm", "send_template",
     {"contact": "the Smiths", "template": "the showing confirmation", "variables": {"time": "7pm"}}),
    ("call John from Acme", "call_contact", {"contact": "John from Acme"}),
    ("text Luc tomorrow at 9 see you at the open house", "send_sms",
     {"contact": "Luc", "text": "See you at the open house", "send_at": "2026-11-19T09:00:00-08:00"}),
]


def _settings() -> AssistantSettings:
    return AssistantSettings(_env_file=None, openai_api_key="sk-bench", openai_base_url=BASE, cody_model="gpt-4o-mini")


def _turn(text: str) -> Turn:
    return Turn(text=text, now=datetime(2026, 11, 18, 15, 4, tzinfo=ZoneInfo(TZ)), user_name="Dana Reyes",
                organization_name="Bayview Realty (demo)", timezone=TZ)


def _completion(request: httpx.Request) -> httpx.Response:
    """A tool call for whichever command the user message is; prompt_tokens is the messages' size / 4."""
    sent = json.loads(request.content)
    user = sent["messages"][-1]["content"]
    _, tool, args = next(c for c in COMMANDS if c[0] == user)
    prompt = _message_chars(sent) // 4
    return httpx.Response(200, json={
        "id": "chatcmpl-bench", "object": "chat.completion", "created": 1763500000, "model": sent["model"],
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": None,
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": tool, "arguments": json.dumps(args)}}],
        }}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": 20, "total_tokens": prompt + 20},
    })


def _message_chars(sent: dict) -> int:
    return sum(len(m.get("content") or "") for m in sent["messages"])


def _requests_per_command(planner: LlmPlanner, route: respx.Route, n: int) -> Figure:
    latencies = []
    before = route.call_count
    for i in range(n):
        text = COMMANDS[i % len(COMMANDS)][0]
        t = time.perf_counter()
        intents = planner.plan(_turn(text), _no_reads)
        latencies.append(time.perf_counter() - t)
        if len(intents) != 1 or not isinstance(intents[0], WriteIntent):
            raise RuntimeError(f"{text!r} planned as {intents}")
    made = route.call_count - before
    p50, p99 = percentiles_ms(latencies)
    return Figure(group="llm", name="model requests per write command", value=made / n, unit="req/cmd",
                  baseline=1.0, baseline_name="design budget", p50_ms=p50, p99_ms=p99, higher_is_better=False,
                  note=f"{n} commands, {made} requests seen by respx; p50/p99 = planner overhead vs a fake model")


def _prompt_size(planner: LlmPlanner, route: respx.Route, contacts: int) -> tuple[int, int]:
    """Characters of the messages and of the tool schemas in the request for a command in a workspace this big."""
    del contacts  # the Turn carries no contacts: nothing to build per size
    planner.plan(_turn(COMMANDS[0][0]), _no_reads)
    sent = json.loads(route.calls.last.request.content)
    return _message_chars(sent), len(json.dumps(sent["tools"]))


def _prompt_figure(planner: LlmPlanner, route: respx.Route) -> Figure:
    small, tools_small = _prompt_size(planner, route, 1_000)
    large, tools_large = _prompt_size(planner, route, 100_000)
    if tools_small != tools_large:
        raise RuntimeError("tool schemas changed between requests")
    return Figure(group="llm", name="prompt at 100,000 contacts", value=large / 4, unit="tokens≈chars/4",
                  baseline=small / 4, baseline_name="1,000 contacts", higher_is_better=False,
                  note=f"system+user {large:,} chars; tool schemas {tools_large:,} chars (fixed); "
                       "Turn has no contacts, so nothing grows")


def _confirm_figure(planner: LlmPlanner, route: respx.Route) -> Figure:
    telephony = TelephonySettings(_env_file=None, twilio_account_sid=None, twilio_auth_token=None,
                                  twilio_messaging_service_sid=None, public_base_url="http://127.0.0.1:9",
                                  sandbox_callback_delay_seconds=0.0)
    with temp_database("sqlite") as url:
        engine = make_engine(url)
        try:
            factory = make_sessionmaker(engine)
            with transaction(factory) as session:
                demo = seed_demo(session)
            sandbox = SandboxProvider(telephony, post_callback=lambda form: None)
            runtime = build_runtime(telephony, factory, provider=sandbox,
                                    default_messaging_service=SANDBOX_MESSAGING_SERVICE_SID)
            ctx = Ctx(organization_id=demo.organization_id, user_id=demo.user_id, channel="api", role="admin")

            start = route.call_count
            [intent] = planner.plan(_turn(COMMANDS[0][0]), _no_reads)
            planned = route.call_count - start
            if not isinstance(intent, WriteIntent) or not intent.text:
                raise RuntimeError(f"planned {intent}")
            with factory() as session:
                sarah = session.scalar(select(Contact.id).where(Contact.organization_id == demo.organization_id,
                                                                Contact.name == "Sarah Lee"))
                args = {"text": intent.text, "send_at": None, "contact_id": sarah}
                prepared = runtime.messaging.prepare(session, ctx, SendRequest(contact_id=sarah, text=intent.text))
                draft = drafts.create_draft(session, ctx, "send_sms", args, prepared, None, 15)
                session.commit()
                planner_before, seen_before = planner.requests, route.call_count
                _, activity = drafts.confirm(session, ctx, runtime.messaging, draft.id)
                on_confirm = route.call_count - seen_before
                if planner.requests != planner_before or activity.status not in ("sent", "sending", "delivered"):
                    raise RuntimeError(f"confirm: planner requests moved or activity {activity.status}")
            sandbox.drain()
        finally:
            engine.dispose()
    return Figure(group="llm", name="model requests, command + confirm", value=planned + on_confirm, unit="req",
                  baseline=planned, baseline_name="command alone", higher_is_better=False,
                  note=f"{on_confirm} request(s) during drafts.confirm (SQLite demo, sandbox send: {activity.status})")


def _no_reads(intent) -> str:
    raise RuntimeError(f"unexpected read {intent}")


def run(quick: bool) -> list[Figure]:
    n = 8 if quick else 200
    with respx.mock(base_url=BASE, assert_all_called=True, assert_all_mocked=True) as router:
        route = router.post("/chat/completions").mock(side_effect=_completion)
        planner = LlmPlanner(_settings())
        try:
            for _ in range(2):  # warm up
                planner.plan(_turn(COMMANDS[0][0]), _no_reads)
            figures = [_requests_per_command(planner, route, n), _prompt_figure(planner, route),
                       _confirm_figure(planner, route)]
            if planner.requests != route.call_count:
                raise RuntimeError(f"planner counted {planner.requests} requests, respx saw {route.call_count}")
        finally:
            planner.close()
    return figures
