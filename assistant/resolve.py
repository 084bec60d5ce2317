"""Resolution: "Sarah", "the Smiths", "John from Acme", "the showing confirmation" -> the caller's workspace rows.

Rules (DESIGN.md, "The assistant"):
- Only the caller's workspace is searched (every statement filters on ctx.organization_id).
- A full name beats a first name, which beats a last name; a household ("the Smiths", "Smith family") is the lead
  whose name holds Smith when it has several contacts, and outranks a single Smith; "John from Acme" is a John
  on a lead whose name matches Acme. Typos, case and accents are forgiven.
- Matches within MARGIN of the best are equally plausible: one makes `unique`, two or more make a question
  (`ambiguous`), offered most recently contacted first (Thread.last_activity_at). Never a guess.
- A title before a name ("Dr. Patel", "Mrs Smith", assistant/honorifics.py) is dropped: it says how someone is
  addressed, not who, so "Mrs. Smith" with two Smiths is still a question.

Contacts are never all read. The words of every contact's and lead's name, and each whole name, are kept folded in
`name_token` (db/models/crm.py, kept by a flush hook), so a query is a few index ranges: see "queries" below for how
a common name among 100,000 contacts stays cheap. Typos are looked for only when nothing matches, among the
workspace's distinct words (`name_word`) one edit from the query word (by their one-letter deletions,
`name_word_key`), or, when none is, sharing a beginning with it; rapidfuzz decides. Only a few dozen candidates ever
reach Python, where they are scored from their names.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from itertools import islice, product

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA
from sqlalchemy import Select, String, TextClause, bindparam, or_, select, text
from sqlalchemy.orm import Session

from assistant.honorifics import HONORIFICS
from assistant.intents import SAID_NUMBER
from db.models import Contact, ContactPhone, Lead, SmsTemplate
from db.models.crm import (
    LEAD_STOPWORDS,
    SHARED_NAME,
    TOKEN_LENGTH,
    deletions,
    fold,
    name_tokens,
    whole_name_token,
)
from db.types import UTCDateTime
from tools.context import Ctx
from tools.phones import normalise
from tools.problems import Invalid

MAX_MATCHES = 10  # choices offered in one question
CANDIDATES = 25  # rows of each kind fetched, best and most recent first, and scored here
COMPANY_CONTACTS = 500  # contacts of "Acme" scored at most for "John from Acme"
MARGIN = 0.04  # a match this close to the best one is just as plausible
MIN_SCORE = 0.5

# What a match is worth, times how well its words matched.
FULL_NAME = 1.0  # every word, in order, and nothing else: "Sarah Lee"
HOUSEHOLD = 0.97  # "the Smiths": a lead of several contacts
ALL_WORDS = 0.95  # every word, but not the whole name or not in order: "Lee Sarah", "Sarah Lee" for Sarah Jane Lee
FIRST_NAME = 0.9
LEAD_NAME = 0.9  # a lead's whole name of several words: "Acme Realty"
OTHER_NAME = 0.8  # a last or middle name
LEAD_WORDS = 0.8  # some of a lead's name

# How well one query word matched one name word.
EXACT, PLURAL, PREFIX, TYPO_1, TYPO_2 = 1.0, 0.94, 0.8, 0.8, 0.7

NOT_TEXTABLE = ("fax", "url")
_MAX_CHAR = "\U0010ffff"
_VOCABULARY_SCAN = 1_000  # distinct words read per beginning when looking for a word two edits away
_HOUSEHOLD_WORDS = frozenset({"family", "household", "house", "clan", "folks", "residence"})
_COMPANY_WORDS = ("from", "at")
_POSSESSIVE = re.compile(r"(\w)['’]s\b")
_BIND = re.compile(r"(?<![:\w]):(\w+)")


@dataclass(frozen=True)
class Match:
    kind: str  # "contact" or "lead"
    id: str
    label: str  # "Sarah Lee (Buyer)", "The Smiths (2 contacts)"
    contact_ids: list[str]  # who would be texted: the contact, or the lead's contacts with a textable phone
    score: float
    last_activity_at: datetime | None = None


@dataclass(frozen=True)
class Resolution:
    matches: list[Match] = field(default_factory=list)  # the equally plausible ones, most recently contacted first
    more: bool = False  # more were just as plausible than are listed

    @property
    def unique(self) -> Match | None:
        return self.matches[0] if len(self.matches) == 1 and not self.more else None

    @property
    def ambiguous(self) -> bool:
        return len(self.matches) > 1 or self.more


@dataclass(frozen=True)
class TemplateMatch:
    id: str
    label: str
    text: str
    score: float


@dataclass(frozen=True)
class TemplateResolution:
    matches: list[TemplateMatch] = field(default_factory=list)

    @property
    def unique(self) -> TemplateMatch | None:
        return self.matches[0] if len(self.matches) == 1 else None

    @property
    def ambiguous(self) -> bool:
        return len(self.matches) > 1


# -- words --------------------------------------------------------------------------------------------------------


@dataclass
class _Term:
    word: str
    prefix: bool  # also the words it begins ("Sam" -> "Samantha", "Sarah L" -> "Lee")
    plurals: tuple[str, ...] = ()  # "smiths" -> ("smith",)
    typos: dict[str, float] = field(default_factory=dict)  # known words one or two edits away, when looked up

    @property
    def exact(self) -> list[str]:
        return [self.word, *self.plurals, *self.typos]


@dataclass
class _Query:
    terms: list[_Term]
    company: list[_Term]
    household: bool  # "the Smiths", "Smith family"


def _singulars(word: str) -> tuple[str, ...]:
    if len(word) < 4 or not word.endswith("s") or word.endswith("ss"):
        return ()
    forms = [word[:-1]]
    if word.endswith("es") and len(word) >= 5:
        forms.append(word[:-2])
    return tuple(forms)


def _terms(words: list[str], plurals: bool) -> list[_Term]:
    return [_Term(w, prefix=len(w) >= 3 or (i > 0 and len(words) > 1),
                  plurals=_singulars(w) if plurals and len(words) == 1 else ()) for i, w in enumerate(words)]


def _parse(name: str) -> _Query:
    words = [w[:TOKEN_LENGTH] for w in fold(_POSSESSIVE.sub(r"\1", name.replace("@", " at "))).split()]
    company: list[str] = []
    for i, word in enumerate(words):
        if word in _COMPANY_WORDS and 0 < i < len(words) - 1:
            words, company = words[:i], words[i + 1:]
            break
    while len(words) > 1 and words[0] in HONORIFICS:  # "Dr. Patel" is Patel; a lone "Dr" stays a word to look for
        words = words[1:]
    household = False
    if len(words) > 1 and words[0] == "the":
        words, household = words[1:], not company
    while len(words) > 1 and words[-1] in _HOUSEHOLD_WORDS:
        words, household = words[:-1], True
    company = [w for w in company if w not in LEAD_STOPWORDS] or company
    return _Query(_terms(words, plurals=not company), _terms(company, plurals=False), household)


def _typo_limit(word: str) -> int:
    """Edits forgiven in a word: none under 3 letters, 1 up to 4, 2 beyond."""
    return 0 if len(word) < 3 else 1 if len(word) <= 4 else 2


def _typo_sim(word: str, token: str, distance: int) -> float:
    if abs(len(word) - len(token)) > 2 or distance > _typo_limit(word):
        return 0.0
    return TYPO_1 if distance <= 1 else TYPO_2


def _typo(word: str, token: str) -> float:
    limit = _typo_limit(word)
    return _typo_sim(word, token, OSA.distance(word, token, score_cutoff=limit)) if limit else 0.0


def _typos(word: str, vocabulary: list[str]) -> dict[str, float]:
    """_typo of the word against each of the vocabulary's words, keeping the near ones; rapidfuzz walks the list."""
    limit = _typo_limit(word)
    if not limit:
        return {}
    near = process.extract(word, vocabulary, scorer=OSA.distance, score_cutoff=limit, limit=None)
    return {token: sim for token, distance, _ in near if (sim := _typo_sim(word, token, distance))}


