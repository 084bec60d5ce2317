"""Talking to Cody through the chat API, as the web page does; or to an assistant on the LLM planner directly."""

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import respx

from assistant.llm import LlmPlanner
from assistant.service import Assistant
from assistant.settings import AssistantSettings
from assistant.setup import build_assistant
from tests.assistant.test_llm_planner import BASE
from tools.runtime import Runtime


def say(chat: httpx.Client, text: str, conversation_id: str | None = None) -> dict:
    """One turn: Cody's answer (reply, drafts, question), which must be a 200."""
    response = chat.post("/api/chat/messages", json={"text": text, "conversation_id": conversation_id})
    assert response.status_code == 200, response.text
    return response.json()


@contextmanager
def llm_assistant(runtime: Runtime) -> Iterator[tuple[Assistant, respx.Router]]:
    """An assistant on the LLM planner over a live Cody's runtime, and the respx router its model requests go to."""
    settings = AssistantSettings(_env_file=None, openai_api_key="sk-test", openai_base_url=BASE)
    planner = LlmPlanner(settings)
    try:
        with respx.mock(base_url=BASE) as router:
            yield build_assistant(runtime.messaging, settings, planner), router
    finally:
        planner.close()
