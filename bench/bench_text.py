"""Text figures: SMS segment counting over a mixed-script corpus, phone normalisation over mixed countries."""

import random
import re

import phonenumbers
from phonenumbers import PhoneNumberFormat

from bench.harness import Figure, median_of, rate
from tools.phones import normalise
from tools.segments import count_segments

NAMES = ["Ana", "Bob", "Chloé", "Dmitri", "Eve", "Farid", "Günter", "Hana", "Iñigo", "José"]
ENGLISH = [
    "Hi {name}, your viewing at 14 Elm St is confirmed for {day} at {time}.",
    "Reminder: rent of $1,250 is due on {day}. Reply STOP to opt out.",
    "Thanks {name}! The offer was sent; expect an answer by {day} [ref #{num}].",
    "Can we move the call to {time}? Price is now €{num} {{incl. fees}}.",
]
SPANISH = [
    "Hola {name}, ¿podemos vernos mañana a las {time}? Año nuevo, casa nueva.",
    "Su cita del {day} está confirmada. Gracias por elegirnos, señor {name}.",
    "El niño llegó a la reunión; la próxima visita será el {day} a las {time}.",
]
GREEK = [
    "Γεια σου {name}, το ραντεβού σας είναι την {day} στις {time}.",
    "Ευχαριστούμε! Η προσφορά στάλθηκε, απάντηση μέχρι {day}.",
]
CHINESE = [
    "您好{name}，您在{day}{time}的看房预约已确认。",
    "谢谢！报价已发送，我们会在{day}之前回复您，编号{num}。",
]
EMOJI = [
    "Great news {name} 🎉 the offer was accepted 👍🏽",
    "See you {day} at {time} 🏡🔑 👨‍👩‍👧‍👦 🇺🇸",
    "Happy move-in day! 🏳️‍🌈✨ Call me at {time} 📞",
]
DAYS = ["Monday", "Tuesday", "lunes", "martes", "Δευτέρα", "周一", "Friday"]
TIMES = ["9:30", "10:00", "14:15", "5pm", "17:45"]

# A message of one kind is picked with these weights; "long" joins several templates of one language.
KINDS = [(ENGLISH, 40), (SPANISH, 15), (GREEK, 10), (CHINESE, 10), (EMOJI, 10), (None, 15)]

# National significant number prefixes and lengths per region; random digits complete them.
PHONE_PLANS = {
    "US": [("212", 10), ("415", 10), ("312", 10), ("617", 10), ("305", 10), ("713", 10)],
    "CA": [("416", 10), ("604", 10), ("514", 10), ("403", 10)],
    "PR": [("787", 10), ("939", 10)],
    "JM": [("876", 10)],
    "GB": [("74", 10), ("79", 10), ("20", 10), ("121", 10)],
    "DE": [("151", 11), ("176", 11), ("30", 10), ("89", 10)],
    "AU": [("4", 9), ("2", 9), ("3", 9)],
    "FR": [("6", 9), ("7", 9), ("1", 9)],
}


def _message(rng: random.Random, templates: list[str]) -> str:
    template = rng.choice(templates)
    return template.format(
        name=rng.choice(NAMES), day=rng.choice(DAYS), time=rng.choice(TIMES), num=rng.randint(10, 99999)
    )


def text_corpus(n: int, seed: int = 1) -> list[str]:
    """Deterministic mix of SMS bodies in several scripts, a sixth of them long enough to concatenate."""
    rng = random.Random(seed)
    kinds, weights = zip(*KINDS, strict=True)
    corpus = []
    for kind in rng.choices(kinds, weights, k=n):
        if kind is None:
            language = rng.choice([ENGLISH, SPANISH, GREEK, CHINESE, EMOJI])
            corpus.append(" ".join(_message(rng, language) for _ in range(rng.randint(3, 9))))
        else:
            corpus.append(_message(rng, kind))
    return corpus


def _valid_number(rng: random.Random, region: str) -> phonenumbers.PhoneNumber:
    code = phonenumbers.country_code_for_region(region)
    while True:
        prefix, length = rng.choice(PHONE_PLANS[region])
        national = prefix + "".join(rng.choices("0123456789", k=length - len(prefix)))
        number = phonenumbers.parse(f"+{code}{national}", None)
        if phonenumbers.is_valid_number(number) and phonenumbers.region_code_for_number(number) == region:
            return number


def _written(rng: random.Random, number: phonenumbers.PhoneNumber, region: str) -> tuple[str, str]:
    """One way a person or a CRM writes the number, with the default region it is read in."""
    national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    style = rng.randrange(7)
    if style == 0:
        return phonenumbers.format_number(number, PhoneNumberFormat.E164), region
    if style == 1:
        return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL), region
    if style == 2:
        return phonenumbers.format_number(number, PhoneNumberFormat.RFC3966), region
    if style == 3:
        return phonenumbers.format_out_of_country_calling_number(number, "US"), "US"
    if style == 4:
        return re.sub(r"\D", "", national), region
    if style == 5:
        return re.sub(r"\D+", ".", national).strip("."), region
    return f" {national} ", region


def phone_corpus(n: int, seed: int = 2) -> list[tuple[str, str]]:
    """Deterministic (raw, default region) pairs: valid numbers of eight regions in varied formats."""
    rng = random.Random(seed)
    regions = sorted(PHONE_PLANS)
    corpus = []
    for _ in range(n):
        region = rng.choice(regions)
        corpus.append(_written(rng, _valid_number(rng, region), region))
    return corpus


def _segments(corpus: list[str]) -> None:
    for text in corpus:
        count_segments(text)


def _utf16_len(corpus: list[str]) -> None:
    for text in corpus:
        len(text.encode("utf-16-le"))


def _normalise(corpus: list[tuple[str, str]]) -> None:
    for raw, region in corpus:
        normalise(raw, region)


def _parse_format(corpus: list[tuple[str, str]]) -> None:
    for raw, region in corpus:
        phonenumbers.format_number(phonenumbers.parse(raw, region), PhoneNumberFormat.E164)


REPEATS_INSIDE = True  # each figure is already the median of several timed passes: `python -m bench` runs it once


def run(quick: bool) -> list[Figure]:
    n = 2_000 if quick else 50_000
    runs = 3 if quick else 5
    texts = text_corpus(n)
    phones = phone_corpus(n)
    counted = [count_segments(text) for text in texts]
    ucs2 = sum(s.encoding == "UCS-2" for s in counted) / n
    multi = sum(s.segments > 1 for s in counted) / n
    return [
        Figure(
            group="text",
            name="SMS segment count",
            value=median_of(runs, lambda: rate(n, lambda: _segments(texts))),
            unit="items/s",
            baseline=median_of(runs, lambda: rate(n, lambda: _utf16_len(texts))),
            baseline_name="len(utf-16)",
            note=f"{n:,} bodies, {ucs2:.0%} UCS-2, {multi:.0%} multi-part",
        ),
        Figure(
            group="text",
            name="phone normalise",
            value=median_of(runs, lambda: rate(n, lambda: _normalise(phones))),
            unit="items/s",
            baseline=median_of(runs, lambda: rate(n, lambda: _parse_format(phones))),
            baseline_name="parse+E.164",
            note=f"{n:,} numbers, {len(PHONE_PLANS)} regions",
        ),
    ]
