"""Close-style ids: a type prefix and a random base62 part."""

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    """Return an id such as ``acti_3kQv...`` for the given prefix."""
    return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(length))