def _sim(term: _Term, token: str) -> float:
    if token == term.word:
        return EXACT
    if token in term.plurals or term.word in _singulars(token):  # "Smiths" and "The Smiths" name the Smiths
        return PLURAL
    if term.prefix and token.startswith(term.word):
        return PREFIX
    return _typo(term.word, token)


def _align(terms: list[_Term], tokens: Sequence[str]) -> list[tuple[float, int]] | None:
    """Each term's best unused word as (similarity, position), or None when a term matches nothing."""
    used: set[int] = set()
    aligned = []
    for term in terms:
        scored = [(_sim(term, token), j) for j, token in enumerate(tokens) if j not in used]
        best = max(scored, key=lambda s: (s[0], -s[1]), default=(0.0, -1))
        if best[0] <= 0:
            return None
        used.add(best[1])
        aligned.append(best)
    return aligned


def _word_score(term: _Term, tokens: Sequence[str]) -> float:
    """One word's best reading of a name: as its first name or as a later one. A plural names a family, so it reads
    only later names: "Williams" is not William Turner."""
    return max((_sim(term, token) * (OTHER_NAME if j else FIRST_NAME) for j, token in enumerate(tokens)
                if j or token not in term.plurals), default=0.0)


def _person_score(terms: list[_Term], tokens: Sequence[str]) -> float:
    if len(terms) == 1:
        return _word_score(terms[0], tokens)
    aligned = _align(terms, tokens)
    if not aligned:
        return 0.0
    mean = sum(s for s, _ in aligned) / len(aligned)
    whole = [j for _, j in aligned] == list(range(len(tokens)))
    return mean * (FULL_NAME if whole else ALL_WORDS)


def _mean(aligned: list[tuple[float, int]] | None) -> float:
    return _mean_of([s for s, _ in aligned]) if aligned else 0.0


def _mean_of(sims: list[float]) -> float:
    return sum(sims) / len(sims)


# -- queries ------------------------------------------------------------------------------------------------------
#
# Textual SQL, the same on SQLite and PostgreSQL (`n` is always name_token): small statements whose shape depends
# only on how many words were asked for; building them as expression trees cost more than running them.
#
# A query's matches fall into tiers of equal score (the whole name; the word as a first name, as a later name, as a
# plural, as a prefix, as a typo). Only the best non-empty tiers can be plausible, so only they are read. A tier of
# up to DIRECT_MAX contacts is ranked by reading each member's thread; a larger one ("John" among 100,000) by
# walking the workspace's threads newest first until MAX_MATCHES + 1 members turn up, which takes about
# MAX_MATCHES x threads / members steps: the more common the name, the shorter the walk. A step (one index seek)
# costs about a third of reading one member's thread, so a walk gives up after WALK_PER_MEMBER threads per member
# (reading them would have cost more), and then the members are read. The two cost the same near
# sqrt(MAX_MATCHES x threads x 3): about 600 members with 40,000 threads, hence DIRECT_MAX. A walk that gives up
# has cost its steps for nothing: giving up after one thread per member, with DIRECT_MAX at 300, made names of 300 to
# 1,200 members among 100,000 contacts pay for both (9 ms for "Joseph" instead of 3).

DIRECT_MAX = 600  # a tier this small is ranked member by member
CENSUS_CAP = 2_000  # members of a tier counted at most
WALK_PER_MEMBER = 5  # threads walked per member before reading the members instead

_TEXTABLE = ("EXISTS (SELECT 1 FROM contact_phone p WHERE p.contact_id = {id} AND p.type NOT IN ("
             + ", ".join(f"'{t}'" for t in NOT_TEXTABLE) + "))")
