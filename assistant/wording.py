"""Times and texts as Cody says them: in the workspace's time zone, the way a person would ("tomorrow at 7:00 PM",
"Tue Dec 8 at 9:00 AM"), never as a timestamp. Chat, Slack and voice (which reads the reply aloud) share them."""

from datetime import UTC, datetime, time, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import grapheme
from sqlalchemy.orm import Session, object_session

from db.models import Activity, Draft, Organization
from db.types import utcnow
from tools.phones import format_phone
from tools.segments import NOT_GSM, count_segments

FAR = 180  # days away from today beyond which a date says its year
MAX_NAMED = 3  # special characters named in a long Unicode text's note
SNIPPET = 30  # characters of a text's start said to name it ("See you at the…")


def workspace_zone(session: Session | None, organization_id: str) -> tzinfo:
    """The workspace's time zone; UTC when there is no session to ask or the zone's name is unknown."""
    org = session.get(Organization, organization_id) if session is not None else None
    try:
        return ZoneInfo(org.timezone) if org is not None and org.timezone else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def zone_of(row: Draft | Activity) -> tzinfo:
    """The time zone of the workspace a loaded row (a draft, an activity) belongs to."""
    return workspace_zone(object_session(row), row.organization_id)


def when(moment: datetime | str, zone: tzinfo, now: datetime | None = None) -> str:
    """"today at 8:38 PM", "tomorrow at 7:00 PM", "yesterday at 9:05 AM", "Tue Dec 8 at 9:00 AM", or with the year
    when far from today ("Tue Jan 5, 2027 at 9:00 AM"), said in `zone`. Takes a datetime or an ISO string."""
    local = (datetime.fromisoformat(moment) if isinstance(moment, str) else moment).astimezone(zone)
    today = (now or utcnow()).astimezone(zone).date()
    days = (local.date() - today).days
    day = {0: "today", 1: "tomorrow", -1: "yesterday"}.get(days)
    if day is None:
        day = f"{local:%a %b} {local.day}" + (f", {local.year}" if abs(days) > FAR else "")
    return f"{day} at {clock(local)}"


def clock(moment: datetime | time, short: bool = False) -> str:
    """"7:00 PM"; `short` says "7 PM" for a whole hour, as people say it."""
    return f"{moment:%-I %p}" if short and moment.minute == 0 else f"{moment:%-I:%M %p}"


def recipient(preview: dict) -> str:
    """Whom a draft goes to, as said: the contact's stored name ("Sarah Lee"), else the number as people write it
    ("(415) 555-0199", "+44 20 7946 0958"), else "them"."""
    return preview.get("contact_name") or format_phone(preview.get("to")) or "them"


def first_words(text: str | None) -> str:
    """The start of a text, to name it by: "See you at the…" (its first SNIPPET characters), or all of a short one."""
    words = " ".join((text or "").split())
    return words if len(words) <= SNIPPET else words[:SNIPPET].rstrip() + "\u2026"


def texts_note(text: str, segments: int | None, encoding: str | None) -> str:
    """" (goes as 5 texts)" for a text sent in several SMS; when special characters make it Unicode (UCS-2, 67
    characters a part instead of 153) and cost texts, what it would take without them: " (goes as 3 texts; 2
    without ’ and 😀)". "" for one text."""
    if not segments or segments < 2:
        return ""
    note = f"goes as {segments} texts"
    if encoding == "UCS-2":
        special = list(dict.fromkeys(g for g in grapheme.graphemes(text) if NOT_GSM.search(g)))
        rest = NOT_GSM.sub("", text)
        plain = count_segments(rest).segments
        if special and rest.strip() and plain < segments:
            named = (and_list(special) if len(special) <= MAX_NAMED
                     else f"its special characters such as {and_list(special[:MAX_NAMED])}")
            note += f"; {plain} without {named}"
    return f" ({note})"


def and_list(words: list[str]) -> str:
    """"A", "A and B", "A, B and C"."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def since(moment: datetime, zone: tzinfo, now: datetime | None = None) -> str:
    """A "since" the user asked about, said from today: "today", "since yesterday", "since Monday", "since Dec 1"."""
    local = moment.astimezone(zone)
    days = ((now or utcnow()).astimezone(zone).date() - local.date()).days
    if days <= 0:
        return "today"
    if days == 1:
        return "since yesterday"
    return f"since {local:%A}" if days < 7 else f"since {local:%b} {local.day}"


def duration(seconds: int) -> str:
    """"42 seconds", "1 minute", "3 minutes" (to the nearest minute from a minute on)."""
    if seconds < 60:
        return f"{seconds} second{'' if seconds == 1 else 's'}"
    minutes = (seconds + 30) // 60
    return f"{minutes} minute{'' if minutes == 1 else 's'}"


def variable_question(name: str, template: str) -> str:
    """What Cody asks for a value the template needs: "What should I put for minutes in the “Running late”
    template?"."""
    noun = "" if template.lower().endswith("template") else " template"
    return f"What should I put for {name.replace('_', ' ')} in the \u201c{template}\u201d{noun}?"
