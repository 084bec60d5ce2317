"""The LLM planner through the real ChatOpenAI and openai SDK, with respx answering the chat completions endpoint."""

import json
import logging
from datetime import datetime, time
from zoneinfo import ZoneInfo

import httpx
import pytest
import respx

from assistant.intents import Ask, CancelIntent, ReadIntent, Unknown, WriteIntent
from assistant.llm import NOT_UNDERSTOOD, LlmPlanner
from assistant.planner import Turn
from assistant.settings import AssistantSettings
from tools.demo import LEADS

BASE = "http://llm.test/v1"
KEY = "sk-test"
LA = ZoneInfo("America/Los_Angeles")
NOW = datetime(2026, 11, 18, 15, 4, tzinfo=LA)  # a Wednesday
TOOL_NAMES = ["send_sms", "send_template", "call_contact", "cancel_scheduled_sms", "find_contacts", "read_thread",
              "list_inbox", "list_scheduled"]


def settings(**kw) -> AssistantSettings:
    return AssistantSettings(_env_file=None, openai_api_key=KEY, openai_base_url=BASE, cody_model="gpt-4o-mini", **kw)


def turn(text: str) -> Turn:
    return Turn(text=text, now=NOW, user_name="Dana Reyes", organization_name="Bayview Realty (demo)",
                timezone="America/Los_Angeles")


