"""The offline planner: deterministic parsing of the common commands, so Cody works with no model at all.

`plan(text, now)` returns exactly one intent (assistant/intents.py). Commands are matched case-insensitively after
dropping "hey cody,", "please", "can you", "could you" ... at the start; the message keeps the user's own case,
punctuation and pronouns ("tell Sarah I'm running late" texts "I'm running late"), without surrounding quotes.

Who the recipient is, without a contact list:

1. A connector ends the recipient: ":", ",", a dash, "that", "saying", "to say", "and say", "and tell her/him/them",
   or an opening quote. The first connector whose left side looks like a name wins ("text Sarah Lee, see you",
   "tell the Smiths that we're on our way"); a left side holding a pronoun or a common verb or function word
   ("Sarah I think") is a clause, not a name, and that connector is skipped; so is a capitalised name going on in
   lowercase ("Sarah sounds good, ..."), and a several-word lowercase name before a comma or dash.
2. With no such connector, the recipient is a leading "the X" (one word, "the Smiths", optionally "family"), or
   "<Name> from <Company>" (company one or two capitalised words), or one or two capitalised words ("Sarah",
   "Sarah Lee", "Dr. Patel", "Émile", "Łukasz": a capital in any alphabet) ending before the first lowercase word,
   pronoun, common message opener ("Hi", "Running", "See"...) or time phrase ("text Sarah Dec 24 at 9am ..."); a
   lowercase first word, after a title if any ("text sarah i'm late", "text dr patel hi"), is a one-word name; a
   leading phone number ("text 415-555-0143 hi") is the recipient. A title (assistant/honorifics.py) stays with the
   recipient, never in the message; so does the phone said with the name ("text Sarah's cell I'm outside").
3. "let X know ...", "send X a text ...", "shoot X a text ...", "drop X a line ...", "give X a call" name the
   recipient explicitly.
4. "her", "him" or "them" right after the verb ("text her I'm outside", "call him back", "let them know ...") is the
   recipient as said; the assistant knows whom the conversation is about.
5. A recipient named by what they last did ("the last person who texted me", "the last text", "whoever called me
   last"; assistant/last_person.py) is that phrase, whatever follows; the assistant finds who it is.

When to send (a time phrase inside the message never counts: "text Sarah I'll be there at 5" keeps "at 5"):

- at the very start, before the command: "tomorrow at 9 text Sarah ...", "at 5pm, text Sarah ...";
- between the recipient and a connector: "text Sarah at 5pm: see you soon", "text Sarah tomorrow at 9 saying ...";
- opening the message: "text Sarah tomorrow at 9 the lockbox code is 4512", "text Sarah at 5pm see you there",
  "remind Sarah tomorrow at 10 about the walkthrough" (the draft shows the time before anyone confirms), unless the
  next word makes the time part of a sentence ("tomorrow works for me", "Friday is fine", "at 5 or 6?",
  "tomorrow at 9 at the office"; `_TIME_IN_MESSAGE`), a question mark follows it ("tomorrow?"), it is a loose time
  (timephrases.loose_time: an elapsed time, "in 10 minutes I'll be there"; a bare hour with no am/pm and no day,
  "at 5 I'll meet you at the office"; "next week" alone, "next week let's catch up"), or it has already passed
  ("at 8 tonight dinner?" said at 21:00); with a connector after it, the time is the send time either way ("text
  Sarah in 10 minutes: I'm outside");
- at the end after an explicit marker following punctuation: "..., send it tomorrow at 9", "... (send at 5pm)";
- with "schedule": "schedule a text to Sarah for 5pm: ..." and "schedule a text to Sarah saying hi at 5pm" (the
  trailing time is the send time because the user asked to schedule).

A clock said in words counts as one in digits does, in a shape no sentence has (timephrases): "text Sarah tomorrow at
nine am the lockbox code is 4512", "text John at seven thirty pm see you there"; "at nine o'clock" is a bare hour, so
loose; "text Sarah at one point I thought ..." keeps its words.

Templates: "send Sarah the showing confirmation", "send the Smiths the showing confirmation for 7pm", "send the
running late template to Sarah", "use the showing confirmation template for Sarah at 7pm". The name loses a
leading "the/my/our" and a trailing "template"/"message". Whatever follows the name ("for 7pm", "at 7pm",
"with 10 minutes", "tomorrow at 9") is the raw template_value for the resolver to fill, never a send time; a
template's send time comes only from the start of the command or an explicit "send it ..." marker.

Reads: "what did Sarah say?", "read Sarah's messages", "show my conversation with Sarah" read a thread; "inbox",
"any new messages?", "who texted me today?" list the inbox (since the start of today/yesterday/this week when
said); "what's scheduled?", "what texts are scheduled", "show my scheduled texts", "anything scheduled?" list the texts
waiting to go out; "find John", "look up Sarah Lee", "who is John Park?", "what's Sarah's number?" find contacts.

Two requests joined by "and", the second opening with text, call or send ("call John and text Sarah I'm on my way",
"text Sarah hi and call John"), are read both ways: as said whole (the text's words keep "and call John"; a call drops
what follows) and as two requests (`WriteIntent.then`, up to MAX_REQUESTS in a turn). The assistant, which sees the
contacts, takes the two when the second's recipient is found, else the whole. Not after a colon or inside quotes: the
message as dictated ("text Sarah: buy milk and call John").

Canceling a text still waiting to go out: "cancel the text to Sarah", "don't send the 7pm text to John", "cancel my
scheduled text to the Smiths", "cancel Sarah's 7pm text", "unschedule the message I scheduled for Sarah at 9am". A
time said before the noun or after the recipient names the text by its time of day, on any day ("7pm" is 19:00; a
bare "7" is read as any time phrase is, the next 7:00 or 19:00); a text named without a recipient gets an Unknown
saying to name one.

Missing information becomes an Ask ("text Sarah" carries the partial request, so the answer is the message, and so
does "tell Sarah to call me", which asks for the exact words);
anything else an Unknown with CAPABILITIES. Calls cannot be scheduled, so a call with a time gets an honest Unknown.

Several recipients at once get an honest Unknown (ONE_AT_A_TIME: Cody texts one person, or one household, per
request): "text Sarah and John ...", "text sarah and john office closed", "text Sarah, John and Mary: ...", "let
Sarah and John know ...", and without a colon "text Sarah, John, and Mary ..." when the names are capitalised.

Not handled: a cancel naming the day ("cancel tomorrow's text to Sarah" is not a cancel); rewriting third-person
messages ("tell Sarah she..." is sent as written); indirect requests ("tell Sarah to call me", "ask Sarah if...") get
an Ask for the exact words; a lowercase multiword name with no connector ("text sarah lee hi" is "sarah" with "lee
hi": the assistant, which sees the contacts, moves "lee" back to the name, assistant/service.py `_whole_name`); a text
whose words name a template without the word "template" ("text Sarah the showing confirmation for 7pm" is words here:
the assistant checks the workspace's templates, `_template_named`); a capitalised word opening the message that is
not a known opener ("text Sarah Bob says hi" is "Sarah Bob"); a lowercase list of names without a colon ("text
sarah, john and mary meeting moved" texts Sarah).
"""

