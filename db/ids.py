"""Close-style ids: a type prefix and a random base62 part."""

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits
_UNBIASED = 256 - 256 % len(_ALPHABET)  # bytes below this map evenly onto the alphabet (4 x 62 = 248)


def new_id(prefix: str, length: int = 24) -> str:
    """Return an id such as ``acti_3kQv...`` for the given prefix.

    One read of the system's random source per id (not one per character): bytes at or above _UNBIASED are
    dropped so every character stays equally likely.
    """
    chars: list[str] = []
    while len(chars) < length:
        for byte in secrets.token_bytes(length + 8):
            if byte < _UNBIASED:
                chars.append(_ALPHABET[byte % len(_ALPHABET)])
                if len(chars) == length:
                    break
    return f"{prefix}_" + "".join(chars)
