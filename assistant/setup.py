"""Build the assistant a process uses: the LLM planner when a model is configured, else the offline one."""

from assistant.planner import OfflinePlanner, Planner
from assistant.service import Assistant
from assistant.settings import AssistantSettings
from tools.messaging import Messaging


def build_planner(settings: AssistantSettings) -> Planner:
    if settings.uses_llm:
        from assistant.llm import LlmPlanner

        return LlmPlanner(settings)
    return OfflinePlanner()


def build_assistant(messaging: Messaging, settings: AssistantSettings, planner: Planner | None = None) -> Assistant:
    return Assistant(messaging, planner or build_planner(settings), settings)


def planner_status(assistant: Assistant) -> dict:
    settings = assistant.settings
    status = {"planner": assistant.planner.name}
    if assistant.planner.name == "llm":
        status |= {"model": settings.cody_model, "base_url": settings.openai_base_url or "https://api.openai.com/v1"}
    return status