import dataclasses
import re
from datetime import datetime, timedelta

from assistant.honorifics import HONORIFICS
from assistant.intents import (
    CAPABILITIES,
    SAID_NUMBER,
    Ask,
    CancelIntent,
    Intent,
    ReadIntent,
    Then,
    Unknown,
    WriteIntent,
)
from assistant.last_person import LAST_PERSON
from assistant.timephrases import PHRASE, find_time, loose_time, parse_time, wall_time

__all__ = ["plan"]

ASK_TEXT = "Who should I text, and what should I say?"
ASK_CALL = "Who should I call?"
ASK_FIND = "Who should I look up?"
ASK_TEMPLATE = "Which template should I send, and to whom?"
ASK_WHICH_TEMPLATE = "Which template should I send to {who}?"
ASK_MESSAGE = "What should I say to {who}?"
ASK_EXACT_MESSAGE = "What exactly should I say to {who}?"
ASK_WHEN = "When should I send it?"
ONE_AT_A_TIME = "I can text one person at a time; ask me once for each of them."
NO_SCHEDULED_CALLS = "I can't schedule calls; say \"call {who}\" and I'll set the call up now."
NAME_THE_TEXT = "Tell me who the text is to, e.g. \"cancel the text to Sarah\"."
MAX_REQUESTS = 4  # requests read from one turn joined by "and" ("text Sarah hi and call John")

