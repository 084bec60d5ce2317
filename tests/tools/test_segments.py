"""SMS segment counting against Twilio's calculator rules: encoding choice, units and where parts split."""

import random

import grapheme
import pytest

from tools.segments import Encoding, Segments, count_segments

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # 4 emoji + 3 ZWJ: 11 UTF-16 units
FLAG_US = "\U0001f1fa\U0001f1f8"  # two regional indicators: 4 units, one cluster
RAINBOW = "\U0001f3f3\ufe0f\u200d\U0001f308"  # 2 + 1 + 1 + 2 = 6 units
THUMBS = "\U0001f44d\U0001f3fd"  # thumbs up + skin tone: 4 units, one cluster
GRIN = "\U0001f600"  # outside the BMP: 2 units
E_ACUTE = "e\u0301"  # e + combining acute: 2 units, one cluster
ZH = "\u0436"  # Cyrillic zhe: 1 unit, not GSM
ZALGO = "a" + "\u0301" * 80  # one cluster of 81 units
BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENSION = "^{}\\[~]|€\f"

# id, text, encoding, segments, units, lengths (in code points) of the parts
CASES = [
    ("empty", "", "GSM-7", 0, 0, []),
    ("hello", "Hello", "GSM-7", 1, 5, [5]),
    ("gsm 160", "a" * 160, "GSM-7", 1, 160, [160]),
    ("gsm 161", "a" * 161, "GSM-7", 2, 161, [153, 8]),
    ("gsm 306", "a" * 306, "GSM-7", 2, 306, [153, 153]),
    ("gsm 307", "a" * 307, "GSM-7", 3, 307, [153, 153, 1]),
    ("gsm 1600", "a" * 1600, "GSM-7", 11, 1600, [153] * 10 + [70]),
    ("whole basic table", BASIC, "GSM-7", 1, 127, [127]),
    ("whole extension table", EXTENSION, "GSM-7", 1, 20, [10]),
    ("euro alone", "€", "GSM-7", 1, 2, [1]),
    ("158 + euro fills 160", "a" * 158 + "€", "GSM-7", 1, 160, [159]),
    ("euro at 153rd moves", "a" * 152 + "€" + "a" * 10, "GSM-7", 2, 164, [152, 11]),
    ("80 braces", "{" * 80, "GSM-7", 1, 160, [80]),
    ("81 braces", "{" * 81, "GSM-7", 2, 162, [76, 5]),
    ("form feed costs 2", "\f", "GSM-7", 1, 2, [1]),
    ("159 + form feed", "a" * 159 + "\f", "GSM-7", 2, 161, [153, 7]),
    ("crlf counts two", "Hi\r\nthere", "GSM-7", 1, 9, [9]),
    ("crlf split at gsm boundary", "a" * 152 + "\r\n" + "a" * 8, "GSM-7", 2, 162, [153, 9]),
    ("capital c cedilla", "GARÇON", "GSM-7", 1, 6, [6]),
    ("lowercase c cedilla", "garçon", "UCS-2", 1, 6, [6]),
    ("backtick", "`", "UCS-2", 1, 1, [1]),
    ("tab", "a\tb", "UCS-2", 1, 3, [3]),
    ("raw escape", "\x1b", "UCS-2", 1, 1, [1]),
    ("greek capitals", "ΔΦΓ", "GSM-7", 1, 3, [3]),
    ("greek lowercase", "αβγ", "UCS-2", 1, 3, [3]),
    ("spanish n tilde only", "año", "GSM-7", 1, 3, [3]),
    ("spanish u acute", "ñandú", "UCS-2", 1, 5, [5]),
    ("chinese", "中文", "UCS-2", 1, 2, [2]),
    ("ucs2 70", ZH * 70, "UCS-2", 1, 70, [70]),
    ("ucs2 71", ZH * 71, "UCS-2", 2, 71, [67, 4]),
    ("ucs2 134", ZH * 134, "UCS-2", 2, 134, [67, 67]),
    ("ucs2 135", ZH * 135, "UCS-2", 3, 135, [67, 67, 1]),
    ("euro costs 1 in ucs2", "€" * 69 + ZH, "UCS-2", 1, 70, [70]),
    ("mixed switches all to ucs2", "a" * 100 + ZH, "UCS-2", 2, 101, [67, 34]),
    ("emoji makes ucs2", "Hello world " + GRIN, "UCS-2", 1, 14, [13]),
    ("emoji fits exactly", ZH * 65 + GRIN + ZH * 4, "UCS-2", 2, 71, [66, 4]),
    ("emoji straddles 67", ZH * 66 + GRIN + ZH * 5, "UCS-2", 2, 73, [66, 6]),
    ("zwj family straddles", ZH * 60 + FAMILY + ZH * 5, "UCS-2", 2, 76, [60, 12]),
    ("flag straddles", ZH * 65 + FLAG_US + ZH * 3, "UCS-2", 2, 72, [65, 5]),
    ("rainbow flag straddles", ZH * 64 + RAINBOW + ZH, "UCS-2", 2, 71, [64, 5]),
    ("skin tone at 70", ZH * 66 + THUMBS, "UCS-2", 1, 70, [68]),
    ("skin tone straddles", ZH * 66 + THUMBS + ZH, "UCS-2", 2, 71, [66, 3]),
    ("combining acute straddles", "a" * 66 + E_ACUTE + "a" * 5, "UCS-2", 2, 73, [66, 7]),
    ("crlf split at ucs2 boundary", E_ACUTE + ZH * 64 + "\r\n" + ZH * 5, "UCS-2", 2, 73, [67, 6]),
    ("korean syllables", "한" * 71, "UCS-2", 2, 71, [67, 4]),
    # A cluster longer than a whole part (a + 80 combining marks: 81 units) still moves whole; as in Twilio's
    # calculator, the part it leaves is sent even when empty.
    ("oversized cluster after text", ZH * 10 + ZALGO + ZH, "UCS-2", 3, 92, [10, 81, 1]),
    ("oversized cluster first", ZALGO, "UCS-2", 2, 81, [0, 81]),
]


