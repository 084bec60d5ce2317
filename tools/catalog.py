"""The tools the language model sees: write tools only ever make drafts, read tools run at once."""

from pydantic import BaseModel, Field


class SendSms(BaseModel):
    """Draft a text message to a contact or lead (by name as the user said it). Nothing is sent until the user confirms."""

    contact: str = Field(description="Who to text, as the user named them: 'Sarah', 'the Smiths', 'John from Acme', "
                                     "'the last person who texted me', or 'her', 'him', 'them' for whom the "
                                     "conversation is about")
    text: str = Field(description="The exact message to send, in the user's words")
    send_at: str | None = Field(default=None, description="When to send, if the user said: ISO 8601 with offset, or a phrase like 'tomorrow at 9'")


class SendTemplate(BaseModel):
    """Draft a saved SMS template to a contact or lead, filling the template's variables. Nothing is sent until confirmed."""

    contact: str = Field(description="Who to send it to, as the user named them ('her', 'him', 'them' too)")
    template: str = Field(description="The template's name as the user said it: 'the showing confirmation'")
    variables: dict[str, str] = Field(default_factory=dict, description="Values for the template's free variables, e.g. {'time': '7pm'}")
    send_at: str | None = Field(default=None, description="When to send, if the user said")


class CallContact(BaseModel):
    """Draft a phone call to a contact: the user's phone rings first, then the contact. Nothing happens until confirmed."""

    contact: str = Field(description="Who to call, as the user named them: 'John', 'the last caller', 'her'")


class CancelScheduledSms(BaseModel):
    """Draft canceling a scheduled text to a contact; it goes back to draft. Nothing changes until the user confirms."""

    contact: str = Field(description="Whom the text is to, as the user named them: 'Sarah', 'the Smiths'")
    time: str | None = Field(default=None, description="The text's time, if the user named it: '7pm', '19:00'")


class FindContacts(BaseModel):
    """Look up contacts in the workspace by name, company or phone."""

    query: str = Field(description="Name, company or phone to search for")


class ReadThread(BaseModel):
    """Read the recent messages with a contact."""

    contact: str = Field(description="Whose conversation to read")


class ListInbox(BaseModel):
    """List the user's Inbox: unread texts, missed calls and voicemails."""


class ListScheduled(BaseModel):
    """List the user's texts scheduled and not yet sent: to whom, when, and how each begins."""


WRITE_TOOLS = {"send_sms": SendSms, "send_template": SendTemplate, "call_contact": CallContact,
               "cancel_scheduled_sms": CancelScheduledSms}
READ_TOOLS = {"find_contacts": FindContacts, "read_thread": ReadThread, "list_inbox": ListInbox,
              "list_scheduled": ListScheduled}
CATALOG = WRITE_TOOLS | READ_TOOLS