_CONTACT_RECENT = "(SELECT t.last_activity_at FROM thread t WHERE t.organization_id = :org AND t.contact_id = {id})"
_OF = {"contact": "n.contact_id IS NOT NULL", "lead": "n.contact_id IS NULL", "any": "1 = 1"}
# A contact's (has a textable phone, last activity), as columns of a statement over contact c
_REACH = f", {_TEXTABLE.format(id='c.id')}, {_CONTACT_RECENT.format(id='c.id')} AS recent"
# (id, recent, name, title, lead_id, lead_name, textable) of ranked contacts
_CONTACT_ROWS = ("SELECT r.owner, r.recent AS recent, c.name, c.title, c.lead_id, l.name, "
                 f"{_TEXTABLE.format(id='r.owner')} FROM ({{source}}) r "
                 "JOIN contact c ON c.id = r.owner JOIN lead l ON l.id = c.lead_id")


# The walk's order, said again at its outer LIMIT on PostgreSQL, which may join the walk with the name's rows in
# another order (at 100,000 contacts it merge-joined them by contact id and offered the 11 Jameses with the smallest
# ids). SQLite scans the walk in order and stops at the 11th match; told the order, it checks every thread of the
# walk first, then sorts (3.6 ms for "James" became 6.3).
_WALK_ORDER = {"postgresql": "ORDER BY w.last_activity_at DESC ", "sqlite": ""}


@dataclass(frozen=True)
class _Tier:
    cond: str  # on name_token n
    score: float
    ranged: bool = False  # a range of words ("sam" to "sam\U0010ffff") rather than a list
    once: bool = False  # a contact has at most one row in it: one position (a name holds one word there), or one word


@lru_cache(maxsize=512)
def _statement(sql: str, expanding: frozenset[str]) -> TextClause:
    stmt = text(sql).bindparams(*[bindparam(name, expanding=True, type_=String()) for name in sorted(expanding)])
    return stmt.columns(recent=UTCDateTime()) if " AS recent" in sql else stmt


@lru_cache(maxsize=512)
def _bind_names(sql: str) -> frozenset[str]:
    return frozenset(_BIND.findall(sql))


def _run(session: Session, sql: str, params: dict) -> list:
    used = _bind_names(sql)
    params = {name: value for name, value in params.items() if name in used}
    expanding = frozenset(name for name, value in params.items() if isinstance(value, list))
    return session.execute(_statement(sql, expanding), params).all()


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _params(org: str, terms: list[_Term]) -> dict:
    params: dict = {"org": org}
    for i, t in enumerate(terms):
        params |= {f"w{i}": t.word, f"hi{i}": t.word + _MAX_CHAR, f"x{i}": t.exact, f"p{i}": list(t.plurals),
                   f"a{i}": [w for w, s in t.typos.items() if s == TYPO_1],
                   f"b{i}": [w for w, s in t.typos.items() if s != TYPO_1]}
    return params


def _ways(t: _Term, i: int) -> list[tuple[str, float]]:
    """(condition, similarity) for each way a stored word can match term i, best first; each one index range."""
    ways = [(f"n.token = :w{i}", EXACT)]
    if t.plurals:
        ways.append((f"n.token IN :p{i}", PLURAL))
    if t.prefix:
        ways.append((f"n.token > :w{i} AND n.token < :hi{i}", PREFIX))
    if any(s == TYPO_1 for s in t.typos.values()):
        ways.append((f"n.token IN :a{i}", TYPO_1))
    if any(s != TYPO_1 for s in t.typos.values()):
        ways.append((f"n.token IN :b{i}", TYPO_2))
    return ways


def _contact_tiers(terms: list[_Term], params: dict) -> list[_Tier]:
    if len(terms) == 1:
        ways = _ways(terms[0], 0)
        tiers = [_Tier(f"{cond} AND n.position = 0", sim * FIRST_NAME, " < " in cond, once=True) for cond, sim in ways
                 if sim != PLURAL]  # _word_score
        tiers += [_Tier(f"{cond} AND n.position > 0", sim * OTHER_NAME, " < " in cond, once=sim == EXACT)
                  for cond, sim in ways]
        return sorted(tiers, key=lambda tier: -tier.score)
    # The whole name ("Sarah Lee"), with its words' typos ("Sarah Lea"), or with its last word begun ("Sarah L").
    spellings = [[(t.word, EXACT), *t.typos.items()] for t in terms]
    by_score: dict[float, list[str]] = {}
    for combo in islice(product(*spellings), 64):
        score = round(sum(s for _, s in combo) / len(combo), 4)
        by_score.setdefault(score, []).append(whole_name_token([w for w, _ in combo]))
    whole = whole_name_token([t.word for t in terms])
    params |= {"wholehi": whole + _MAX_CHAR, "whole": whole}
    tiers = [_Tier("n.token > :whole AND n.token < :wholehi AND n.position = -1", FULL_NAME * PREFIX, True, once=True)]
    for k, (score, tokens) in enumerate(by_score.items()):
        params[f"whole{k}"] = tokens
        tiers.append(_Tier(f"n.token IN :whole{k} AND n.position = -1", FULL_NAME * score, once=True))
    return sorted(tiers, key=lambda tier: -tier.score)