@pytest.mark.parametrize(
    ("text", "encoding", "segments", "units", "lengths"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_count_segments(text: str, encoding: Encoding, segments: int, units: int, lengths: list[int]) -> None:
    result = count_segments(text)
    assert (result.encoding, result.segments, result.units) == (encoding, segments, units)
    assert [len(part) for part in result.parts] == lengths
    assert len(result.parts) == result.segments
    assert "".join(result.parts) == text


def test_escape_pair_moves_whole_to_part_two() -> None:
    parts = count_segments("a" * 152 + "€" + "a" * 10).parts
    assert parts == ["a" * 152, "€" + "a" * 10]


def test_zwj_family_moves_whole() -> None:
    parts = count_segments(ZH * 60 + FAMILY + ZH * 5).parts
    assert parts == [ZH * 60, FAMILY + ZH * 5]


def test_segments_is_frozen() -> None:
    with pytest.raises(AttributeError):
        count_segments("hi").units = 3  # type: ignore[misc]


def _reference(text: str) -> Segments:
    """The calculator's rules spelled out literally, with no fast paths."""
    if not text:
        return Segments("GSM-7", 0, 0, [])
    clusters: list[str] = []
    for cluster in grapheme.graphemes(text):
        clusters += ["\r", "\n"] if cluster == "\r\n" else [cluster]
    encoding: Encoding
    if all(len(c) == 1 and c in BASIC + EXTENSION for c in clusters):
        encoding, single, size = "GSM-7", 160, 153
        costs = [2 if c in EXTENSION else 1 for c in clusters]
    else:
        encoding, single, size = "UCS-2", 70, 67
        costs = [sum(2 if ord(ch) > 0xFFFF else 1 for ch in c) for c in clusters]
    units = sum(costs)
    if units <= single:
        return Segments(encoding, 1, units, [text])
    parts, used = [""], 0
    for cluster, cost in zip(clusters, costs, strict=True):
        if used + cost > size:
            parts.append("")
            used = 0
        parts[-1] += cluster
        used += cost
    return Segments(encoding, len(parts), units, parts)


# Characters that stress the fast paths: escapes, controls, CR LF, combining marks, ZWJ, regional indicators,
# Hangul jamo, Prepend, skin tones and multi-code-point clusters.
ALPHABET = [
    *"abcXYZ 019.,!?€{\f\r\nçÇ`\tΔαñá中한\u0301\u200d\ufe0f\u1100\u1161\u11a8\u0600\U0001f1e9\U0001f3fd",
    *(ZH, GRIN, FAMILY, FLAG_US, RAINBOW, THUMBS, "\r\n", "\u0915\u094d\u0937"),
]


@pytest.mark.parametrize("seed", range(10))
def test_matches_literal_rules_on_random_text(seed: int) -> None:
    """The fast paths (no grapheme outside joining runs, runs of one-unit characters cut anywhere) change nothing."""
    rng = random.Random(seed)
    for _ in range(100):
        pool = rng.sample(ALPHABET, rng.randint(1, 6))
        text = "".join(rng.choice(pool) for _ in range(rng.randint(0, 400)))
        assert count_segments(text) == _reference(text), repr(text)
