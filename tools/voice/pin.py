"""Voice PINs: 4 to 8 digits, kept as a salted scrypt hash, checked in constant time, never shown again."""

import hashlib
import hmac
import re
import secrets

from sqlalchemy.orm import Session

from db.models import User
from tools.context import Ctx
from tools.problems import Invalid

PIN_PATTERN = re.compile(r"[0-9]{4,8}")
SCHEME = "scrypt"
COST, BLOCK_SIZE, PARALLELISM = 2**14, 8, 1  # about 16 MB and a few tens of milliseconds per check
SALT_BYTES = 16


def hash_pin(pin: str) -> str:
    """`scrypt$n$r$p$salt$hash`, with a new random salt."""
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _derive(pin, salt, COST, BLOCK_SIZE, PARALLELISM)
    return f"{SCHEME}${COST}${BLOCK_SIZE}${PARALLELISM}${salt.hex()}${digest.hex()}"


def pin_matches(stored: str | None, pin: str | None) -> bool:
    """True when `pin` is the one `stored` was made from; False when either is missing or malformed."""
    if not stored or not pin or not PIN_PATTERN.fullmatch(pin):
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        expected = bytes.fromhex(digest)
        derived = _derive(pin, bytes.fromhex(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return scheme == SCHEME and hmac.compare_digest(derived, expected)


def set_voice_pin(session: Session, ctx: Ctx, raw: str | None) -> User:
    """Store the caller's PIN hashed (None or blank clears it, which turns voice commands by phone off)."""
    user = session.get(User, ctx.user_id)
    pin = (raw or "").strip()
    if pin and not PIN_PATTERN.fullmatch(pin):
        raise Invalid.one("invalid_pin", "voice_pin", "A voice PIN is 4 to 8 digits.")
    user.voice_pin_hash = hash_pin(pin) if pin else None
    session.commit()
    return user


def _derive(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=32)