def _counts(session: Session, checks: list[tuple[str, _Tier, int]], params: dict,
            moot: frozenset[int] = frozenset()) -> list[int]:
    """How many rows of each (kind, tier) there are, counting no further than its cap: one statement for all.

    The checks in `moot` are not counted, and come back 0, when the first check has any row.
    """
    counts = [f"(SELECT count(*) FROM (SELECT 1 FROM name_token n WHERE n.organization_id = :org AND {_OF[kind]} "
              f"AND {tier.cond} LIMIT {cap}) c{k})" for k, (kind, tier, cap) in enumerate(checks)]
    if not moot:
        return list(_run(session, f"SELECT {', '.join(counts)}", params)[0])
    rest = [f"CASE WHEN g.best > 0 THEN 0 ELSE {count} END" if k in moot else count
            for k, count in enumerate(counts[1:], 1)]
    # LIMIT 1 OFFSET 0 keeps SQLite and PostgreSQL from flattening g, which would copy the first check into every
    # CASE and count it once each (`AS MATERIALIZED` says the same, but needs SQLite 3.35, newer than some systems'
    # Python has). A moot tier was the costly one: "James" as a later name read all 5,000 James rows of name_token
    # (0.9 ms at 100,000 contacts) to find 169.
    return list(_run(session, f"SELECT g.best, {', '.join(rest)} FROM (SELECT {counts[0]} AS best LIMIT 1 OFFSET 0) g",
                     params)[0])


def _outranked(tiers: list[_Tier]) -> frozenset[int]:
    """The tiers that the first (best) tier beats by MARGIN or more: when it has a contact, they cannot be best."""
    return frozenset(k for k, tier in enumerate(tiers) if tiers[0].score - tier.score >= MARGIN)


def _census(session: Session, kind: str, tiers: list[_Tier], params: dict, cap: int) -> list[int]:
    """How many rows each tier has, counting no further than cap."""
    return _counts(session, [(kind, tier, cap) for tier in tiers], params)


def _contacts_in(session: Session, tiers: list[_Tier], members: int, params: dict) -> tuple[list, bool]:
    """The best and most recently contacted contacts of these tiers; True when more may exist than were read."""
    if members > DIRECT_MAX:
        # Each thread's contact is checked with one seek per word list, or, for a range of words, through its few
        # name_token rows.
        either = " OR ".join(f"({tier.cond})" if tier.ranged else f"(n.organization_id = :org AND {tier.cond})"
                             for tier in tiers)
        walk = (f"SELECT w.contact_id AS owner, w.last_activity_at AS recent FROM (SELECT t.contact_id, "
                f"t.last_activity_at FROM thread t WHERE t.organization_id = :org AND t.last_activity_at IS NOT NULL "
                f"ORDER BY t.last_activity_at DESC LIMIT {WALK_PER_MEMBER * min(members, CENSUS_CAP)}) w "
                f"WHERE EXISTS (SELECT 1 FROM name_token n WHERE n.contact_id = w.contact_id AND ({either})) "
                f"{_WALK_ORDER[_dialect(session)]}LIMIT {MAX_MATCHES + 1}")
        rows = _run(session, _CONTACT_ROWS.format(source=walk), params)
        if len(rows) > MAX_MATCHES:
            return rows, True
    rows = _run(session, _CONTACT_ROWS.format(source=_ranked(tiers)), params)
    return rows, len(rows) >= CANDIDATES


def _ranked(tiers: list[_Tier]) -> str:
    """(owner, recent) of the best CANDIDATES contacts of these tiers, best and most recent first.

    A contact in several tiers, or twice in one, counts once, at its best score: that takes a GROUP BY, which cost
    about as much as reading the members' threads (0.5 of 1.5 ms for Andrew's 584 members at 100,000 contacts on
    SQLite). A single tier a contact is in at most once needs none, and its members' threads are joined.
    """
    if len(tiers) == 1 and tiers[0].once:
        return (f"SELECT n.contact_id AS owner, t.last_activity_at AS recent FROM name_token n LEFT JOIN thread t "
                f"ON t.contact_id = n.contact_id AND t.organization_id = :org WHERE n.organization_id = :org "
                f"AND n.contact_id IS NOT NULL AND {tiers[0].cond} ORDER BY recent DESC NULLS LAST, owner "
                f"LIMIT {CANDIDATES}")
    hits = " UNION ALL ".join(f"SELECT n.contact_id AS owner, {tier.score} AS score FROM name_token n "
                              f"WHERE n.organization_id = :org AND n.contact_id IS NOT NULL AND {tier.cond}"
                              for tier in tiers)
    return (f"SELECT h.owner AS owner, max(h.score) AS score, {_CONTACT_RECENT.format(id='h.owner')} AS recent "
            f"FROM ({hits}) h GROUP BY h.owner ORDER BY score DESC, recent DESC NULLS LAST, owner LIMIT {CANDIDATES}")


def _intersection(kind: str, terms: list[_Term], driver: int, dialect: str) -> str:
    """Owners (id, recent) having a word for every term: the driver term's rows, each checked for the others."""
    def either(i: int) -> str:
        return " OR ".join(f"({cond.replace('n.', 'm.')})" for cond, _ in _ways(terms[i], i))

    owner, column = ("n.contact_id", "contact_id") if kind == "contact" else ("n.lead_id", "lead_id")
    rows = " UNION ".join(f"SELECT {owner} AS owner FROM name_token n WHERE n.organization_id = :org AND {_OF[kind]} "
                          f"AND n.position >= 0 AND {cond}" for cond, _ in _ways(terms[driver], driver))
    # Given m's organization, PostgreSQL looks a rare other word up by (organization, token) instead of scanning the
    # table for it (50 ms for "James Kardmrear" at 100,000 contacts); SQLite, given it, walks the whole workspace's
    # words for each owner, so there the owner's own rows are checked.
    scope = "m.organization_id = :org AND " if dialect == "postgresql" else ""
    checks = "".join(f" AND EXISTS (SELECT 1 FROM name_token m WHERE m.{column} = h.owner AND {scope}m.position >= 0 "
                     f"AND ({either(j)}))" for j in range(len(terms)) if j != driver)
    if kind == "lead":
        return f"SELECT h.owner AS owner FROM ({rows}) h WHERE 1 = 1{checks} ORDER BY owner LIMIT {CANDIDATES}"
    return (f"SELECT h.owner AS owner, {_CONTACT_RECENT.format(id='h.owner')} AS recent FROM ({rows}) h "
            f"WHERE 1 = 1{checks} ORDER BY recent DESC NULLS LAST, owner LIMIT {CANDIDATES}")


