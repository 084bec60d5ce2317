"""Transaction-scoped locks on a name, for a look-then-write step that must not interleave across processes.

On PostgreSQL an advisory lock (`pg_advisory_xact_lock`) on a class and a 32-bit hash of the name: a collision only
makes two holders wait for each other. SQLite needs none: every transaction takes the database's write lock at BEGIN
(db/session.py).
"""

import hashlib

from sqlalchemy import Integer, bindparam, func, select
from sqlalchemy.orm import Session

# Lock classes (the advisory lock's first key), so that each use, and any other user of advisory locks, waits only
# on its own kind.
SENDER = 0x436F6479  # "Cody": a workspace and a phone that texted or called in
VOICE_PIN = 0x436F6470  # "Codp": a user whose voice PIN is being checked
CLAIMS = 0x436F6463  # "Codc": the dispatchers' claims of due messages, taken one at a time

_LOCK = select(func.pg_advisory_xact_lock(bindparam("lock_class", type_=Integer), bindparam("lock_key", type_=Integer)))


def hold(session: Session, lock_class: int, *name: str) -> None:
    """Wait for, and hold to the end of the transaction, the lock of this class on this name."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_LOCK, {"lock_class": lock_class, "lock_key": _key(name)})


def _key(name: tuple[str, ...]) -> int:
    """A signed 32-bit hash of the name (pg_advisory_xact_lock's second key is an int4)."""
    digest = hashlib.blake2b(" ".join(name).encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)
