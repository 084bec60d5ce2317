"""Each rule a send must pass: one small function, one stable problem code."""

import ipaddress
from datetime import datetime, time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as pn_timezone

from tools.messaging import countries
from tools.phones import format_phone
from tools.problems import Problem

MAX_TEXT = 1000
MAX_ATTACHMENTS = 10
IMAGE_LIMIT = 5 * 1024 * 1024
OTHER_LIMIT = 600 * 1024
# What a carrier delivers as MMS (Twilio's accepted content types): pictures, sound, video, text-like files (contact
# cards, calendars), PDFs and wallet passes; anything else is refused by the carrier after the text was accepted.
MEDIA_TYPES = ("image/", "audio/", "video/", "text/")
MEDIA_APPLICATION_TYPES = frozenset({"application/pdf", "application/vcard", "application/vnd.apple.pkpass"})
PRIVATE_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa")


def short_code(raw: str) -> Problem | None:
    digits = "".join(ch for ch in raw if ch.isdigit())
    if not raw.strip().startswith("+") and 3 <= len(digits) <= 8:
        return Problem("short_code", "remote_phone", f"{raw} is a short code; short codes cannot be texted.")
    return None


def supported_country(region: str | None, to: str) -> Problem | None:
    if region not in countries.SUPPORTED:
        where = region or "that country"
        return Problem("unsupported_country", "remote_phone", f"Texting {to} is not supported: Cody can't text numbers in {where} yet.")
    return None


def same_line(to: str | None, line: str | None, verb: str) -> Problem | None:
    """The carrier refuses a message or call from a line to itself (Twilio 21266)."""
    if to and to == line:
        return Problem("same_number", "remote_phone", f"{format_phone(to)} is the business line this {verb} would go "
                                                      f"out from; a line can't {verb} itself.")
    return None


def text_present(text: str, has_media: bool) -> Problem | None:
    if not text.strip() and not has_media:
        return Problem("empty", "text", "The message is empty.")
    return None


def text_length(text: str) -> Problem | None:
    if len(text) > MAX_TEXT:
        return Problem("too_long", "text", f"The message is {len(text)} characters; the limit is {MAX_TEXT}.")
    return None


def mms_allowed(from_region: str | None, to_region: str | None, sender_mms: bool) -> Problem | None:
    if from_region not in countries.MMS or to_region not in countries.MMS:
        return Problem("mms_not_supported", "attachments", "Pictures can only be sent between US, Canadian and Australian numbers.")
    if not sender_mms:
        return Problem("mms_not_supported", "attachments", "Your business line can't send pictures (no MMS capability).")
    return None


def attachment_limits(attachments: list[dict]) -> Problem | None:
    if len(attachments) > MAX_ATTACHMENTS:
        return Problem("too_many_attachments", "attachments", f"At most {MAX_ATTACHMENTS} attachments can be sent at once.")
    total = sum(a.get("size", 0) for a in attachments)
    images_only = all(a.get("content_type", "").startswith("image/") for a in attachments)
    limit = IMAGE_LIMIT if images_only else OTHER_LIMIT
    if total > limit:
        what = "5 MB for pictures" if images_only else "600 KB when other files are attached"
        return Problem("attachment_too_large", "attachments", f"Attachments add up to {total:,} bytes; the limit is {what}.")
    return None


def attachment_problems(attachments: list[dict]) -> list[Problem]:
    """Each attachment the carrier could not fetch or would not deliver, named by its place in the list."""
    problems = []
    for i, attachment in enumerate(attachments):
        reason = _unfetchable(attachment.get("url") or "")
        if reason:
            problems.append(Problem("invalid", f"attachments.{i}.url", reason))
        kind = (attachment.get("content_type") or "").strip().lower()
        if not kind.startswith(MEDIA_TYPES) and kind not in MEDIA_APPLICATION_TYPES:
            problems.append(Problem("invalid", f"attachments.{i}.content_type",
                                    f"{kind or 'No type'} can't be sent by text: send a picture, sound, video, PDF, "
                                    "or contact or calendar card."))
    return problems