def _term_ways(terms: list[_Term]) -> list[tuple[int, _Tier]]:
    """(term index, tier) for each way a word can match each term, at any position, scored by its similarity."""
    return [(i, _Tier(f"{cond} AND n.position >= 0", sim, " < " in cond))
            for i, t in enumerate(terms) for cond, sim in _ways(t, i)]


def _per_term(terms: list[_Term], ways: list[tuple[int, _Tier]], counts: list[int]) -> list[int]:
    per_term = [0] * len(terms)
    for (i, _), count in zip(ways, counts, strict=True):
        per_term[i] += count
    return per_term


def _term_counts(session: Session, kind: str, terms: list[_Term], params: dict, cap: int) -> list[int]:
    """How many rows match each term in any way (each way counted up to cap)."""
    ways = _term_ways(terms)
    return _per_term(terms, ways, _census(session, kind, [tier for _, tier in ways], params, cap))


@dataclass
class _Found:
    rows: list  # contacts' rows (_CONTACT_ROWS)
    more: bool  # more may exist than were read
    known: list[int]  # indexes of the terms some contact's or lead's word matches


@dataclass
class _Census:
    tiers: list[_Tier]  # the contacts' tiers, best first
    counts: list[int]  # rows of each tier (0 for one the best tier outranks, when the best has any)
    lead_sims: list[float]  # per term, the best similarity some lead's word can have to it; 0 when none has one
    homes: int  # "Smiths": whether some lead's name, or some person's later name, is Smith (see _HOMES)


# Where "Smiths" (no "the", no "family") can name a household: a lead named Smith, or people surnamed Smith. With
# neither, it is a name like any other ("Williams", "James") and no household is looked for.
_HOMES = _Tier("n.token IN :p0 AND n.position >= 0 AND (n.position > 0 OR n.contact_id IS NULL)", 0.0)


def _contact_census(session: Session, terms: list[_Term], params: dict, homes: bool) -> _Census:
    """How many contacts each tier has, and which terms some lead's name matches, in one statement; with `homes`,
    also whether a single plural word could name a household."""
    tiers = _contact_tiers(terms, params)
    ways = _term_ways(terms)
    checks = ([("contact", tier, DIRECT_MAX + 1) for tier in tiers] + [("lead", tier, 1) for _, tier in ways]
              + ([("any", _HOMES, 1)] if homes else []))
    counts = _counts(session, checks, params, moot=_outranked(tiers))
    lead_counts = counts[len(tiers):len(tiers) + len(ways)]
    return _Census(tiers, counts[:len(tiers)], _lead_sims(terms, ways, lead_counts), counts[-1] if homes else 0)


def _lead_sims(terms: list[_Term], ways: list[tuple[int, _Tier]], counts: list[int]) -> list[float]:
    """Per term, the best similarity (_sim) a lead's word can have to it, from the ways some lead's name matches it;
    a word in a range of prefixes may also be a plural ("Smiths" begins with "Smith")."""
    return [max((PLURAL if tier.ranged else tier.score for (j, tier), n in zip(ways, counts, strict=True)
                 if j == i and n), default=0.0) for i in range(len(terms))]


def _lead_bound(q: _Query, sims: list[float]) -> float:
    """The best score _lead_candidates can give a lead found by its name, with these similarities (_lead_sims); 0
    when no lead's name has a word for every term. A household of one word's name is looked for before this."""
    if not all(sims):
        return 0.0
    if q.household:
        return HOUSEHOLD * _mean_of(sims)
    if len(sims) > 1 and all(sim == EXACT for sim in sims):
        return LEAD_NAME
    return LEAD_WORDS * _mean_of(sims)


def _find_contacts(session: Session, terms: list[_Term], params: dict, census: _Census) -> _Found:
    """Rows of the contacts in the census's best tiers, or (several words, no whole name) of those having every
    word."""
    lead_sims = census.lead_sims
    found = [(tier, n) for tier, n in zip(census.tiers, census.counts, strict=True) if n]
    best = [(tier, n) for tier, n in found if found[0][0].score - tier.score < MARGIN]
    if best:
        # Each tier counted up to DIRECT_MAX + 1: past that, the walk's budget (WALK_PER_MEMBER threads a member)
        # is already more than a common name needs, and counting further took a statement of its own.
        members = sum(n for _, n in best)
        rows, more = _contacts_in(session, [tier for tier, _ in best], members, params)
        return _Found(rows, more, list(range(len(terms))))
    if len(terms) == 1:
        return _Found([], False, [0] if lead_sims[0] else [])
    contact_words = _term_counts(session, "contact", terms, params, CENSUS_CAP)
    known = [i for i in range(len(terms)) if contact_words[i] or lead_sims[i]]
    if not all(contact_words):  # a word no contact has: no contact has them all
        return _Found([], False, known)
    driver = min(range(len(terms)), key=lambda i: contact_words[i])
    source = _intersection("contact", terms, driver, _dialect(session))
    rows = _run(session, _CONTACT_ROWS.format(source=source), params)
    return _Found(rows, len(rows) >= CANDIDATES, known)


def _leads_with_members(session: Session, q: _Query, terms: list[_Term], params: dict) -> list:
    """_find_leads' leads with their contacts, one row a contact, oldest first: (kind, lead id, lead name, contact
    id, name, title, has a textable phone, last activity). One statement: the members' own read cost as much."""
    return _run(session, f"SELECT f.kind, f.id, f.name, c.id, c.name, c.title{_REACH} FROM "
                         f"({_leads_sql(session, q, terms)}) f JOIN contact c ON c.lead_id = f.id "
                         f"ORDER BY c.date_created, c.id", params)