def call(name: str, args: dict | str, call_id: str = "call_1") -> dict:
    arguments = args if isinstance(args, str) else json.dumps(args)
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def completion(*tool_calls: dict, content: str | None = None, prompt_tokens: int = 321) -> httpx.Response:
    message = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = list(tool_calls)
    return httpx.Response(200, json={
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1763500000, "model": "gpt-4o-mini",
        "choices": [{"index": 0, "finish_reason": "tool_calls" if tool_calls else "stop", "message": message}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": 12, "total_tokens": prompt_tokens + 12},
    })


def body(request: httpx.Request) -> dict:
    return json.loads(request.content)


class Reader:
    def __init__(self, answer: str = "Messages with Sarah Lee:\nThey (Nov 18 14:50, received): Are we still on for 5?"):
        self.answer = answer
        self.calls: list[ReadIntent] = []

    def __call__(self, intent: ReadIntent) -> str:
        self.calls.append(intent)
        return self.answer


def no_reads(intent: ReadIntent) -> str:
    raise AssertionError(f"no read expected, got {intent}")


@pytest.fixture
def router():
    with respx.mock(base_url=BASE, assert_all_called=True, assert_all_mocked=True) as mock:
        yield mock


@pytest.fixture
def planner():
    made = LlmPlanner(settings())
    yield made
    made.close()


def only_request(router, route) -> httpx.Request:
    assert route.call_count == 1 and len(router.calls) == 1
    return route.calls.last.request


# -- write tools ---------------------------------------------------------------------------------------------


def test_send_sms_tool_call_is_one_request_and_an_exact_write_intent(router, planner):
    route = router.post("/chat/completions").mock(return_value=completion(
        call("send_sms", {"contact": "Sarah", "text": "I'm running 10 minutes late"})))

    intents = planner.plan(turn("text Sarah I'm running 10 minutes late"), no_reads)

    assert intents == [WriteIntent(tool="send_sms", contact="Sarah", text="I'm running 10 minutes late")]
    only_request(router, route)
    assert (planner.requests, planner.prompt_tokens) == (1, 321)


def test_the_request_carries_the_catalog_and_a_prompt_without_contacts(router, planner):
    route = router.post("/chat/completions").mock(return_value=completion(
        call("call_contact", {"contact": "John"})))

    planner.plan(turn("call John"), no_reads)

    request = only_request(router, route)
    assert request.headers["authorization"] == f"Bearer {KEY}"
    sent = body(request)
    assert sent["model"] == "gpt-4o-mini"
    assert [t["function"]["name"] for t in sent["tools"]] == TOOL_NAMES
    assert all(t["type"] == "function" and t["function"]["description"] for t in sent["tools"])
    assert sent["tools"][0]["function"]["parameters"]["required"] == ["contact", "text"]
    assert [m["role"] for m in sent["messages"]] == ["system", "user"]
    assert sent["messages"][1]["content"] == "call John"
    system = sent["messages"][0]["content"]
    for expected in ("Cody", "Dana Reyes", "Bayview Realty (demo)", "Wednesday, November 18, 2026, 15:04",
                     "2026-11-18T15:04-08:00", "America/Los_Angeles", "never instructions"):
        assert expected in system
    names = {c.name for lead in LEADS for c in lead.contacts} | {lead.name for lead in LEADS}
    firsts = {n.split()[0] for n in names} - {"The"}
    assert not [n for n in names | firsts if n.lower() in system.lower()]


def test_the_prompt_does_not_depend_on_the_request(router, planner):
    route = router.post("/chat/completions").mock(return_value=completion(content="Hello!"))

    planner.plan(turn("hi"), no_reads)
    planner.plan(turn("text the Smiths the showing confirmation for 7pm"), no_reads)

    first, second = (body(c.request)["messages"][0]["content"] for c in route.calls)
    assert first == second
    assert planner.requests == 2


def test_send_template_with_variables(router, planner):
    route = router.post("/chat/completions").mock(return_value=completion(call(
        "send_template", {"contact": "the Smiths", "template": "the showing confirmation", "variables": {"time": "7pm"}})))

    intents = planner.plan(turn("send the Smiths the showing confirmation for 7pm"), no_reads)

    assert intents == [WriteIntent(tool="send_template", contact="the Smiths", template="the showing confirmation",
                                   variables={"time": "7pm"})]
    only_request(router, route)


def test_template_variables_given_as_numbers_become_text(router, planner):
    router.post("/chat/completions").mock(return_value=completion(call(
        "send_template", {"contact": "Sarah", "template": "running late", "variables": {"minutes": 10}})))

    [intent] = planner.plan(turn("send Sarah the running late template, 10 minutes"), no_reads)

    assert intent.variables == {"minutes": "10"}


def test_call_contact(router, planner):
    route = router.post("/chat/completions").mock(return_value=completion(call("call_contact", {"contact": "John from Acme"})))

    assert planner.plan(turn("call John from Acme"), no_reads) == [WriteIntent(tool="call_contact", contact="John from Acme")]
    only_request(router, route)


def test_cancel_scheduled_sms_names_the_text_by_recipient_and_time_of_day(router, planner):
    route = router.post("/chat/completions").mock(side_effect=[
        completion(call("cancel_scheduled_sms", {"contact": "John", "time": "7pm"})),
        completion(call("cancel_scheduled_sms", {"contact": "the Smiths"})),
        completion(call("cancel_scheduled_sms", {"contact": "Sarah", "time": "when the moon is blue"})),
    ])

    assert planner.plan(turn("don't send the 7pm text to John"), no_reads) == [CancelIntent("John", time(19, 0))]
    assert planner.plan(turn("cancel my scheduled text to the Smiths"), no_reads) == [CancelIntent("the Smiths")]
    [unreadable] = planner.plan(turn("cancel Sarah's text when the moon is blue"), no_reads)
    assert isinstance(unreadable, Ask) and unreadable.text.startswith("Which text to Sarah should I cancel?")
    assert route.call_count == 3


def test_send_at_in_iso_8601_becomes_an_aware_datetime_in_the_users_timezone(router, planner):
    router.post("/chat/completions").mock(return_value=completion(call(
        "send_sms", {"contact": "Sarah", "text": "See you soon", "send_at": "2026-11-18T17:00:00-08:00"})))

    [intent] = planner.plan(turn("text Sarah at 5pm see you soon"), no_reads)

    assert intent.send_at == datetime(2026, 11, 18, 17, 0, tzinfo=LA)
    assert intent.send_at.utcoffset() is not None and str(intent.send_at.tzinfo) == "America/Los_Angeles"


def test_send_at_in_utc_or_naive_is_read_in_the_users_timezone(router, planner):
    router.post("/chat/completions").mock(side_effect=[
        completion(call("send_sms", {"contact": "Sarah", "text": "Hi", "send_at": "2026-11-19T01:00:00Z"})),
        completion(call("send_sms", {"contact": "Sarah", "text": "Hi", "send_at": "2026-11-18T17:00"})),
    ])

    [utc] = planner.plan(turn("text Sarah at 5pm hi"), no_reads)
    [naive] = planner.plan(turn("text Sarah at 5pm hi"), no_reads)

    assert utc.send_at == naive.send_at == datetime(2026, 11, 18, 17, 0, tzinfo=LA)
    assert str(naive.send_at.tzinfo) == "America/Los_Angeles"


def test_send_at_as_a_phrase_is_parsed(router, planner):
    pytest.importorskip("assistant.timephrases")
    router.post("/chat/completions").mock(return_value=completion(call(
        "send_sms", {"contact": "Sarah", "text": "Good morning!", "send_at": "tomorrow at 9"})))

    [intent] = planner.plan(turn("text Sarah tomorrow at 9 good morning!"), no_reads)

    assert isinstance(intent, WriteIntent)
    assert intent.send_at == datetime(2026, 11, 19, 9, 0, tzinfo=LA)


def test_an_unreadable_send_at_asks_when(router, planner):
    router.post("/chat/completions").mock(return_value=completion(call(
        "send_sms", {"contact": "Sarah", "text": "Hi", "send_at": "when the moon is blue"})))

    [intent] = planner.plan(turn("text Sarah hi when the moon is blue"), no_reads)

    assert isinstance(intent, Ask) and intent.text.startswith("When should I send it to Sarah?")
    assert (intent.partial, intent.needs) == (WriteIntent(tool="send_sms", contact="Sarah", text="Hi"), "send_at")


def test_two_tool_calls_make_two_intents_from_one_request(router, planner):
    route = router.post("/chat/completions").mock(return_value=completion(
        call("send_sms", {"contact": "Mary Smith", "text": "Running late"}, "call_1"),
        call("send_sms", {"contact": "David Smith", "text": "Running late"}, "call_2")))

    intents = planner.plan(turn("text Mary and David Smith running late"), no_reads)

    assert intents == [WriteIntent(tool="send_sms", contact="Mary Smith", text="Running late"),
                       WriteIntent(tool="send_sms", contact="David Smith", text="Running late")]
    only_request(router, route)


def test_missing_text_asks_with_the_partial_request(router, planner):
    router.post("/chat/completions").mock(return_value=completion(call("send_sms", {"contact": "Sarah"})))

    intents = planner.plan(turn("text Sarah"), no_reads)

    assert intents == [Ask("What should I say to Sarah?", partial=WriteIntent(tool="send_sms", contact="Sarah"),
                           who="Sarah")]


def test_missing_contact_asks_who(router, planner):
    router.post("/chat/completions").mock(return_value=completion(call("send_sms", {"contact": " ", "text": "Hi"})))

    assert planner.plan(turn("send a text saying hi"), no_reads) == [Ask("Who should I text?")]


# -- read tools ----------------------------------------------------------------------------------------------


def test_a_read_tool_runs_and_its_result_goes_back_for_the_answer(router, planner):
    route = router.post("/chat/completions").mock(side_effect=[
        completion(call("read_thread", {"contact": "Sarah"}, "call_r1"), prompt_tokens=300),
        completion(content="Sarah asked whether you're still on for 5.", prompt_tokens=380),
    ])
    reader = Reader()

    intents = planner.plan(turn("what did Sarah say?"), reader)

    assert intents == [Unknown("Sarah asked whether you're still on for 5.")]
    assert reader.calls == [ReadIntent(tool="read_thread", query="Sarah")]
    assert route.call_count == 2 and len(router.calls) == 2
    second = body(route.calls[1].request)["messages"]
    assert [m["role"] for m in second] == ["system", "user", "assistant", "tool"]
    assert second[2]["tool_calls"][0]["id"] == "call_r1"
    assert second[2]["tool_calls"][0]["function"]["name"] == "read_thread"
    assert second[3] == {"role": "tool", "tool_call_id": "call_r1", "content": reader.answer}
    assert (planner.requests, planner.prompt_tokens) == (2, 680)


def test_list_scheduled_is_a_read_whose_list_goes_back_for_the_answer(router, planner):
    route = router.post("/chat/completions").mock(side_effect=[
        completion(call("list_scheduled", {}, "call_s1")),
        completion(content="One text is scheduled: Sarah Lee, tomorrow at 7:00 PM."),
    ])
    listed = "1 text scheduled:\nSarah Lee, tomorrow at 7:00 PM: \u201cSee you at the showing\u201d"
    reader = Reader(listed)

    intents = planner.plan(turn("what's scheduled?"), reader)

    assert reader.calls == [ReadIntent(tool="list_scheduled")]
    assert intents == [Unknown("One text is scheduled: Sarah Lee, tomorrow at 7:00 PM.")]
    tool = body(route.calls[0].request)["tools"][TOOL_NAMES.index("list_scheduled")]["function"]
    assert "scheduled" in tool["description"] and tool["parameters"]["properties"] == {}
    assert body(route.calls[1].request)["messages"][-1] == {"role": "tool", "tool_call_id": "call_s1",
                                                            "content": listed}


def test_a_write_after_a_read_becomes_an_intent(router, planner):
    router.post("/chat/completions").mock(side_effect=[
        completion(call("find_contacts", {"query": "Acme"}, "call_r1")),
        completion(call("send_sms", {"contact": "John Park", "text": "On my way"}, "call_w1")),
    ])
    reader = Reader("Acme Corp: (212) 555-0123")

    intents = planner.plan(turn("text whoever is at Acme on my way"), reader)

    assert reader.calls == [ReadIntent(tool="find_contacts", query="Acme")]
    assert intents == [WriteIntent(tool="send_sms", contact="John Park", text="On my way")]


def test_every_tool_call_is_answered_when_a_read_comes_with_a_write(router, planner):
    route = router.post("/chat/completions").mock(side_effect=[
        completion(call("send_sms", {"contact": "Sarah", "text": "On my way"}, "call_w1"),
                   call("list_inbox", {}, "call_r1")),
        completion(content="Drafted. Your Inbox has one unread text."),
    ])

    intents = planner.plan(turn("text Sarah on my way and what's in my inbox"), Reader("1 in your Inbox: Sarah Lee: hi"))

    assert intents[0] == WriteIntent(tool="send_sms", contact="Sarah", text="On my way")
    assert intents[1] == Unknown("Drafted. Your Inbox has one unread text.")
    second = body(route.calls[1].request)["messages"]
    assert [(m["role"], m.get("tool_call_id")) for m in second[3:]] == [("tool", "call_w1"), ("tool", "call_r1")]
    assert "nothing was sent" in second[3]["content"]


def test_read_rounds_are_bounded_and_the_last_read_is_left_to_the_service(router):
    planner = LlmPlanner(settings(llm_max_read_rounds=1))
    route = router.post("/chat/completions").mock(side_effect=[
        completion(call("find_contacts", {"query": "Sarah"}, "call_1")),
        completion(call("read_thread", {"contact": "Sarah Lee"}, "call_2")),
    ])
    reader = Reader("Sarah Lee: (415) 555-0132")

    intents = planner.plan(turn("what's new with Sarah?"), reader)

    assert route.call_count == 2 and planner.requests == 2
    assert reader.calls == [ReadIntent(tool="find_contacts", query="Sarah")]
    assert intents == [ReadIntent(tool="read_thread", query="Sarah Lee")]


# -- answers, questions and failures -------------------------------------------------------------------------


def test_a_question_without_tool_calls_is_an_ask(router, planner):
    route = router.post("/chat/completions").mock(return_value=completion(content="Which Sarah do you mean, Lee or Kim?"))

    assert planner.plan(turn("text Sarah"), no_reads) == [Ask("Which Sarah do you mean, Lee or Kim?")]
    only_request(router, route)


def test_an_answer_without_tool_calls_is_an_unknown_with_that_reply(router, planner):
    router.post("/chat/completions").mock(return_value=completion(content="I can't send emails, only texts and calls."))

    assert planner.plan(turn("email Sarah"), no_reads) == [Unknown("I can't send emails, only texts and calls.")]


def test_malformed_tool_arguments_make_a_clear_reply(router, planner):
    route = router.post("/chat/completions").mock(return_value=completion(call("send_sms", '{"contact": "Sarah", "text": ')))

    assert planner.plan(turn("text Sarah hello"), no_reads) == [Unknown(NOT_UNDERSTOOD)]
    only_request(router, route)


def test_an_unknown_tool_makes_a_clear_reply(router, planner):
    router.post("/chat/completions").mock(return_value=completion(call("send_email", {"contact": "Sarah"})))

    assert planner.plan(turn("email Sarah"), no_reads) == [Unknown(NOT_UNDERSTOOD)]


def test_rate_limited_is_one_request_and_a_clear_reply_without_the_key_in_logs(router, planner, caplog):
    route = router.post("/chat/completions").mock(return_value=httpx.Response(
        429, json={"error": {"message": f"Rate limit reached for key {KEY}", "type": "requests", "code": "rate_limit_exceeded"}}))

    with caplog.at_level(logging.WARNING, logger="cody.assistant"):
        [intent] = planner.plan(turn("text Sarah hi"), no_reads)

    assert isinstance(intent, Unknown) and "rate limited" in intent.reply and "try again" in intent.reply
    only_request(router, route)
    assert "RateLimitError 429" in caplog.text and KEY not in caplog.text


def test_out_of_quota_says_so(router, planner):
    router.post("/chat/completions").mock(return_value=httpx.Response(
        429, json={"error": {"message": "You exceeded your current quota", "type": "insufficient_quota",
                             "code": "insufficient_quota"}}))

    [intent] = planner.plan(turn("text Sarah hi"), no_reads)

    assert isinstance(intent, Unknown) and "out of credit" in intent.reply


@pytest.mark.parametrize(("failure", "says"), [
    (httpx.ReadTimeout("timed out"), "took too long"),
    (httpx.ConnectError("refused"), "couldn't reach"),
    (httpx.Response(500, json={"error": {"message": "boom"}}), "error on its side"),
    (httpx.Response(503, text="upstream unavailable"), "error on its side"),
    (httpx.Response(401, json={"error": {"message": f"Incorrect API key provided: {KEY}"}}), "API key"),
    (httpx.Response(200, text="not json at all"), "try again"),
])
def test_model_failures_become_clear_replies(router, planner, caplog, failure, says):
    route = router.post("/chat/completions")
    if isinstance(failure, httpx.Response):
        route.mock(return_value=failure)
    else:
        route.mock(side_effect=failure)

    with caplog.at_level(logging.WARNING, logger="cody.assistant"):
        [intent] = planner.plan(turn("text Sarah hi"), no_reads)

    assert isinstance(intent, Unknown) and says in intent.reply
    only_request(router, route)
    assert "failed" in caplog.text and KEY not in caplog.text


def test_a_failure_after_a_read_keeps_what_was_drafted(router, planner):
    router.post("/chat/completions").mock(side_effect=[
        completion(call("send_sms", {"contact": "Sarah", "text": "On my way"}, "call_w1"),
                   call("read_thread", {"contact": "Sarah"}, "call_r1")),
        httpx.Response(429, json={"error": {"message": "slow down"}}),
    ])

    intents = planner.plan(turn("text Sarah on my way, and what did she say?"), Reader())

    assert intents[0] == WriteIntent(tool="send_sms", contact="Sarah", text="On my way")
    assert isinstance(intents[1], Unknown) and "rate limited" in intents[1].reply


def test_the_planner_needs_a_key():
    with pytest.raises(ValueError, match="OPENAI_API_KEY"):
        LlmPlanner(AssistantSettings(_env_file=None, openai_api_key=None))
