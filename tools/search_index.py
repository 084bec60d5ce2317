"""The lead and contact search's index on SQLite: FTS5 trigram tables kept by triggers (migration 0011).

contact_fts holds a row per contact (its name and emails in `names`, its phones in `phones`), lead_fts one per lead
(its name); contact_search_row and lead_search_row give each contact and lead the integer id of its row. A phrase of
three characters or more finds the rows holding it anywhere, in any case (FTS5 folds by Unicode's rules).
"""

from weakref import WeakKeyDictionary

from sqlalchemy import Engine, Select, column, literal_column, select, table, text
from sqlalchemy.orm import Session

from tools.phones import search_digits

# The tables migration 0011 makes (FTS5 adds its own beside each, named after it: contact_fts_data, ...); no model
# declares them.
SEARCH_TABLES = ("contact_fts", "lead_fts", "contact_search_row", "lead_search_row")
_CONTACT_FTS = table("contact_fts", column("rowid"))
_CONTACT_ROWS = table("contact_search_row", column("id"), column("contact_id"))
_LEAD_FTS = table("lead_fts", column("rowid"))
_LEAD_ROWS = table("lead_search_row", column("id"), column("lead_id"))
_READY: WeakKeyDictionary[Engine, bool] = WeakKeyDictionary()


def fts_ready(session: Session) -> bool:
    """Whether the database is SQLite with the search's FTS5 tables (read once per engine): SQLite built without FTS5
    has none, and its searches read the rows."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    if engine.dialect.name != "sqlite":
        return False
    if engine not in _READY:
        _READY[engine] = session.scalar(text("SELECT 1 FROM sqlite_master WHERE name = 'contact_fts'")) is not None
    return _READY[engine]


def fts_contacts(search: str) -> Select:
    """The ids of the contacts whose name or one of whose emails holds the text, or, when it is a phone number or part
    of one, one of whose phones holds its digits; of every workspace, for the caller's statement to scope."""
    query = f"names : {_phrase(search)}"
    if digits := search_digits(search):
        query += f" OR phones : {_phrase(digits)}"
    found = select(_CONTACT_FTS.c.rowid).where(literal_column("contact_fts").op("MATCH")(query))
    return select(_CONTACT_ROWS.c.contact_id).where(_CONTACT_ROWS.c.id.in_(found))


def fts_leads(search: str) -> Select:
    """The ids of the leads whose name holds the text, of every workspace."""
    found = select(_LEAD_FTS.c.rowid).where(literal_column("lead_fts").op("MATCH")(_phrase(search)))
    return select(_LEAD_ROWS.c.lead_id).where(_LEAD_ROWS.c.id.in_(found))


def _phrase(search: str) -> str:
    """The text as one FTS5 phrase: quoted, its quotes doubled, so no character of it is query syntax."""
    return '"' + search.replace('"', '""') + '"'