_IS = re.I | re.S
# Words that mark a clause rather than a name (lowercased).
_CLAUSE = set("""
i i'm im i'll i've i'd me my mine we we're we'll we've us our you you're you'll your u he he's she she's it it's
its they they're them their his her him this that these those there here what when where why how who
the is are am was were be been being will would can could should shall might must have has had do does did don't
didn't can't won't isn't aren't not no yes to a an and or but if so at in on for of with about as by just please
running late see thanks thank hi hey hello ok okay sure sorry tomorrow today tonight know say tell call meet let
let's got get going coming heading need want looking almost still also all any some every reminder quick
""".split()) | {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
# Message openers: never the second word of a name found without a connector ("text Sarah Great news").
_OPENERS = {"great", "good", "happy", "welcome", "congrats", "congratulations", "love", "glad", "perfect", "done",
            "traffic", "stuck", "fyi", "btw", "new", "merry", "cheers", "nice", "awesome"}
# Words right after an opening time phrase that keep it in the message ("text Sarah tomorrow works for me").
_TIME_IN_MESSAGE = set("""
is isn't isnt 's was wasn't will won't would wouldn't should shouldn't could couldn't can can't cant might may must
works work worked working sounds sound looks look suits suit fits fit does doesn't do don't did didn't then too
instead or and at in on for with by from until till to it good fine ok okay perfect great still again as of either
right sharp vs is are also
""".split())
# Words that are also first names: a name when capitalised and first ("text Will: ..."), never a second word.
_NAMES_TOO = {"will", "may", "june", "april", "august", "bill", "mark", "hope", "grace", "joy", "faith"}
_SELF = {"me", "myself", "us", "ourselves"}

_POLITE = re.compile(r"""^(?:
    (?:hey|hi|hello|ok|okay|yo)(?:\s+cody)?\s*[,!:.-]+\s* | (?:hey|hi|hello|ok|okay|yo)\s+cody\b\s* | cody\s*[,:]\s*
  | (?:please|pls|plz|kindly|just|quickly|go\s+ahead\s+and)\s+
  | (?P<q>(?:can|could|would|will)\s+(?:you|u)|(?:can|could|may)\s+i\s+(?:get\s+you\s+to|have\s+you))\s+
  | i(?:\s+(?:want|need)|'d\s+like|\s+would\s+like)\s+(?:you\s+)?to\s+
)""", re.I | re.X)
_TRAILING_POLITE = re.compile(r"(?:[\s,]+(?:please|pls|plz|thanks|thank\s+you|thx|for\s+me|right\s+now|now|asap))?"
                              r"[\s.!?]*$", re.I)
_CONNECTOR = re.compile(r"""\s*:(?=\s|$|["“'‘])\s* | \s*,\s* | \s+[-–—]+\s+ | \s*[–—]\s*
  | \s+(?:that|saying|to\s+say|and\s+say|and\s+tell\s+(?:her|him|them)(?:\s+that)?)(?=\s|$)\s*
  | \s+(?=["“])""", re.I | re.X)
_LEADING_CONNECTOR = re.compile(r"""^\s*(?::\s*|,\s*|[-–—]+\s*
  |(?:that|saying|to\s+say|and\s+say|and\s+tell\s+(?:her|him|them)(?:\s+that)?)(?=\s|$|["“])\s*)""", re.I | re.X)
_SEND_MARK = re.compile(rf"""(?P<sep>[,;.!?(]|\s[-–—]|[–—])\s*(?:and\s+)?(?:send|schedule|deliver)
    (?:\s+(?:it|this|that|them|the\s+(?:text|message)))?(?:\s+for)?\s+(?P<time>{PHRASE})\s*\)?[\s.!]*$""",
                        re.I | re.X)
_TEXT_NOUN = r"(?:(?:quick|short|little)\s+)?(?:text\s+message|text|sms|message|msg|txt|note|line)"
_QUESTION_WORDS = {"are", "is", "am", "can", "could", "would", "will", "do", "does", "did", "what", "when", "where",
                   "who", "why", "how", "have", "has", "should", "shall", "may", "any", "want", "wanna", "which"}


def plan(text: str, now: datetime) -> Intent:
    """What one user turn asks for, parsed without a model. `now` is aware, in the user's zone."""
    return _plan(text, now, MAX_REQUESTS - 1)


def _plan(text: str, now: datetime, more: int) -> Intent:
    """`plan`, reading at most `more` further requests after "and" (`_with_second`)."""
    s, polite_question = _strip_polite(text.strip())
    if not s:
        return Unknown(CAPABILITIES)
    if (intent := _read(s, now)) is not None:
        return intent
    send_at = None
    if (found := find_time(s, now, at="start")) is not None:
        rest, question = _strip_polite(s[found.end:].lstrip(" ,;:-—–"))
        if re.match(r"(?:text|txt|sms|message|msg|send|shoot|drop|tell|let|reply|respond|ping|call|ring|phone"
                    r"|dial|give|use|schedule|ask|remind)\b", rest, re.I):
            s, send_at, polite_question = rest, found.when, polite_question or question
    intent = _command(s, now, send_at, polite_question)
    return _with_second(intent, s, now, send_at, polite_question, more) if more else intent


def _command(s: str, now: datetime, send_at: datetime | None, polite_question: bool) -> Intent:
    """The one request `s` makes: the first handler that reads it decides."""
    for handler in (_unsend, _call, _text, _template):
        if (intent := handler(s, now, send_at, polite_question)) is not None:
            return intent
    return Unknown(CAPABILITIES)


# A second request after "and": "text Sarah hi and call John", "call John and text Sarah I'm on my way".
_AND_THEN = re.compile(r"\s+and\s+(?=(?:text|call|send)\s)", re.I)


def _with_second(intent: Intent, s: str, now: datetime, send_at: datetime | None, question: bool, more: int) -> Intent:
    """A request whose words go on with "and" and another request ("... and call John") read as two as well
    (`WriteIntent.then`), when both halves are requests; not when the "and" is inside quotes or after a colon (the
    message as dictated). A send time said first is the first request's."""
    if not isinstance(intent, WriteIntent) or not (m := _AND_THEN.search(s)) or re.search(r"[:\"“”]", s[:m.start()]):
        return intent
    first, second = _command(s[:m.start()], now, send_at, question), _plan(s[m.end():], now, more - 1)
    if isinstance(first, WriteIntent) and isinstance(second, WriteIntent):
        return dataclasses.replace(intent, then=Then(first, second))
    return intent


# ----------------------------------------------------------------------------------------------------- cleaning

def _strip_polite(s: str) -> tuple[str, bool]:
    question = False
    while m := _POLITE.match(s):
        question = question or bool(m["q"])
        s = s[m.end():]
    return s.strip(), question


def _tidy(s: str) -> str:
    """A command's tail without trailing "please", "now" or punctuation (never used on a message)."""
    while (t := _TRAILING_POLITE.sub("", s)) != s:
        s = t
    return s.strip()


def _contact(who: str) -> str:
    who = re.sub(r"(?:\.{2,}|…)$", "", re.sub(r"\s+", " ", who.strip().strip("\"“”")).rstrip(",;:!?"))
    initial = re.search(r"(?<!\w)([^\W\d_])\.$", who)
    return who[:-1] if who.endswith(".") and who.lower().rstrip(".") not in HONORIFICS and not (
        initial and initial[1].isupper()) else who


def _capitalised(word: str) -> bool:
    """A word that may be a name's: a capital letter in any alphabet ("Sarah", "Émile", "Łukasz"), then word
    characters, apostrophes, dots or hyphens."""
    return bool(re.fullmatch(r"[^\W\d_][\w'’.-]*", word)) and word[0].isupper()


def _lowercase(word: str) -> bool:
    return bool(re.fullmatch(r"[^\W\d_][\w'’-]*", word)) and word[0].islower()


def _message(msg: str, polite_question: bool) -> str:
    msg = msg.strip()
    if len(msg) >= 2 and (msg[0], msg[-1]) in {('"', '"'), ("“", "”"), ("'", "'"), ("‘", "’")}:
        msg = msg[1:-1].strip()
    first = re.match(r"[\w']+", msg)
    if polite_question and msg.endswith("?") and not (first and first[0].lower() in _QUESTION_WORDS):
        msg = msg[:-1].rstrip()  # "can you text Sarah I'm late?": the question mark was the request's
    return msg


def _looks_like_name(who: str, loose: bool = True) -> bool:
    """Could `who` (left of a connector) be a recipient rather than the start of a sentence?

    A capitalised name stays capitalised up to "from" ("Sarah Lee", not "Sarah sounds good"); a lowercase
    one may have several words only when `loose` (after ":" or "that", not after a comma).
    """
    who = re.sub(r"\s+back$", "", who.strip(), flags=re.I)
    if SAID_NUMBER.fullmatch(who):  # "send 415-555-0143 the showing confirmation"
        return True
    parts = re.split(r"\s+from\s+", who, maxsplit=1, flags=re.I)
    words = [w for part in parts for w in part.split()]
    if not parts[0] or any(not p.strip() for p in parts) or not 1 <= len(words) <= 5 or re.search(r"[\"“”:]", who):
        return False
    if words[0].lower() == "the" and len(words) > 1:
        words = words[1:]
    if not all((w.lower().rstrip(".,") not in _CLAUSE or (i == 0 and w[0].isupper() and w.lower() in _NAMES_TOO))
               and re.search(r"[^\W\d_]", w) for i, w in enumerate(words)):
        return False
    names = [w for w in parts[0].split() if w.lower().rstrip(".") not in HONORIFICS | {"the"}]
    if names and names[0][0].isupper():
        return all(w[0].isupper() for w in names)
    return loose or len(words) == 1


_TIMED = re.compile(rf"(?:{PHRASE})(?!\w)", re.I)  # a time phrase ("Dec 3 at 2pm") is never a name's second word


def _leading_name(rest: str) -> tuple[str | None, str]:
    """Rule 2 of the module docstring: (recipient, message) with no connector."""
    tokens = list(re.finditer(r"\S+", rest))
    words = [t[0].rstrip(",;:!?") for t in tokens]

    def name(i: int, first: bool = False) -> bool:
        w = words[i].lower() if i < len(words) else ""
        if not w or not _capitalised(words[i]):
            return False
        if first:
            return w in _NAMES_TOO or w not in _CLAUSE
        return w not in _CLAUSE | _OPENERS | _NAMES_TOO and not _TIMED.match(rest, tokens[i].start())

    n = 0
    if not words:
        return None, ""
    if number := re.match(rf"{SAID_NUMBER.pattern}(?=$|[\s,:])", rest):  # "text 415-555-0143 hi"
        return number[0], rest[number.end():].lstrip(" ,;:")
    if words[0].lower() == "the" and len(words) > 1 and words[1].lower() not in _CLAUSE:
        n = 3 if len(words) > 2 and words[2].lower() in ("family", "household", "team") else 2
    else:
        i = 1 if words[0].lower().rstrip(".") in HONORIFICS and len(words) > 1 else 0
        if name(i, first=True):
            n = i + 1 + name(i + 1)
            if n + 1 < len(words) and words[n].lower() == "from" and name(n + 1):
                n += 2 + name(n + 2)
        elif _lowercase(words[i]) and words[i] not in _CLAUSE:
            n = i + 1  # "sarah", "dr patel"
    if n == 0:
        return None, rest
    return _contact(rest[:tokens[n - 1].end()]), rest[tokens[n - 1].end():].lstrip(" ,;:")


def _split_recipient(rest: str, now: datetime) -> tuple[str | None, datetime | None, str]:
    """(recipient, send time between recipient and connector, message) for "text <rest>"."""
    if last := LAST_PERSON.match(rest):  # "the last person who texted me: on my way" (assistant/last_person.py)
        when, message = _time_slot(re.sub(r"^(?:\s+back\b)?[\s,;:–—-]*", "", rest[last.end():]), now)
        return last[0], when, message
    if phone := _AT_THEIR_PHONE.match(rest):  # "Sarah's cell: hi" is "Sarah: hi"
        rest = phone["who"] + rest[phone.end():]
    for m in _CONNECTOR.finditer(rest):
        who, when = rest[:m.start()], None
        if (found := find_time(who, now, at="end")) is not None and found.start > 0:
            who, when = re.sub(r"\s+for$", "", who[:found.start].rstrip(" ,"), flags=re.I), found.when
        if _looks_like_name(who, loose=bool(re.search(r"[:\w]", m[0]))):
            return _contact(re.sub(r"\s+back$", "", who, flags=re.I)), when, rest[m.end():]
    who, message = _leading_name(rest)
    when, message = _time_slot(message, now)
    return who, when, message


def _time_slot(tail: str, now: datetime) -> tuple[datetime | None, str]:
    """A time phrase right after the recipient is the send time when nothing or a connector follows it ("text Sarah
    at 9: hi"); one opening the message is the send time ("text Sarah tomorrow at 9 the code is 4512") unless the
    words after it make it part of a sentence ("tomorrow works for me", "at 5 or 6?"), it is a loose time ("in 10
    minutes I'll be there", "at 5 I'll meet you", "next week let's catch up"; `loose_time`) or it has passed."""
    if (found := find_time(tail, now, at="start")) is not None:
        after = tail[found.end:]
        if not after.strip(" .!"):
            return found.when, ""
        if c := _LEADING_CONNECTOR.match(after):
            return found.when, after[c.end():]
        word = re.match(r"\s+([^\W\d_][\w'’]*)", after)
        if (word and word[1].lower() not in _TIME_IN_MESSAGE and found.when > now
                and not loose_time(tail[found.start:found.end])):
            return found.when, after.lstrip()
    if c := _LEADING_CONNECTOR.match(tail):
        return None, tail[c.end():]
    return None, tail


def opening_time(message: str, now: datetime) -> tuple[datetime | None, str]:
    """(send time, message) for a message whose opening words may be the send time, as right after a recipient: for
    the assistant, once it has moved the rest of a name out of the message ("lee tomorrow at 9 hi")."""
    when, rest = _time_slot(message, now)
    return when, _message(rest, False)


def could_be_name(word: str) -> bool:
    """May this word of a request be a name's, rather than a pronoun, function word or common message opener?"""
    w = word.lower()
    return bool(re.fullmatch(r"[^\W\d_][\w'’.-]*", word)) and w not in _CLAUSE | _OPENERS | _NAMES_TOO


def template_request(message: str, now: datetime) -> tuple[str, str | None] | None:
    """(template name, raw value) when a text's words could name a template: "the showing confirmation for 7pm" ->
    ("showing confirmation", "7pm"). Whether a template of the workspace has that name is the caller's to check."""
    if not (m := re.fullmatch(r"(?:the|my|our)\s+(?P<t>\S.*?)[\s.!]*", message, _IS)):
        return None
    name, value = _name_and_value(m["t"], now)
    return (name, value) if name and len((value or "").split()) <= 4 else None


def _send_mark(s: str, now: datetime) -> tuple[str, datetime | None]:
    """Drop a trailing ", send it tomorrow at 9" and return its time."""
    if (m := _SEND_MARK.search(s)) and (when := parse_time(m["time"], now)):
        keep = m["sep"] if m["sep"] in ".!?" else ""
        return s[:m.start()].rstrip() + keep, when
    return s, None


# ------------------------------------------------------------------------------------------------------ reads

_INBOX = re.compile(r"""^(?:
    (?:(?:show|check|open|list|read|view|see|get|display|pull\s+up|go\s+to|bring\s+up)(?:\s+me)?(?:\s+(?:my|the))?\s+)?
        (?:inbox|unread(?:\s+(?:messages|texts))?|(?:new|latest|recent|unread)\s+(?:messages|texts)|messages|texts
         |missed\s+calls|voicemails?)
  | (?:what(?:'s|\s+is)|(?:is\s+there\s+)?anything)\s+in\s+(?:my|the)\s+inbox
  | (?:do\s+i\s+have\s+|are\s+there\s+|got\s+)?any(?:thing)?\s+(?:new|unread)
        (?:\s+(?:messages|texts|calls|voicemails?))?
  | (?:do\s+i\s+have\s+)?any\s+(?:messages|texts|missed\s+calls|voicemails?)
  | what(?:'s|\s+is)\s+new | what\s+did\s+i\s+miss
  | who(?:'s|\s+has)?\s+(?:texted|messaged|called|phoned|written|contacted|tried\s+to\s+reach)(?:\s+me)?
  | who(?:'s|\s+is)\s+(?:been\s+)?(?:texting|calling|messaging)(?:\s+me)?
)(?:\s+(?P<when>today|yesterday|since\s+yesterday|this\s+week))?$""", re.I | re.X)
_VERB_SHOW = r"(?:show|open|read|view|see|get|pull\s+up|bring\s+up|display|check)(?:\s+me)?"
_POSSESSIVE = r"(?:'s|’s|'|’)"
_PHONE_NOUN = r"(?:cell|mobile|phone|number|office|landline|work\s+phone)(?:\s+(?:phone|number))?"
# "Sarah's cell", "the Smiths' number" opening a request: the recipient, said with the phone to use.
_AT_THEIR_PHONE = re.compile(rf"(?P<who>(?:the\s+)?[^\s,:]+(?:\s+[^\s,:]+)?){_POSSESSIVE}\s+{_PHONE_NOUN}"
                             r"(?=[\s,:;.!?–—-]|$)", re.I)
_THREAD = [re.compile(p, _IS) for p in (
    r"what\s+(?:did|has|have)\s+(?P<c>.+?)\s+(?:say|said|send|sent|text|texted|write|written|reply|replied|want"
    r"|wanted|ask|asked)(?:\s+(?:me|to\s+me|back|us))?(?:\s+(?:today|yesterday|last(?:\s+time)?|lately|recently))?",
    r"what(?:'s|\s+is)\s+(?P<c>.+?)\s+saying",
    r"(?:did|has|have)\s+(?P<c>.+?)\s+(?:reply|replied|respond|responded|text(?:ed)?\s+(?:me\s+)?back|written\s+back"
    r"|write\s+back|get\s+back\s+to\s+me|gotten\s+back\s+to\s+me|answer|answered)(?:\s+(?:yet|to\s+me))?",
    rf"{_VERB_SHOW}(?:\s+(?:my|the|our))?\s+(?:last\s+|latest\s+|recent\s+)?(?:conversation|thread|chat|messages"
    r"|texts|history|text\s+history|message\s+history)\s+(?:with|from)\s+(?P<c>.+)",
    rf"{_VERB_SHOW}\s+(?P<c>.+?){_POSSESSIVE}\s+(?:last\s+|latest\s+|recent\s+)?(?:conversation|thread|chat|messages?"
    r"|texts?|history|replies|reply)",
    r"(?:any\s+)?(?:new\s+)?(?:messages|texts|replies)\s+from\s+(?P<c>.+)",
    r"any(?:thing)?\s+(?:new\s+)?from\s+(?P<c>.+)",
    r"tell\s+me\s+what\s+(?P<c>.+?)\s+(?:said|says|texted|wrote|replied|sent)",
    r"(?:my\s+)?(?:conversation|thread|chat)\s+with\s+(?P<c>.+)",
    rf"what\s+was\s+(?P<c>.+?){_POSSESSIVE}\s+last\s+(?:message|text)",
)]
_FIND = [re.compile(p, _IS) for p in (
    rf"(?:what(?:'s|\s+is)|get(?:\s+me)?|give\s+me|show(?:\s+me)?|find|look\s*up|pull\s+up)\s+(?P<c>.+?){_POSSESSIVE}"
    r"\s+(?:phone(?:\s+number)?|number|cell|mobile|email|contact(?:\s+(?:info|details|card))?|address|info|details)",
    r"(?:what(?:'s|\s+is)\s+the\s+)?(?:phone\s+)?number\s+(?:of|for)\s+(?P<c>.+)",
    r"(?:find|show(?:\s+me)?|list)\s+(?:all\s+)?(?:contacts?|leads?|people)\s+(?:at|from)\s+(?P<c>.+)",
    r"who\s+(?:works\s+(?:at|for)|is\s+from)\s+(?P<c>.+)",
    r"(?:find|look\s*up|search(?:\s+for)?|look\s+for|show(?:\s+me)?\s+(?:the\s+)?contact(?:\s+(?:for|info\s+for))?)"
    r"(?:\s+(?:the\s+)?(?:contacts?|leads?)(?:\s+(?:named|called|for))?)?\s+(?P<c>.+)",
    r"who(?:'s|\s+is|\s+are)\s+(?P<c>.+)",
)]


_TEXTS = r"(?:texts?|messages?|msgs?|sms|txts?)"
_AWAITED = r"(?:scheduled|queued|pending|upcoming|waiting(?:\s+to\s+(?:go\s+out|be\s+sent))?|going\s+out)"
_SCHEDULED = re.compile(rf"""(?:
    what(?:'s|’s|s|\s+is)\s+(?:{_AWAITED}|(?:been\s+)?scheduled)
  | (?:what|which)\s+{_TEXTS}\s+(?:are|do\s+i\s+have|have\s+i(?:\s+got)?)\s+{_AWAITED}
  | what\s+(?:do\s+i\s+have|have\s+i(?:\s+got)?)\s+scheduled | what\s+did\s+i\s+schedule
  | (?:(?:show|list|check|view|see|get|display|read|pull\s+up|bring\s+up)(?:\s+me)?\s+)?(?:all\s+)?(?:(?:my|the|our)\s+)?
        {_AWAITED}\s+{_TEXTS}
  | (?:(?:do\s+i\s+have|are\s+there|is\s+there|have\s+i\s+got)\s+)?any(?:thing)?\s+
        (?:{_AWAITED}(?:\s+{_TEXTS})?|{_TEXTS}\s+{_AWAITED})
)""", _IS | re.X)


def _read(s: str, now: datetime) -> Intent | None:
    q = _tidy(s)
    if _SCHEDULED.fullmatch(q):
        return ReadIntent("list_scheduled")
    if m := _INBOX.fullmatch(q):
        return ReadIntent("list_inbox", since=_since(m["when"], now))
    for pattern in _THREAD:
        if (m := pattern.fullmatch(q)) and _contact(m["c"]).lower() not in _SELF | {"i"}:
            return ReadIntent("read_thread", query=_contact(re.sub(rf"{_POSSESSIVE}$", "", m["c"])))
    for pattern in _FIND:
        if (m := pattern.fullmatch(q)) and _contact(m["c"]).lower() not in _SELF | {"i"}:
            return ReadIntent("find_contacts", query=_contact(m["c"]))
    if re.fullmatch(r"(?:find|look\s*up|search(?:\s+for)?|look\s+for)(?:\s+(?:a\s+)?contacts?)?", q, re.I):
        return Ask(ASK_FIND)
    return None


def _since(when: str | None, now: datetime) -> datetime | None:
    if not when:
        return None
    today = now.date()
    start = {"today": today, "this week": today - timedelta(days=today.weekday())}.get(
        re.sub(r"\s+", " ", when.lower()), today - timedelta(days=1))
    return wall_time(start, 0, 0, now.tzinfo)


# ---------------------------------------------------------------------------------------------------- cancels

_UNSEND_VERB = (r"(?:cancel|unschedule|un-schedule|call\s+off|scrap|stop|hold|don['’]?t\s+send|do\s+not\s+send"
                r"|no\s+need\s+to\s+send)")
_WAITING = r"(?:(?:scheduled|pending|queued|upcoming|planned)\s+)"
_UNSEND = re.compile(rf"""{_UNSEND_VERB}\s+(?:(?:the|my|our|that|this)\s+)?(?:(?P<when>{PHRASE})\s+)?{_WAITING}?
    (?:(?P<when2>{PHRASE})\s+)?{_TEXT_NOUN}s?(?:\s+(?:(?:i|we)\s+)?(?:scheduled|set\s+up|queued))?
    (?:\s+(?:to|for)\s+(?P<c>.+))?""", _IS | re.X)
_UNSEND_WHOSE = re.compile(rf"{_UNSEND_VERB}\s+(?P<c>.+?){_POSSESSIVE}\s+(?:(?P<when>{PHRASE})\s+)?{_WAITING}?"
                           rf"(?:(?P<when2>{PHRASE})\s+)?{_TEXT_NOUN}s?", _IS)


def _unsend(s: str, now: datetime, _send_at: datetime | None, _q: bool) -> Intent | None:
    s = _tidy(s)
    if not (m := _UNSEND.fullmatch(s) or _UNSEND_WHOSE.fullmatch(s)):
        return None
    if not m["c"]:
        return Unknown(NAME_THE_TEXT)
    who, said = m["c"], m["when"] or m["when2"]
    at = parse_time(said, now) if said else None
    if (found := find_time(who, now, at="end")) is not None and found.start > 0:
        who, at = re.sub(r"\s+for$", "", who[:found.start].rstrip(" ,"), flags=re.I), at or found.when
    who = _contact(who)
    if not _looks_like_name(who) or who.lower() in _SELF:
        return None
    return CancelIntent(who, at.time().replace(second=0, microsecond=0) if at else None)


# ------------------------------------------------------------------------------------------------------ calls

_CALL = re.compile(r"(?:call|ring|phone|dial|facetime)(?:\s+(?:up|back))?(?:\s+(?P<c>.+))?", _IS)
_GIVE_CALL = re.compile(r"(?:give|get)\s+(?P<c>.+?)\s+(?:a\s+(?:call|ring|buzz)|on\s+the\s+(?:phone|line))(?P<tail>.*)",
                        _IS)


def _call(s: str, now: datetime, send_at: datetime | None, _q: bool) -> Intent | None:
    s = _tidy(s)
    if not (m := _CALL.fullmatch(s) or _GIVE_CALL.fullmatch(s)):
        return None
    if not m["c"]:
        return Ask(ASK_CALL)
    who = re.sub(r"\s+(?:about|regarding|re|to\s+(?:discuss|talk|ask|tell|confirm|check|follow)|and)\b.*$", "",
                 m["c"], flags=re.I)
    who = re.sub(rf"{_POSSESSIVE}\s+{_PHONE_NOUN}$", "", who, flags=re.I)
    who = re.sub(r"\s+(?:back|up)$", "", who, flags=re.I)
    if (found := find_time(who, now, at="end")) is not None and found.start > 0:
        who, send_at = who[:found.start], found.when
    who = _contact(who)
    if not who or who.lower() in _SELF:
        return Unknown(CAPABILITIES)
    if send_at is not None:
        return Unknown(NO_SCHEDULED_CALLS.format(who=who))
    return WriteIntent("call_contact", contact=who)


# -------------------------------------------------------------------------------------------------- templates

_DET = r"(?:the|my|our|a|an)"
_TPL_TO = re.compile(rf"send\s+{_DET}\s+(?P<t>.+?)\s+to\s+(?P<x>.+)", _IS)
_TPL_X = re.compile(rf"send\s+(?P<x>.+?)\s+{_DET}\s+(?P<t>.+)", _IS)
_TPL_USE = re.compile(r"use\s+(?:(?:the|my|our)\s+)?(?P<body>.+)", _IS)
_TEXT_WORD = re.compile(rf"(?:{_TEXT_NOUN}|template)\b", re.I)


def _template(s: str, now: datetime, send_at: datetime | None, _q: bool) -> Intent | None:
    s, marked = _send_mark(s, now)
    send_at = send_at or marked
    s = _tidy(s)
    if m := re.fullmatch(rf"send\s+(?P<x>.+?)\s+(?:{_DET}(?:\s+template)?|a\s+template|the\s+template)", s, _IS):
        return _ask_about(ASK_WHICH_TEMPLATE, _contact(m["x"])) if _looks_like_name(m["x"]) else None
    if re.fullmatch(r"send(?:\s+(?:a|the)\s+template)?|use\s+(?:a\s+|the\s+)?template", s, _IS):
        return Ask(ASK_TEMPLATE)
    if (m := _TPL_TO.fullmatch(s)) and not _TEXT_WORD.match(m["t"]):
        who, value = _contact_and_value(m["x"])
        name, value2 = _name_and_value(m["t"], now)
        if who and _looks_like_name(who):
            return _tpl(who, name, value or value2, send_at)
    if (m := _TPL_X.fullmatch(s)) and _looks_like_name(m["x"]) and not _TEXT_WORD.match(m["t"]):
        name, value = _name_and_value(m["t"], now)
        return _tpl(_contact(m["x"]), name, value, send_at)
    if ((m := re.fullmatch(r"send\s+(?:the|my|our)\s+(?P<t>.+)", s, _IS)) and not _TEXT_WORD.match(m["t"])
            and not re.search(rf"\s(?:{_DET}|and)\s", m["t"], _IS)):  # not "send the Smiths and the Lees ..."
        return Ask(f"Who should I send the {_name_and_value(m['t'], now)[0]} to?")
    if m := _TPL_USE.fullmatch(s):
        body = m["body"]
        if t := re.fullmatch(r"(?P<t>.+?)\s+template(?:\s+(?:for|with|on|to)\s+(?P<x>.+))?", body, _IS):
            name, rest = t["t"], t["x"]
        elif t := re.fullmatch(r"(?P<t>.+?)\s+(?:for|with|on|to)\s+(?P<x>.+)", body, _IS):
            name, rest = t["t"], t["x"]
        else:
            return None
        if not rest:
            return Ask(f"Who should I send the {name} to?")
        who, value = _contact_and_value(rest)
        if who and _looks_like_name(who):
            return _tpl(who, _name_and_value(name, now)[0], value, send_at)
    if (m := re.fullmatch(r"send\s+(?P<x>.+)", s, _IS)) and _looks_like_name(m["x"]) and m["x"].lower() not in _SELF:
        return _ask_about("What should I send to {who}?", _contact(m["x"]))
    return None


def _tpl(who: str, name: str, value: str | None, send_at: datetime | None) -> Intent:
    if who.lower() in _SELF:
        return Unknown(CAPABILITIES)
    if not name:
        return _ask_about(ASK_WHICH_TEMPLATE, who)
    return WriteIntent("send_template", contact=who, template=name, template_value=value or None, send_at=send_at)


def _contact_and_value(s: str) -> tuple[str, str | None]:
    """"John for 7pm" -> ("John", "7pm")."""
    m = re.fullmatch(r"(?P<who>.+?)(?:\s+(?:for|at|with)\s+|\s*[,:]\s*)(?P<value>.+)", s, _IS)
    return (_contact(m["who"]), m["value"].strip()) if m else (_contact(s), None)


def _name_and_value(t: str, now: datetime) -> tuple[str, str | None]:
    """"showing confirmation for 7pm" -> ("showing confirmation", "7pm"); "running late template" -> ("running late",
    None)."""
    t = re.sub(r"^(?:the|my|our|a|an)\s+", "", t.strip(), flags=re.I)
    if m := (re.fullmatch(r"(?P<name>.+?)\s+template\b(?P<rest>.*)", t, _IS)
             or re.fullmatch(r"(?P<name>.+?)\s+(?:message|text)\b(?P<rest>.*)", t, _IS)):
        name, value = m["name"], m["rest"]
    else:  # the name ends at the first "for"/"at"/"with"/","/":" or at a time phrase that ends the request
        cut = m.start() if (m := re.search(r"\s+(?:for|at|with)\s+|\s*[,:]\s*", t, _IS)) else len(t)
        if (found := find_time(t, now, at="end")) is not None and 0 < found.start < cut:
            cut = found.start
        name, value = t[:cut], t[cut:]
    value = re.sub(r"^(?:\s*(?:for|at|with|[,:=-])\s*)+", "", value.strip(), flags=re.I).strip()
    return name.strip(), value or None


# ------------------------------------------------------------------------------------------------------ texts

_SEND_VERB = r"(?:send|shoot|fire\s+off|drop|write)"
_SEND_A_TEXT = re.compile(rf"{_SEND_VERB}\s+(?:a|an)\s+{_TEXT_NOUN}(?:\s+(?:to|for)\s+(?P<rest>.+))?", _IS)
_SEND_X_A_TEXT = re.compile(rf"{_SEND_VERB}\s+(?P<x>.+?)\s+(?:a|an)\s+{_TEXT_NOUN}\b(?P<tail>.*)", _IS)
_SCHEDULE = re.compile(rf"schedule\s+(?:a|an)\s+{_TEXT_NOUN}(?P<rest>.*)", _IS)
_LET_KNOW = re.compile(r"let\s+(?P<x>.+?)\s+know\b(?P<tail>.*)", _IS)
_VERB = re.compile(r"(?:(?P<text>(?:text|txt|sms|message|msg|ping)(?:\s+back)?)|(?P<tell>tell|inform)"
                   r"|(?P<reply>(?:reply|respond|write\s+back|answer)(?:\s+back)?(?:\s+to)?)|(?P<ask>ask|remind))"
                   r"(?:\s+(?P<rest>.+))?", _IS)


def _text(s: str, now: datetime, send_at: datetime | None, question: bool) -> Intent | None:
    s, marked = _send_mark(s, now)
    send_at = send_at or marked
    schedule = False
    if m := _SCHEDULE.fullmatch(s):
        schedule, rest = True, m["rest"].strip()
        if (found := find_time(re.sub(r"^for\s+", "", rest, flags=re.I), now, at="start")) is not None:
            send_at = send_at or found.when
            rest = re.sub(r"^for\s+", "", rest, flags=re.I)[found.end:].strip()
        rest = re.sub(r"^(?:to|for)\s+", "", rest, flags=re.I)
        if not rest:
            return Ask(ASK_TEXT)
        who, when, msg = _split_recipient(rest, now)
    elif m := _SEND_A_TEXT.fullmatch(s):
        if not (rest := m["rest"]):
            return Ask(ASK_TEXT)
        who, when, msg = _split_recipient(rest, now)
    elif (m := _SEND_X_A_TEXT.fullmatch(s) or _LET_KNOW.fullmatch(s)) and (
            _looks_like_name(m["x"]) or _PRONOUN.fullmatch(m["x"])):
        who, rest = _contact(m["x"]), ""
        when, msg = _time_slot(m["tail"], now)
    elif m and _names_list(m["x"]):  # "let Sarah and John know ..."
        return Unknown(ONE_AT_A_TIME)
    elif m := _VERB.fullmatch(s):
        if not m["rest"] or not m["rest"].strip(" .!?"):
            return Ask(ASK_TEXT)
        rest = re.sub(r"^(?:to|back\s+to)\s+", "", m["rest"], flags=re.I) if m["text"] else m["rest"]
        if re.match(r"(?:me|myself|us)\b", rest, re.I):
            return Unknown(CAPABILITIES)
        if m["ask"]:
            return _ask_or_remind(rest, now, send_at, question)
        if pronoun := _PRONOUN.match(rest):  # "text her I'm outside": the assistant knows whom
            who, rest = pronoun[1].lower(), ""
            when, msg = _time_slot(_rest_of(pronoun), now)
        else:
            who, when, msg = _split_recipient(rest, now)
    else:
        return None
    if not who:
        return Ask(ASK_TEXT)
    if who.lower() in _SELF:
        return Unknown(CAPABILITIES)
    if _several(rest, msg):
        return Unknown(ONE_AT_A_TIME)
    send_at = send_at or when
    if schedule and send_at is None and (found := find_time(msg, now, at="end")) is not None and found.start > 0:
        msg, send_at = msg[:found.start].rstrip(" ,"), found.when
    msg = _message(msg, question)
    if tpl := re.fullmatch(r"(?:the|my|our)\s+(?P<t>.+?\s+template\b.*)", msg, _IS):
        name, value = _name_and_value(tpl["t"], now)
        return _tpl(who, name, value, send_at)
    if not msg:
        return _ask_message(ASK_MESSAGE, who, send_at)
    if re.match(r"(?:to|if|whether|about(?!\s+to\b)|regarding)\b", msg, re.I):
        return _ask_message(ASK_EXACT_MESSAGE, who, send_at)  # "tell Sarah to call me": no rewriting
    if schedule and send_at is None:
        return Ask(ASK_WHEN, partial=WriteIntent("send_sms", contact=who, text=msg), needs="send_at")
    return WriteIntent("send_sms", contact=who, text=msg, send_at=send_at)


# "her", "him" or "them" as the recipient: the person the conversation is about (assistant/service.py `_about`).
_PRONOUN = re.compile(r"(her|him|them)(?:\s+back)?(?=$|[\s,:;.!?–—-])", re.I)


def _rest_of(m: re.Match) -> str:
    """What follows a match, without the connector after it."""
    return re.sub(r"^[\s,:;–—-]*", "", m.string[m.end():])


def _ask_or_remind(rest: str, now: datetime, send_at: datetime | None, question: bool) -> Intent:
    """"ask Sarah: are you free?" is a text; "ask Sarah if she's free" would need rewriting, so Cody asks. A send time
    after the name is kept either way ("remind Sarah tomorrow at 10 about the walkthrough")."""
    if m := re.fullmatch(r"(?P<who>.+?)(?:\s*:\s+|\s+(?=[\"“]))(?P<msg>.+)", rest, _IS):
        who, when = m["who"], None
        if (found := find_time(who, now, at="end")) is not None and found.start > 0:
            who, when = who[:found.start].rstrip(" ,"), found.when
        if _looks_like_name(who) and (msg := _message(m["msg"], question)):
            return WriteIntent("send_sms", contact=_contact(who), text=msg, send_at=send_at or when)
    who, tail = _leading_name(rest)
    when, _ = _time_slot(tail, now)
    return _ask_message(ASK_EXACT_MESSAGE, who, send_at or when) if who else Ask(ASK_TEXT)


def _several(rest: str, msg: str) -> bool:
    """Does the request name more than one recipient? "Sarah and John: hi", "sarah and john office closed", "Sarah,
    John and Mary: meeting moved", "Sarah, John, and Mary meeting moved" (without a colon, capitalised names)."""
    if other := re.match(r"(?:and|&)\s+(?:the\s+)?([^\W\d_][\w'’.-]*)", msg, re.I):
        return other[1][0].isupper() or other[1].lower().rstrip(".") not in _CLAUSE | _OPENERS
    head = re.split(r"\s*:(?=\s|$)|\s+[-–—]+\s", rest, maxsplit=1)
    if len(head) > 1 and _names_list(head[0]):
        return True
    name = r"(?:the\s+)?\w[\w'’.-]*"
    listed = re.match(rf"{name}(?:\s*,\s*{name})+,?\s+(?:and|&)\s+{name}", rest, re.I)
    return bool(listed) and all(_capitalised(w) and w.lower() not in _CLAUSE | _OPENERS
                                for w in re.findall(r"[\w'’.-]+", listed[0]) if w.lower() not in ("the", "and"))


def _names_list(s: str) -> bool:
    """"Sarah, John and Mary", "the Smiths and the Lees": two or more names in a list ending with "and" (so "Sarah
    Lee, the lockbox" is a name and a message)."""
    parts = re.split(r"\s*,\s*(?:(?:and|&)\s+)?|\s+(?:and|&)\s+", s.strip(), flags=re.I)
    return (len(parts) > 1 and bool(re.search(r"\s(?:and|&)\s", s, re.I))
            and all(_looks_like_name(p) for p in parts))


def _ask_message(question: str, who: str, send_at: datetime | None) -> Ask:
    """Ask for the words; the request goes with the question, so the answer is the message."""
    return Ask(question.format(who=who), partial=WriteIntent("send_sms", contact=who, send_at=send_at), who=who)


def _ask_about(question: str, who: str) -> Ask:
    """A question naming the recipient as said ("Which template should I send to {who}?")."""
    return Ask(question.format(who=who), who=who)
