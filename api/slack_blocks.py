"""Cody's answers as Slack Block Kit: draft cards with Confirm / Edit / Cancel, and the edit modal.

A button's value is only the draft id; who may press it is decided by assistant.drafts from the Slack user's
Cody identity, never by anything in the payload. The SMS text is shown as plain_text, so Slack's mrkdwn cannot
change what the user reads from what will be sent.
"""

import json
import re
from datetime import datetime

from assistant import unsend
from assistant.service import ChatResult
from db.models import Activity, Draft
from tools.phones import format_phone

CONFIRM, EDIT, CANCEL, CHOICE = "cody_confirm", "cody_edit", "cody_cancel", "cody_choice"
EDIT_MODAL = "cody_edit_modal"
EDIT_BLOCK = EDIT_INPUT = "text"
QUESTION_BLOCK = "cody_q:"
MAX_DRAFTS = 7  # Slack allows 50 blocks a message; a card is at most 6
MAX_CHOICES = 10
SECTION_LIMIT = 3000
MODAL_TEXT_LIMIT = 3000

_SLACK_TOKEN = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")


def escape(text: str) -> str:
    """Text for a mrkdwn field: Slack needs &, < and > escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int = SECTION_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def plain(text: str, emoji: bool = True) -> dict:
    return {"type": "plain_text", "text": _clip(text or " "), "emoji": emoji}


def mrkdwn(text: str) -> dict:
    return {"type": "mrkdwn", "text": _clip(text or " ")}


def section(text: str) -> dict:
    return {"type": "section", "text": mrkdwn(text)}


def context(text: str) -> dict:
    return {"type": "context", "elements": [mrkdwn(_clip(text, 2000))]}


def from_slack(text: str, bot_user_id: str | None = None) -> str:
    """What the user typed, from Slack's formatted text: links and mentions unwrapped, entities decoded.

    The app's own mention (`<@BOT>`) is dropped, so "@Cody text Sarah hi" reads "text Sarah hi".
    """
    def unwrap(match: re.Match) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith("@"):
            if bot_user_id and target[1:] == bot_user_id:
                return ""
            return "@" + (label or target[1:])
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!"):
            return label or "@" + target[1:].split("^")[0]
        if target.startswith("mailto:"):
            return label or target[len("mailto:"):]
        return label or target

    text = _SLACK_TOKEN.sub(unwrap, text or "")
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip()


def _when(iso_value: str) -> str:
    """A time Slack shows in the reader's own time zone, with the ISO value as fallback."""
    try:
        epoch = int(datetime.fromisoformat(iso_value).timestamp())
    except ValueError:
        return escape(iso_value)
    return f"<!date^{epoch}^{{date_short_pretty}} at {{time}}|{escape(iso_value)}>"


def _who(draft: Draft) -> tuple[str, str | None]:
    preview = draft.preview or {}
    number = format_phone(preview.get("to"))
    name = preview.get("contact_name") or number or "them"
    return name, number if number != name else None


def _status(draft: Draft, activity: Activity | None) -> str | None:
    if draft.tool == unsend.TOOL:
        return _cancel_status(draft)
    name, _ = _who(draft)
    if draft.state == "executed":
        status = activity.status if activity is not None else None
        if status in ("sent", "delivered"):
            return f":white_check_mark: Sent to {escape(name)}."
        if status == "scheduled":
            when = activity.date_scheduled.isoformat() if activity.date_scheduled else ""
            return f":calendar: Scheduled for {_when(when)}." if when else ":calendar: Scheduled."
        if status in ("outbox", "sending", "queued"):
            return f":outbox_tray: Confirmed; sending to {escape(name)} now."
        if status in ("error", "failed", "undelivered"):
            reason = activity.error_message or "no reason given"
            return f":x: Confirmed, but the carrier refused it: {escape(reason)}"
        if status:
            return f":white_check_mark: Confirmed ({escape(status)})."
        return ":white_check_mark: Confirmed."
    if draft.state == "canceled":
        return ":no_entry_sign: Canceled; nothing was sent."
    if draft.state == "failed":
        return f":x: Not sent: {escape(draft.error or 'it failed')}"
    if draft.state == "expired":
        return ":hourglass: This draft expired; nothing was sent. Ask Cody again to make a new one."
    if draft.state == "confirmed":
        return ":hourglass_flowing_sand: Being confirmed\u2026"
    return None


def _cancel_status(draft: Draft) -> str | None:
    """A draft to cancel a waiting text: done, it is back to draft; dropped or failed, it still goes out."""
    return {
        "executed": ":no_entry_sign: Canceled: it won't go out; it's kept as a draft.",
        "canceled": ":ok_hand: Kept; the text still goes out.",
        "failed": f":x: Not canceled: {escape(draft.error or 'it failed')}",
        "expired": ":hourglass: This draft expired; the text still goes out. Ask Cody again to cancel it.",
        "confirmed": ":hourglass_flowing_sand: Canceling\u2026",
    }.get(draft.state)


def _heading(draft: Draft, name: str) -> str:
    if draft.tool == unsend.TOOL:
        return f"*Cancel the text to {escape(name)}*"
    return f"*{'Call' if draft.tool == 'call_contact' else 'Text'} {escape(name)}*"