def _leads_sql(session: Session, q: _Query, terms: list[_Term]) -> str:
    if len(terms) == 1:
        hits = " UNION ALL ".join(f"SELECT n.lead_id AS owner, {sim} AS score FROM name_token n WHERE "
                                  f"n.organization_id = :org AND n.contact_id IS NULL AND n.position >= 0 AND {cond}"
                                  for cond, sim in _ways(terms[0], 0))
        ranked = (f"SELECT h.owner AS owner, max(h.score) AS score FROM ({hits}) h GROUP BY h.owner "
                  f"ORDER BY score DESC, owner LIMIT {CANDIDATES}")
    else:
        ranked = _intersection("lead", terms, 0, _dialect(session))
    sql = f"SELECT 'lead' AS kind, l.id AS id, l.name AS name FROM ({ranked}) r JOIN lead l ON l.id = r.owner"
    if len(terms) == 1 and (q.household or terms[0].plurals):
        # "the Williams" are people surnamed Williams (or William). Without "the", only a plural's singular makes a
        # household ("Smiths": people surnamed Smith); the word itself is a name like any other, and a lead holding
        # several people surnamed James is not what "James" means.
        # A household is a lead two or more of whose people share one of these later names: its SHARED_NAME row
        # says so, one row a household, not one a person of that name.
        words = ":x0" if q.household else ":p0"
        together = (f"SELECT n.lead_id AS owner FROM name_token n WHERE n.organization_id = :org "
                    f"AND n.contact_id IS NULL AND n.position = {SHARED_NAME} AND n.token IN {words} "
                    # A lead sharing two of the words comes once. Ordering by how many keeps PostgreSQL from
                    # walking the lead_id index to fill the LIMIT.
                    f"GROUP BY n.lead_id ORDER BY count(*) DESC, n.lead_id LIMIT {CANDIDATES}")
        sql += f" UNION ALL SELECT 'household', l.id, l.name FROM ({together}) r JOIN lead l ON l.id = r.owner"
    return sql


def _near_words(session: Session, org: str, words: list[str]) -> set[str]:
    """The workspace's distinct words one edit away from these, by their one-letter deletions (name_word_key): the
    typed word, or one of its deletions, is a deletion of theirs, or one of its deletions is theirs."""
    shorter = sorted(set().union(*(deletions(w) for w in words)))
    sql = ("SELECT word FROM name_word WHERE organization_id = :org AND word IN :shorter "
           "UNION SELECT word FROM name_word_key WHERE organization_id = :org AND key IN :keys")
    params = {"org": org, "shorter": shorter, "keys": sorted(set(words).union(shorter))}
    return {row[0] for row in _run(session, sql, params)}


def _begun_alike(session: Session, org: str, words: list[str]) -> set[str]:
    """The workspace's first distinct words of each beginning the word meant may share with a typed one (its first
    two letters, its first and third, its first two swapped): where a word two edits away is looked for."""
    starts = sorted({s for w in words for s in (w[:2], w[0] + w[2], w[1] + w[0])})
    ranges, params = [], {"org": org}
    for i, start in enumerate(starts):
        params[f"lo{i}"], params[f"hi{i}"] = start, start + _MAX_CHAR
        ranges.append(f"SELECT word FROM (SELECT word FROM name_word WHERE organization_id = :org AND word >= :lo{i} "
                      f"AND word < :hi{i} ORDER BY word LIMIT {_VOCABULARY_SCAN}) v{i}")
    return {row[0] for row in _run(session, " UNION ".join(ranges), params)}


def _add_typos(session: Session, org: str, kind: str, terms: list[_Term], known: list[int] | None = None) -> bool:
    """Give the words nothing matches their near spellings from the workspace; True when any was found.

    `known`: indexes of the terms known to match something, when the caller already knows.
    """
    if known is None:
        counts = _term_counts(session, kind, terms, _params(org, terms), cap=1)
        known = [i for i, count in enumerate(counts) if count]
    unknown = [t for i, t in enumerate(terms) if i not in known and len(t.word) >= 3]
    if not unknown:
        return False
    near = list(_near_words(session, org, [t.word for t in unknown]))
    for term in unknown:
        term.typos = _typos(term.word, near)
    # Only a word with nothing one edit away, and long enough to forgive two (_typo_limit), is looked for further.
    far = [t for t in unknown if not t.typos and _typo_limit(t.word) > 1]
    if far:
        vocabulary = list(_begun_alike(session, org, [t.word for t in far]))
        for term in far:
            term.typos = _typos(term.word, vocabulary)
    return any(t.typos for t in unknown)


# -- candidates ---------------------------------------------------------------------------------------------------


@dataclass
class _Candidate:
    kind: str
    id: str
    score: float
    recent: datetime | None
    label: str = ""
    contact_ids: list[str] = field(default_factory=list)
    people: list[str] = field(default_factory=list)  # a lead's contacts, textable or not
    household: bool = False


_folded = lru_cache(maxsize=16_384)(fold)  # every candidate's label compares its name and its lead's, folded


def _contact_label(name: str, title: str, lead_name: str) -> str:
    extra = [t for t in ((title or "").strip(), lead_name.strip() if _folded(lead_name) != _folded(name) else "") if t]
    return f"{name or '(no name)'} ({', '.join(extra)})" if extra else (name or "(no name)")


def _lead_label(name: str, contacts: int) -> str:
    return f"{name or '(no name)'} ({contacts} contact{'' if contacts == 1 else 's'})"


def _plural_household(term: _Term, token: str, names: list[str]) -> bool:
    """"Smiths" names a household: it matched the lead as a plural, or the lead's people are Smiths."""
    if token in term.plurals:
        return True
    return token == term.word and any(p in name_tokens(n)[1:] for n in names for p in term.plurals)


