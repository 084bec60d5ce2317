"""SMS segments as Twilio's calculator counts them: GSM-7 or UCS-2, in parts that never split a grapheme cluster."""

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib.resources import files
from typing import Literal

import grapheme

Encoding = Literal["GSM-7", "UCS-2"]

# A piece of text and its cost in units, or None for a run of one-unit characters that may be cut anywhere.
Piece = tuple[str, int | None]

GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = "\f^{}\\[~]|€"
NOT_GSM = re.compile(f"[^{re.escape(GSM_BASIC + GSM_EXTENSION)}]")
_EXTENSION = re.compile(f"[{re.escape(GSM_EXTENSION)}]")


def _joining_runs() -> re.Pattern[str]:
    """Runs of characters that may join a neighbour into one grapheme cluster, merged across one-character gaps.

    Under UAX #29 as the grapheme package implements it, two neighbours stay together only if one of them is
    Prepend, Extend, ZWJ, SpacingMark, Regional_Indicator or Hangul L, V or T. Every character outside the BMP
    is included as well: harmless, and it keeps the class a fast BMP bitmap.
    """
    table = json.loads(files("grapheme").joinpath("data/grapheme_break_property.json").read_text("utf-8"))
    names = ("Prepend", "Extend", "ZWJ", "SpacingMark", "Regional_Indicator", "L", "V", "T")
    ranges = [(c, c) for name in names for c in table[name]["single_chars"] if c < 0x10000]
    ranges += [(lo, min(hi, 0xFFFF)) for name in names for lo, hi in table[name]["ranges"] if lo < 0x10000]
    ranges.append((0x10000, 0x10FFFF))
    joining = "[" + "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in ranges) + "]"
    return re.compile(f"(?s){joining}+(?:.{joining}+)*")


_JOINING_RUNS = _joining_runs()


@dataclass(frozen=True, slots=True)
class Segments:
    encoding: Encoding
    segments: int
    units: int
    parts: list[str]


def _code_units(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) >> 1


def _gsm_pieces(text: str) -> Iterator[Piece]:
    """Escape pairs (2 septets, never split) between runs of basic characters."""
    end = 0
    for escaped in _EXTENSION.finditer(text):
        yield text[end : escaped.start()], None
        yield escaped.group(), 2
        end = escaped.end()
    yield text[end:], None


def _ucs2_pieces(text: str) -> Iterator[Piece]:
    """Grapheme clusters, with CR LF split back into two as the calculator does.

    A cluster boundary is certain between two characters outside every joining run, so grapheme only
    segments each run with one character of context on either side.
    """
    end = 0
    for run in _JOINING_RUNS.finditer(text):
        start, stop = max(run.start() - 1, 0), run.end() + 1
        yield text[end:start], None
        for cluster in grapheme.graphemes(text[start:stop]):
            yield cluster, None if cluster == "\r\n" else _code_units(cluster)
        end = stop
    yield text[end:], None


def _fill(pieces: Iterable[Piece], size: int) -> list[str]:
    """Fill parts of `size` units greedily; a cluster that does not fit starts the next part."""
    parts: list[str] = []
    current: list[str] = []
    used = 0
    for piece, units in pieces:
        if units is None:
            while piece and used + len(piece) > size:
                cut = max(size - used, 0)  # 0 after a cluster longer than a whole part
                current.append(piece[:cut])
                parts.append("".join(current))
                current, used, piece = [], 0, piece[cut:]
            units = len(piece)
        elif used + units > size:
            parts.append("".join(current))
            current, used = [], 0
        current.append(piece)
        used += units
    parts.append("".join(current))
    return parts


def count_segments(text: str) -> Segments:
    """Encoding, segment count, units and carrier parts of an SMS body."""
    if not text:
        return Segments("GSM-7", 0, 0, [])
    encoding: Encoding
    if NOT_GSM.search(text) is None:
        encoding, single, size, pieces = "GSM-7", 160, 153, _gsm_pieces
        units = len(text) + len(_EXTENSION.findall(text))
    else:
        encoding, single, size, pieces = "UCS-2", 70, 67, _ucs2_pieces
        units = _code_units(text)
    if units <= single:
        return Segments(encoding, 1, units, [text])
    parts = _fill(pieces(text), size)
    return Segments(encoding, len(parts), units, parts)