def _unfetchable(url: str) -> str | None:
    """Why the carrier could not fetch this URL, or None: it needs a public http(s) address."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return "Give the file's public http(s) address (https://...), which the carrier downloads."
    host = parts.hostname.lower().rstrip(".")
    try:
        private = not ipaddress.ip_address(host).is_global
    except ValueError:
        private = host == "localhost" or host.endswith(PRIVATE_SUFFIXES) or "." not in host
    if private:
        return f"{host} is not a public address: the carrier downloads the file from the internet."
    return None


def ten_dlc(to_region: str | None, sender_region: str | None, sender_kind: str, messaging_service: str | None) -> Problem | None:
    """US destinations from a US long code need the registered 10DLC messaging service."""
    if to_region == "US" and sender_region == "US" and sender_kind in ("local", "mobile") and not messaging_service:
        return Problem("us_10dlc_unregistered", "local_phone",
                       "Texts to US numbers need a registered 10DLC messaging service: finish the 10DLC registration "
                       "in Settings, Business Phone (Canadian numbers work without it).")
    return None


def whatsapp(requested: bool) -> Problem | None:
    if requested:
        return Problem("whatsapp_unavailable", "channel", "WhatsApp is not available yet: use SMS or email")
    return None


def quiet_hours(to_number: phonenumbers.PhoneNumber, at: datetime, start: time | None, end: time | None,
                workspace_zone: str | None = None, verb: str = "text") -> Problem | None:
    """Refuse a send (or a call: `verb`) that would land in the workspace's quiet hours in any of the recipient's
    time zones.

    When the number's zones are unknown, or are so many that they never share an allowed minute (toll-free and
    other non-geographic numbers list every zone of the country, from Guam to Newfoundland), the workspace's own
    time zone decides instead: "quiet somewhere" would otherwise mean "quiet forever".
    """
    if start is None or end is None:
        return None
    zones, whose = [z for z in pn_timezone.time_zones_for_number(to_number) if z != "Etc/Unknown"], "their"
    fallback = _zone(workspace_zone)
    if fallback and (not zones or (len(zones) > 1 and _next_allowed(at, zones, start, end) is None)):
        zones, whose = [fallback], "your workspace's"
    if not zones:
        return None
    if not any(_in_window(at.astimezone(ZoneInfo(z)).time(), start, end) for z in zones):
        return None
    allowed = _next_allowed(at, zones, start, end)
    if allowed is None:
        return Problem("quiet_hours", "date_scheduled",
                       f"It's quiet hours for the recipient ({start:%H:%M}-{end:%H:%M} {whose} time) at every hour "
                       f"of the day in one of their time zones; shorten the quiet hours to {verb} them.")
    local = allowed.astimezone(ZoneInfo(zones[0]))
    return Problem("quiet_hours", "date_scheduled",
                   f"It's quiet hours for the recipient ({start:%H:%M}-{end:%H:%M} {whose} time); "
                   f"the next allowed time is {local:%a %H:%M} {local.tzname()}.")


def _zone(name: str | None) -> str | None:
    try:
        return name if name and ZoneInfo(name) else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _in_window(t: time, start: time, end: time) -> bool:
    if start <= end:
        return start <= t < end
    return t >= start or t < end


def _next_allowed(at: datetime, zones: list[str], start: time, end: time) -> datetime | None:
    """The first whole quarter hour from `at` that is outside quiet hours in every zone; None within two days."""
    candidate = at.replace(second=0, microsecond=0) + timedelta(minutes=15 - at.minute % 15)
    for _ in range(4 * 48):
        if not any(_in_window(candidate.astimezone(ZoneInfo(z)).time(), start, end) for z in zones):
            return candidate
        candidate += timedelta(minutes=15)
    return None