def _lead_candidates(q: _Query, rows: list) -> list[_Candidate]:
    """Leads found by their name, and leads holding several of "the Smiths" whatever their name, from
    _leads_with_members' rows; scored from their names and people."""
    leads: dict[str, tuple[str, str]] = {}
    members: dict[str, dict[str, tuple]] = {}
    for kind, lead_id, name, *person in rows:
        if lead_id not in leads or kind == "lead":
            leads[lead_id] = (kind, name)
        members.setdefault(lead_id, {})[person[0]] = tuple(person)  # a lead found both ways comes twice
    scored = []
    for lead_id, (kind, name) in leads.items():  # a lead with nobody to reach has no rows
        people = list(members[lead_id].values())
        tokens = name_tokens(name, LEAD_STOPWORDS)
        aligned = _align(q.terms, tokens)
        several = len(people) >= 2
        if kind == "household" and not (aligned and several):
            score, household = (HOUSEHOLD if q.household else HOUSEHOLD * PLURAL), True
        elif not aligned:
            continue
        elif several and (q.household or (len(q.terms) == 1 and q.terms[0].plurals and _plural_household(
                q.terms[0], tokens[aligned[0][1]], [p[1] for p in people]))):
            score, household = HOUSEHOLD * _mean(aligned), True
        elif _mean(aligned) == EXACT and len(tokens) == len(q.terms) > 1:
            score, household = LEAD_NAME, False
        else:
            score, household = LEAD_WORDS * _mean(aligned), False
        scored.append((lead_id, name, people, score, household))
    best = max((s[3] for s in scored), default=0.0)
    scored = [s for s in scored if best - s[3] < MARGIN]
    out = []
    for lead_id, name, people, score, household in scored:
        ids = [cid for cid, _, _, textable, _ in people if textable]
        recent = max((at for *_, at in people if at), default=None)
        out.append(_Candidate("lead", lead_id, score, recent, _lead_label(name, len(ids)), ids,
                              [p[0] for p in people], household))
    return out


def _contact_candidates(terms: list[_Term], rows: list) -> list[_Candidate]:
    out = []
    for cid, recent, name, title, _, lead_name, textable in rows:
        score = _person_score(terms, name_tokens(name))
        if score > 0:
            out.append(_Candidate("contact", cid, score, recent, _contact_label(name, title, lead_name),
                                  [cid] if textable else []))
    return out


def _person_candidates(session: Session, org: str, q: _Query) -> tuple[list[_Candidate], bool]:
    found, more, known = _people_and_leads(session, org, q)
    # Nothing at all: a single word is unknown as it stands; of several, the ones nothing matches are.
    if not found and _add_typos(session, org, "any", q.terms, known=[] if len(q.terms) == 1 else known):
        found, more, _ = _people_and_leads(session, org, q)
    return found, more


def _people_and_leads(session: Session, org: str, q: _Query) -> tuple[list[_Candidate], bool, list[int] | None]:
    """Contacts and leads, reading leads only when one could be as plausible as the best contact; and the indexes of
    the terms known to match something (None when not learned)."""
    params = _params(org, q.terms)
    single = len(q.terms) == 1
    leads: list[_Candidate] | None = None
    if single and q.household:  # "the Smiths" most likely names a household, which outranks every single Smith
        leads = _lead_candidates(q, _leads_with_members(session, q, q.terms, params))
        if any(c.household for c in leads):
            return leads, False, None
    census = _contact_census(session, q.terms, params, homes=single and not q.household and bool(q.terms[0].plurals))
    if census.homes:  # so may "Smiths"
        leads = _lead_candidates(q, _leads_with_members(session, q, q.terms, params))
        if any(c.household for c in leads):
            return leads, False, None
    found = _find_contacts(session, q.terms, params, census)
    contacts = _contact_candidates(q.terms, found.rows)
    bound = _lead_bound(q, census.lead_sims)
    if leads is None and bound and bound - max((c.score for c in contacts), default=0.0) > -MARGIN:
        leads = _lead_candidates(q, _leads_with_members(session, q, q.terms, params))
    ids = {c.id for c in contacts}
    # A one-person lead found through its contact is that contact.
    leads = [c for c in leads or [] if not (len(c.people) == 1 and c.people[0] in ids)]
    return contacts + leads, found.more, found.known


def _company_candidates(session: Session, org: str, q: _Query) -> list[_Candidate]:
    """"John from Acme": the Johns among the contacts of the leads best named by "Acme"."""
    rows = _company_people(session, org, q)
    if not rows:
        # The company's words may be mistyped ("Acmee"), and so may the person's ("Jon" for John), even when someone
        # else is called that.
        company_typos = _add_typos(session, org, "lead", q.company)
        person_typos = _add_typos(session, org, "contact", q.terms, known=[])
        if company_typos or person_typos:
            rows = _company_people(session, org, q)
    fits: dict[str, float] = {}
    scored = []
    for cid, name, title, lead_id, lead_name, textable, recent in rows:
        if lead_id not in fits:
            fits[lead_id] = _mean(_align(q.company, name_tokens(lead_name, LEAD_STOPWORDS)))
        score = _person_score(q.terms, name_tokens(name)) * fits[lead_id]
        if score > 0:
            scored.append(_Candidate("contact", cid, score, recent, _contact_label(name, title, lead_name),
                                     [cid] if textable else []))
    best = max((c.score for c in scored), default=0.0)
    return [c for c in scored if best - c.score < MARGIN]


