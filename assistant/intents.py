"""What a planner makes of one user turn, before anything is resolved against the workspace."""

import re
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Literal

# A phone number said where a name could be: "text 415-555-0143 hi", "who is (415) 555 0143?".
SAID_NUMBER = re.compile(r"\+?\(?\d[\d\s().-]{5,}\d")

WriteTool = Literal["send_sms", "send_template", "call_contact"]
ReadTool = Literal["find_contacts", "read_thread", "list_inbox", "list_scheduled"]


@dataclass(frozen=True)
class WriteIntent:
    """A request to text, send a template to, or call someone; it only ever becomes a draft.

    `then` is the same words read as two requests, when a second one starts after "and" ("text Sarah hi and call
    John"); whether it is (John is a contact) is for the assistant, which sees the workspace, to decide."""

    tool: WriteTool
    contact: str
    text: str | None = None
    template: str | None = None
    template_value: str | None = None
    variables: dict[str, str] = field(default_factory=dict)
    send_at: datetime | None = None
    then: "Then | None" = None


@dataclass(frozen=True)
class Then:
    """A request read as two: `first` ("text Sarah hi") and `second` ("call John"), instead of one whose words hold
    the second ("hi and call John")."""

    first: WriteIntent
    second: WriteIntent


@dataclass(frozen=True)
class CancelIntent:
    """A request to stop a text still waiting to go out ("cancel the 7pm text to John"); it only ever becomes a
    draft. `at` is the time of day the user named the text by, in the workspace's zone."""

    contact: str
    at: time | None = None


@dataclass(frozen=True)
class ReadIntent:
    """A question answered at once from the workspace's data."""

    tool: ReadTool
    query: str | None = None
    since: datetime | None = None


@dataclass(frozen=True)
class Ask:
    """Something is missing; ask the user (e.g. "What should I say to Sarah?").

    `partial` is the request so far, when the answer is simply what it `needs`: the missing message text, or its send
    time ("When should I send it?"). `who` is the recipient as the user said it and the question names them
    ("sarah"): the assistant says the name stored for them instead.
    """

    text: str
    partial: WriteIntent | None = None
    who: str | None = None
    needs: Literal["text", "send_at"] = "text"


@dataclass(frozen=True)
class Unknown:
    """Not something Cody can do; an honest reply."""

    reply: str


Intent = WriteIntent | CancelIntent | ReadIntent | Ask | Unknown

CAPABILITIES = ("I can text, call or send templates; try \"text Sarah I'm running 10 minutes late\", "
                "\"send the Smiths the showing confirmation for 7pm\" or \"call John\".")