def _buttons(draft: Draft) -> list[dict]:
    """Confirm, Edit (a text), Cancel; for a cancel of a waiting text, "Cancel the text" and "Keep it"."""
    unsending = draft.tool == unsend.TOOL
    confirm = {"type": "button", "action_id": CONFIRM, "text": plain("Cancel the text" if unsending else "Confirm"),
               "style": "danger" if unsending else "primary", "value": draft.id}
    edit = {"type": "button", "action_id": EDIT, "text": plain("Edit"), "value": draft.id}
    keep = {"type": "button", "action_id": CANCEL, "text": plain("Keep it" if unsending else "Cancel"),
            "value": draft.id}
    elements = [] if draft.problems else [confirm]
    if draft.tool not in ("call_contact", unsend.TOOL):
        elements.append(edit)
    return [*elements, keep if unsending else {**keep, "style": "danger"}]


def draft_blocks(draft: Draft, activity: Activity | None = None, note: str | None = None) -> list[dict]:
    """One draft: recipient, line, exact text, encoding and segments, schedule, problems; buttons while pending."""
    preview = draft.preview or {}
    name, number = _who(draft)
    is_call = draft.tool == "call_contact"
    head = _heading(draft, name) + (f"  {escape(number)}" if number else "")
    if preview.get("from"):
        head += f"\nFrom {escape(format_phone(preview['from']) or preview['from'])}"
    blocks = [section(head)]
    if not is_call:
        text = preview.get("text") if preview.get("text") is not None else (draft.args or {}).get("text")
        if text:
            blocks.append({"type": "section", "text": plain(text, emoji=False)})
        facts = []
        if preview.get("encoding"):
            segments = preview.get("segments") or 0
            facts.append(f"{preview['encoding']} \u00b7 {segments} segment{'' if segments == 1 else 's'}")
        if preview.get("attachments"):
            count = len(preview["attachments"])
            facts.append(f"{count} attachment{'' if count == 1 else 's'}")
        scheduled = preview.get("date_scheduled")
        if scheduled:
            facts.append(f"Scheduled for {_when(scheduled)}")
        elif draft.tool == unsend.TOOL:
            facts.append("Going out now")
        elif draft.state == "pending":
            facts.append("Sends when you confirm")
        if facts:
            blocks.append(context(" \u00b7 ".join(facts)))
    if draft.problems:
        blocks.append(section("\n".join(f":warning: {escape(p.get('message', ''))}" for p in draft.problems)))
    status = _status(draft, activity)
    if note and note != draft.error:
        status = f"{status}\n:warning: {escape(note)}" if status else f":warning: {escape(note)}"
    if status:
        blocks.append(context(status))
    if draft.state == "pending":
        blocks.append({"type": "actions", "block_id": f"draft:{draft.id}", "elements": _buttons(draft)})
    return blocks


def draft_text(draft: Draft, activity: Activity | None = None) -> str:
    """The notification text for a draft card (Slack shows it where blocks can't be shown)."""
    name, _ = _who(draft)
    status = _status(draft, activity)
    if status:
        return f"{name}: {re.sub(r':[a-z_]+: ', '', status)}"
    if draft.tool == unsend.TOOL:
        return f"Cancel the text to {name}? Cancel it or keep it."
    return f"Draft for {name}: confirm, edit or cancel."


def result_message(result: ChatResult) -> tuple[str, list[dict]]:
    """An assistant turn: its reply, a card per draft, and the choices of a question as buttons."""
    blocks: list[dict] = []
    reply = result.reply or ""
    if reply:  # plain text: what Cody says is shown as written, never as Slack formatting
        if result.drafts:
            blocks.append({"type": "context", "elements": [plain(_clip(reply, 2000), emoji=False)]})
        else:
            blocks.append({"type": "section", "text": plain(reply, emoji=False)})
    by_id = {a.id: a for a in result.activities}
    for draft in result.drafts[:MAX_DRAFTS]:
        blocks.append({"type": "divider"})
        blocks.extend(draft_blocks(draft, by_id.get(draft.activity_id or "")))
    if len(result.drafts) > MAX_DRAFTS:
        blocks.append(context(f"\u2026and {len(result.drafts) - MAX_DRAFTS} more drafts; see them on Cody's web page."))
    choices = (result.question or {}).get("choices") or []
    if choices:
        blocks.append({"type": "actions", "block_id": f"{QUESTION_BLOCK}{result.conversation_id}", "elements": [
            {"type": "button", "action_id": f"{CHOICE}_{i}", "text": plain(_clip(c["label"] or c["value"], 75)),
             "value": _clip(c["value"], 2000)}
            for i, c in enumerate(choices[:MAX_CHOICES])]})
    return escape(reply) or "Cody", blocks


def edit_modal(draft: Draft, text: str, metadata: dict) -> dict:
    """A modal holding the draft's exact text; `metadata` comes back with the submission."""
    name, number = _who(draft)
    return {
        "type": "modal",
        "callback_id": EDIT_MODAL,
        "title": plain("Edit text"),
        "submit": plain("Save"),
        "close": plain("Back"),
        "private_metadata": json.dumps(metadata),
        "blocks": [
            context(f"To {escape(name)}" + (f" ({escape(number)})" if number else "")),
            {"type": "input", "block_id": EDIT_BLOCK, "label": plain("Message"),
             "element": {"type": "plain_text_input", "action_id": EDIT_INPUT, "multiline": True,
                         "max_length": MODAL_TEXT_LIMIT, "initial_value": text[:MODAL_TEXT_LIMIT]}},
        ],
    }


def help_blocks(command: str) -> tuple[str, list[dict]]:
    text = (f"*Cody* drafts texts for you; nothing is sent until you press Confirm.\n"
            f"\u2022 `{command} text Sarah I'm running 10 minutes late`\n"
            f"\u2022 `{command} link CODE` links your Slack account (get the code on Cody's web page)\n"
            f"\u2022 `{command} unlink` removes that link\n"
            "You can also send me a direct message, or mention me in a channel.")
    return "How to use Cody", [section(text)]