def _company_people(session: Session, org: str, q: _Query) -> list:
    """(id, name, title, lead id, lead name, has a textable phone, last activity) of the contacts of the leads whose
    name has a word for every company term, having a word for the first person term: from the leads (a company has
    fewer people than a first name has bearers), however many leads share the company's name."""
    terms = q.terms + q.company
    first = len(q.terms)

    def either(i: int, alias: str) -> str:
        return " OR ".join(f"({cond.replace('n.', alias + '.')})" for cond, _ in _ways(terms[i], i))

    # One index range per way the first company word can match (SQLite reads a whole workspace's words for an OR).
    leads = " UNION ".join(f"SELECT m.lead_id FROM name_token m WHERE m.organization_id = :org "
                           f"AND m.contact_id IS NULL AND m.position >= 0 AND {cond.replace('n.', 'm.')}"
                           for cond, _ in _ways(terms[first], first))
    others = "".join(f" AND EXISTS (SELECT 1 FROM name_token o WHERE o.lead_id = f.lead_id "
                     f"AND o.organization_id = :org AND o.contact_id IS NULL AND o.position >= 0 "
                     f"AND ({either(i, 'o')}))" for i in range(first + 1, len(terms)))
    person = (f"EXISTS (SELECT 1 FROM name_token n WHERE n.contact_id = c.id AND n.position >= 0 "
              f"AND ({either(0, 'n')}))")
    return _run(session, f"SELECT c.id, c.name, c.title, c.lead_id, l.name{_REACH} FROM ({leads}) f "
                         f"JOIN lead l ON l.id = f.lead_id JOIN contact c ON c.lead_id = f.lead_id "
                         f"WHERE {person}{others} ORDER BY c.id LIMIT {COMPANY_CONTACTS}", _params(org, terms))


def _order_key(c: _Candidate):
    return (c.recent is None, -(c.recent.timestamp() if c.recent else 0.0), -c.score, c.label, c.id)


def resolve_recipient(session: Session, ctx: Ctx, name: str) -> Resolution:
    """The contacts or leads of ctx's workspace that `name` means: one, several equally plausible, or none."""
    q = _parse(name or "")
    if not q.terms:
        return Resolution()
    org = ctx.organization_id
    truncated = False
    if q.company:
        candidates = _company_candidates(session, org, q)
    else:
        candidates, truncated = _person_candidates(session, org, q)
    best = max((c.score for c in candidates), default=0.0)
    if best < MIN_SCORE:
        return Resolution()
    plausible = sorted((c for c in candidates if best - c.score < MARGIN), key=_order_key)
    # The SQL read only the best CANDIDATES of each kind: when it stopped among equally good ones, there are more.
    more = len(plausible) > MAX_MATCHES or (truncated and len(plausible) > 1)
    matches = [Match(c.kind, c.id, c.label, c.contact_ids, round(c.score, 4), c.recent)
               for c in plausible[:MAX_MATCHES]]
    return Resolution(matches, more)




def resolve_number(session: Session, ctx: Ctx, said: str) -> Resolution | None:
    """The contacts of ctx's workspace who have the phone number `said` ("415-555-0143", "(415) 555 0143"), by
    name; None when `said` is no phone number, so that it is read as a name."""
    if not SAID_NUMBER.fullmatch(said.strip()):
        return None
    try:
        e164 = normalise(said.strip(), "US", field="contact").e164
    except Invalid:
        return None
    rows = session.execute(
        select(Contact.id, Contact.name, Contact.title, Lead.name).join(Lead, Lead.id == Contact.lead_id)
        .join(ContactPhone, ContactPhone.contact_id == Contact.id)
        .where(ContactPhone.organization_id == ctx.organization_id, ContactPhone.phone == e164)
        .distinct().order_by(Contact.name, Contact.id).limit(MAX_MATCHES + 1)).all()
    matches = [Match("contact", cid, _contact_label(name, title or "", lead_name or ""), [cid], EXACT)
               for cid, name, title, lead_name in rows]
    return Resolution(matches[:MAX_MATCHES], len(matches) > MAX_MATCHES)


# -- templates ----------------------------------------------------------------------------------------------------

_TEMPLATE_NOISE = frozenset({"the", "a", "an", "my", "our", "template", "message", "text", "sms"})


def _template_words(value: str) -> list[str]:
    words = fold(value).split()
    return [w for w in words if w not in _TEMPLATE_NOISE] or words


def _template_score(query: list[str], name: list[str]) -> float:
    if not name:
        return 0.0
    if query == name:
        return EXACT
    aligned = _align(_terms(query, plurals=False), name)
    by_words = _mean(aligned) * (FULL_NAME if len(name) == len(query) else OTHER_NAME) if aligned else 0.0
    whole = fuzz.ratio(" ".join(query), " ".join(name)) / 100
    return max(by_words, FIRST_NAME * whole if whole >= 0.8 else 0.0)


def resolve_template(session: Session, ctx: Ctx, name: str) -> TemplateResolution:
    """Active templates the caller may use (shared, or their own) that `name` means."""
    query = _template_words(name or "")
    if not query:
        return TemplateResolution()
    rows = session.execute(_usable_templates(ctx)).all()
    scored = [(row, _template_score(query, _template_words(row[1]))) for row in rows]
    best = max((s for _, s in scored), default=0.0)
    if best < MIN_SCORE:
        return TemplateResolution()
    plausible = sorted(((row, s) for row, s in scored if best - s < MARGIN), key=lambda rs: (-rs[1], rs[0][1], rs[0][0]))
    return TemplateResolution([TemplateMatch(row[0], row[1], row[2], round(s, 4)) for row, s in plausible[:MAX_MATCHES]])


def template_by_id(session: Session, ctx: Ctx, template_id: str) -> TemplateMatch | None:
    """The template picked from a question's choices, if the caller may still use it."""
    row = session.execute(_usable_templates(ctx).where(SmsTemplate.id == template_id)).first()
    return TemplateMatch(row[0], row[1], row[2], EXACT) if row else None


def _usable_templates(ctx: Ctx) -> Select:
    """(id, name, text) of the active templates the caller may use: shared ones, and their own."""
    return select(SmsTemplate.id, SmsTemplate.name, SmsTemplate.text).where(
        SmsTemplate.organization_id == ctx.organization_id, SmsTemplate.status == "active",
        or_(SmsTemplate.is_shared.is_(True), SmsTemplate.user_id == ctx.user_id))
