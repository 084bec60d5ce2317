"""Resolution figures: resolve_recipient on workspaces of 1,000, 10,000 and 100,000 contacts (quick: 1,000 and 10,000).

Each size gets its own migrated database (SQLite; PostgreSQL too when it answers, see bench.live) holding one
workspace filled by bulk core inserts with the rows the services would write: leads (three in four made for one
person, households "The Smiths" / "Smith Family" of 2-4 people, companies of 2-6), contacts, phones (mobile, some
office, a few fax only), threads for two contacts in five with a last activity in the past year, and the
name_token, name_word and name_word_key rows the flush hook writes (db.models.crm.token_rows, shared_name_rows,
word_rows, word_key_rows). Names: first names and surnames drawn with falling frequency from common lists, plus made-up rare
ones, so the vocabulary grows with the workspace as a real one does.

Queries, drawn from the workspace's own people: first names (so common names are asked for as often as they
occur), full names, last names, typos (a swap, drop or change of one letter), households ("the Smiths") and
"John from Acme". Each is resolved once to warm up, then timed REPEAT times, one session each, as a request would.
Every size's workspace is built before any is timed, and the sizes are timed in interleaved rounds, so a slow spell
of the machine falls on all of them alike rather than on the one being timed.

Baseline, same database: the query resolution replaces, `lower(name) LIKE 'sarah%' OR lower(name) LIKE '% sarah%'`
over the workspace's contacts, timed for first names only (it cannot find typos or households at all).
Targets: p99 under 10 ms at 100,000 contacts, and under 3x the 1,000-contact p99.

PostgreSQL's workspaces are VACUUM ANALYZEd after loading, as autovacuum would leave them. SQLite keeps no
statistics unless someone runs ANALYZE (or PRAGMA optimize); its largest workspace is timed both ways, before and
after ANALYZE, since a plan that is good without statistics can turn bad with them.
"""

import atexit
import random
import shutil
import string
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from sqlalchemy import func, insert, or_, select
from sqlalchemy.orm import sessionmaker

from assistant.resolve import resolve_recipient, resolve_template
from bench.harness import Figure, percentiles_ms
from bench.live import database_kinds, pg_admin, settle, temp_database
from db.models import Contact, ContactPhone, Lead, SmsTemplate, Thread
from db.models.crm import (
    NameToken,
    NameWord,
    NameWordKey,
    shared_name_rows,
    token_rows,
    word_key_rows,
    word_rows,
)
from db.session import make_engine, make_sessionmaker, transaction
from db.types import utcnow
from tools.context import Ctx
from tools.workspaces import create_organization

SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (1_000, 10_000)
REPEAT = 3
TARGET_P99_MS = 10.0
TARGET_GROWTH = 3.0
CLASSES = {"first": 40, "full": 40, "last": 20, "typo": 40, "household": 20, "company": 20}

FIRST_NAMES = ["James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "David", "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Christopher", "Karen", "Charles", "Lisa", "Daniel", "Nancy", "Matthew", "Betty", "Anthony", "Sandra", "Mark", "Margaret", "Donald", "Ashley", "Steven", "Kimberly", "Andrew", "Emily", "Paul", "Donna", "Joshua", "Michelle", "Kenneth", "Carol", "Kevin", "Amanda", "Brian", "Melissa", "George", "Deborah", "Timothy", "Stephanie", "Ronald", "Dorothy", "Jason", "Rebecca", "Edward", "Sharon", "Jeffrey", "Laura", "Ryan", "Cynthia", "Jacob", "Amy", "Gary", "Kathleen", "Nicholas", "Angela", "Eric", "Shirley", "Jonathan", "Brenda", "Stephen", "Emma", "Larry", "Anna", "Justin", "Pamela", "Scott", "Nicole", "Brandon", "Samantha", "Benjamin", "Katherine", "Samuel", "Christine", "Gregory", "Helen", "Alexander", "Debra", "Patrick", "Rachel", "Frank", "Carolyn", "Raymond", "Janet", "Jack", "Maria", "Dennis", "Olivia", "Jerry", "Heather", "Tyler", "Diane", "Aaron", "Julie", "Jose", "Joyce", "Adam", "Victoria", "Nathan", "Kelly", "Henry", "Christina", "Zachary", "Lauren", "Douglas", "Joan", "Peter", "Evelyn", "Kyle", "Judith", "Noah", "Megan", "Ethan", "Andrea", "Jeremy", "Cheryl", "Walter", "Hannah", "Christian", "Jacqueline", "Keith", "Martha", "Roger", "Gloria", "Terry", "Teresa", "Austin", "Ann", "Sean", "Sara", "Gerald", "Madison", "Carl", "Frances", "Harold", "Kathryn", "Dylan", "Janice", "Arthur", "Jean", "Lawrence", "Abigail", "Jordan", "Alice", "Jesse", "Judy", "Bryan", "Sophia", "Billy", "Grace", "Bruce", "Denise", "Gabriel", "Amber", "Joe", "Doris", "Logan", "Marilyn", "Albert", "Danielle", "Willie", "Beverly", "Alan", "Isabella", "Juan", "Theresa", "Wayne", "Diana", "Elijah", "Natalie", "Randy", "Brittany", "Roy", "Charlotte", "Vincent", "Marie", "Ralph", "Kayla", "Eugene", "Alexis", "Russell", "Lori", "Bobby", "Zoë", "Mason", "Chloé", "Philip", "Iñigo", "Louis", "Renée", "Jon", "Sarai", "Sasha"]
SURNAMES = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans", "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris", "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson", "Watson", "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes", "Price", "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jiménez", "Powell", "Jenkins", "Perry", "Russell", "Sullivan", "Bell", "Coleman", "Butler", "Henderson", "Barnes", "Gonzales", "Fisher", "Vasquez", "Simmons", "Romero", "Jordan", "Patterson", "Alexander", "Hamilton", "Graham", "Reynolds", "Griffin", "Wallace", "Moreno", "West", "Cole", "Hayes", "Bryant", "Herrera", "Gibson", "Ellis", "Tran", "Medina", "Aguilar", "Stevens", "Murray", "Ford", "Castro", "Marshall", "Owens", "Harrison", "Fernandez", "McDonald", "Woods", "Washington", "Kennedy", "Wells", "Vargas", "Henry", "Chen", "Freeman", "Webb", "Tucker", "Guzman", "Burns", "Crawford", "Olson", "Simpson", "Porter", "Hunter", "Gordon", "Mendez", "Silva", "Shaw", "Snyder", "Mason", "Dixon", "Muñoz", "Hunt", "Hicks", "Holmes", "Palmer", "Wagner", "Black", "Robertson", "Boyd", "Rose", "Stone", "Salazar", "Fox", "Warren", "Mills", "Meyer", "Rice", "Schmidt", "Garza", "Daniels", "Ferguson", "Nichols", "Stephens", "Soto", "Weaver", "Ryan", "Gardner", "Payne", "Grant", "Dunn", "Kelley", "Spencer", "Hawkins", "O'Brien", "Müller", "Zhang", "Wang", "Nowak", "Kowalski", "Søren", "Dubois", "Rossi"]
COMPANY_WORDS = ["Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Wonka", "Soylent", "Hooli", "Vandelay", "Cyberdyne", "Tyrell", "Gringotts", "Oscorp", "Massive", "Dynamic", "Aperture", "Monarch", "Pied", "Piper", "Sterling", "Cooper", "Dunder", "Mifflin", "Prestige", "Worldwide", "Bluth", "Oceanic", "Nakatomi", "Virtucon", "Zorg", "Rekall", "Blue", "Sun", "Buy", "More", "Weyland", "Yutani", "Kwik", "Mart", "Sirius", "Duff", "Nordic", "Summit", "Harbor", "Cedar", "Pine", "Maple", "Granite", "Silver", "Golden", "Evergreen", "Riverside", "Lakeview", "Hillcrest", "Sunrise", "Coastal", "Metro", "Urban", "Prairie", "Keystone", "Pioneer", "Liberty", "Heritage", "Crown", "Beacon", "Anchor", "Compass", "Horizon", "Atlas", "Apex"]
COMPANY_SUFFIXES = ["Inc", "LLC", "Realty", "Group", "Partners", "Homes", "Properties", "Co"]
SYLLABLES_ON = ["b", "br", "c", "ch", "d", "f", "g", "gr", "h", "k", "kl", "l", "m", "n", "p", "r", "s", "st", "t",
                "th", "v", "w", "z"]
SYLLABLES_NU = ["a", "e", "i", "o", "u", "ai", "ea", "ou", "y"]
SYLLABLES_CO = ["", "", "n", "r", "l", "s", "t", "rd", "ck", "nd", "m", "x"]


def _weights(n: int, power: float) -> list[float]:
    return [1 / (rank + 1) ** power for rank in range(n)]


def _made_up(rng: random.Random, syllables: int) -> str:
    return "".join(rng.choice(SYLLABLES_ON) + rng.choice(SYLLABLES_NU) + rng.choice(SYLLABLES_CO)
                   for _ in range(syllables)).title()


class _Names:
    """First names and surnames with falling frequency, plus a tail of rare made-up ones."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.first_w = _weights(len(FIRST_NAMES), 0.6)
        self.last_w = _weights(len(SURNAMES), 0.7)

    def first(self) -> str:
        if self.rng.random() < 0.08:
            return _made_up(self.rng, 2)
        return self.rng.choices(FIRST_NAMES, self.first_w)[0]

    def last(self) -> str:
        if self.rng.random() < 0.45:
            return _made_up(self.rng, self.rng.choice((2, 2, 3)))
        return self.rng.choices(SURNAMES, self.last_w)[0]


def fast_id(rng: random.Random, prefix: str) -> str:
    return f"{prefix}_" + "".join(rng.choices(string.ascii_letters + string.digits, k=24))


class _Workspace:
    """What was generated, for drawing queries from."""

    def __init__(self) -> None:
        self.people: list[tuple[str, str]] = []  # (first, last)
        self.households: list[str] = []  # surnames
        self.companies: list[tuple[str, str]] = []  # (company name, a first name of its people)


def build(url: str, n: int, seed: int = 7) -> tuple[Ctx, _Workspace]:
    """One workspace of n contacts, written with core inserts in the services' shape."""
    factory = make_sessionmaker(make_engine(url))
    with transaction(factory) as session:
        ws = create_organization(session, "Bench Realty", f"bench{n}@bench.test", "Bea", "Bench")
    org, user = ws.organization_id, ws.user_id
    rng, names, made = random.Random(seed), _Names(random.Random(seed + 1)), _Workspace()
    now = utcnow()
    leads, contacts, phones, threads, tokens = [], [], [], [], []
    phone_no = 0

    def lead(name: str, at) -> str:
        lead_id = fast_id(rng, "lead")
        leads.append({"id": lead_id, "organization_id": org, "name": name, "description": "", "url": None,
                      "custom": {}, "created_by": user, "updated_by": user, "date_created": at, "date_updated": at})
        return lead_id

    def contact(lead_id: str, first: str, last: str, at) -> str:
        nonlocal phone_no
        contact_id = fast_id(rng, "cont")
        name = f"{first} {last}"
        contacts.append({"id": contact_id, "organization_id": org, "lead_id": lead_id, "name": name, "title": "",
                         "custom": {}, "do_not_call": False, "created_by": user, "updated_by": user,
                         "date_created": at, "date_updated": at})
        kinds = ["fax"] if rng.random() < 0.03 else ["mobile"] + (["office"] if rng.random() < 0.2 else [])
        for position, kind in enumerate(kinds):
            phone_no += 1
            phones.append({"organization_id": org, "contact_id": contact_id, "phone": f"+1415{phone_no:07d}",
                           "type": kind, "position": position})
        if rng.random() < 0.4:
            last_at = now - timedelta(seconds=rng.randrange(365 * 86400))
            threads.append({"id": fast_id(rng, "thrd"), "organization_id": org, "contact_id": contact_id,
                            "lead_id": lead_id, "assignee_id": None, "status": "open", "last_activity_at": last_at,
                            "last_inbound_at": None, "date_created": at, "date_updated": at})
        tokens.extend(token_rows(org, lead_id, name, contact_id))
        made.people.append((first, last))
        return contact_id

    while len(contacts) < n:
        at = now - timedelta(seconds=rng.randrange(3 * 365 * 86400))
        kind = rng.random()
        if kind < 0.75:  # create_contact without a lead: a lead named after the person, not indexed by name
            first, last = names.first(), names.last()
            contact(lead(f"{first} {last}", at), first, last, at)
        elif kind < 0.9:  # a household
            last = names.last()
            name = rng.choice([f"The {last}s", f"{last} Family", f"{last} household"])
            lead_id = lead(name, at)
            tokens.extend(token_rows(org, lead_id, name))
            firsts = [names.first() for _ in range(rng.randint(2, 4))]
            for first in firsts:
                contact(lead_id, first, last, at)
            tokens.extend(shared_name_rows(org, lead_id, [f"{first} {last}" for first in firsts]))
            made.households.append(last)
        else:  # a company
            word = rng.choice(COMPANY_WORDS) if rng.random() < 0.5 else _made_up(rng, 2)
            name = f"{word} {rng.choice(COMPANY_SUFFIXES)}"
            lead_id = lead(name, at)
            tokens.extend(token_rows(org, lead_id, name))
            firsts = [names.first() for _ in range(rng.randint(2, 6))]
            people = [(first, names.last()) for first in firsts]
            for first, last in people:
                contact(lead_id, first, last, at)
            tokens.extend(shared_name_rows(org, lead_id, [f"{first} {last}" for first, last in people]))
            made.companies.append((word, rng.choice(firsts)))
    engine = factory.kw["bind"]
    words = word_rows(tokens)
    with engine.begin() as conn:
        for table, rows in ((Lead, leads), (Contact, contacts), (ContactPhone, phones), (Thread, threads),
                            (NameToken, tokens), (NameWord, words), (NameWordKey, word_key_rows(words))):
            for i in range(0, len(rows), 5_000):
                conn.execute(insert(table), rows[i:i + 5_000])
        conn.execute(insert(SmsTemplate), [
            {"id": fast_id(rng, "smstmpl"), "organization_id": org, "name": f"{a} {b}", "text": "Hi {{name}}",
             "is_shared": True, "status": "active", "user_id": user, "created_by": user, "updated_by": user,
             "date_created": now, "date_updated": now}
            for a in ("Showing", "Closing", "Open house", "Price", "Offer", "Listing", "Welcome", "Follow up", "Rent",
                      "Inspection", "Appraisal", "Escrow") for b in ("confirmation", "reminder", "update", "thanks",
                                                                      "notice", "follow-up", "invite", "receipt")])
    settle(engine)
    engine.dispose()
    return Ctx(organization_id=org, user_id=user, channel="chat"), made


@dataclass(frozen=True)
class _Kept:
    """A workspace built before in this process: a copy of its SQLite file, or a PostgreSQL database to clone."""

    copy: str
    ctx: Ctx
    made: _Workspace


_BUILT: dict[tuple[str, int, int], _Kept] = {}


@contextmanager
def built_workspace(kind: str, n: int, seed: int = 7) -> Iterator[tuple[str, Ctx, _Workspace, float]]:
    """A temporary database holding one workspace of n contacts (build), and the seconds it took to make.

    A workspace built before in this process is copied instead of built again (a file copy on SQLite, CREATE DATABASE
    ... TEMPLATE on PostgreSQL): the draft, resolution and search benchmarks time the same ones, and building the
    largest takes 25-70 s."""
    start = time.perf_counter()
    kept = _BUILT.get((kind, n, seed))
    with temp_database(kind, template=kept.copy if kept and kind != "sqlite" else None) as url:
        if kept is None:
            ctx, made = build(url, n, seed)
            kept = _BUILT[(kind, n, seed)] = _Kept(_keep(kind, url, n, seed), ctx, made)
        elif kind == "sqlite":
            shutil.copyfile(kept.copy, _sqlite_path(url))
        yield url, kept.ctx, kept.made, time.perf_counter() - start


def _keep(kind: str, url: str, n: int, seed: int) -> str:
    """A copy of the database just built, for the next benchmark that needs it: a file, or a database name."""
    if kind == "sqlite":
        path = _built_dir() / f"{n}_{seed}.db"
        shutil.copyfile(_sqlite_path(url), path)
        return str(path)
    name = f"cody_bench_built_{n}_{seed}_{uuid.uuid4().hex[:6]}"
    pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{url.rsplit("/", 1)[1]}"')
    atexit.register(pg_admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return name


def _sqlite_path(url: str) -> Path:
    """The file of a temp_database SQLite URL; no connection to it is open between benchmarks (build and the
    migration dispose their engines), so it is whole without its -wal file."""
    path = Path(url.removeprefix("sqlite:///"))
    if path.with_name(path.name + "-wal").exists():
        raise RuntimeError(f"{path} has a write-ahead log: a connection is still open")
    return path


@lru_cache(maxsize=1)
def _built_dir() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="cody_bench_built_"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 4:
        return word + rng.choice("aeiou")
    i = rng.randrange(1, len(word) - 1)
    change = rng.choice(("swap", "drop", "letter"))
    if change == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if change == "drop":
        return word[:i] + word[i + 1:]
    return word[:i] + rng.choice(string.ascii_lowercase) + word[i + 1:]


def queries(made: _Workspace, seed: int = 11) -> list[tuple[str, str]]:
    """(class, query) pairs drawn from the workspace's own people, households and companies."""
    rng = random.Random(seed)
    out = []
    for _ in range(CLASSES["first"]):
        out.append(("first", rng.choice(made.people)[0]))
    for _ in range(CLASSES["full"]):
        out.append(("full", " ".join(rng.choice(made.people))))
    for _ in range(CLASSES["last"]):
        out.append(("last", rng.choice(made.people)[1]))
    for _ in range(CLASSES["typo"]):
        first, last = rng.choice(made.people)
        out.append(("typo", _typo(rng, first) if rng.random() < 0.5 else f"{first} {_typo(rng, last)}"))
    for _ in range(CLASSES["household"]):
        surname = rng.choice(made.households)
        out.append(("household", rng.choice([f"the {surname}s", f"the {surname} family", f"{surname} household"])))
    for _ in range(CLASSES["company"]):
        company, first = rng.choice(made.companies)
        out.append(("company", f"{first} from {company}"))
    return out


def _like_scan(session, ctx: Ctx, word: str) -> list:
    low = func.lower(Contact.name)
    return session.execute(select(Contact.id, Contact.name).where(
        Contact.organization_id == ctx.organization_id,
        or_(low.like(f"{word.lower()}%"), low.like(f"% {word.lower()}%")))).all()


class _Samples:
    """Latencies of one set of queries: every timed call (wall and this thread's CPU), and each query's best."""

    def __init__(self, items: int) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self.best = [float("inf")] * items  # per query, the fastest of its REPEAT calls: scheduler noise mostly removed


def _round(factory, fn, items, out: _Samples) -> None:
    """Each item once, one session each, as a request would."""
    for i, item in enumerate(items):
        with factory() as session:
            start, cpu = time.perf_counter(), time.thread_time()
            fn(session, item)
            elapsed = time.perf_counter() - start
            out.wall.append(elapsed)
            out.cpu.append(time.thread_time() - cpu)
            out.best[i] = min(out.best[i], elapsed)


def _warm(factory, fn, items) -> None:
    """Statement caches, pages."""
    for item in items:
        with factory() as session:
            fn(session, item)


def _time(factory, fn, items, repeat: int) -> _Samples:
    _warm(factory, fn, items)
    out = _Samples(len(items))
    for _ in range(repeat):
        _round(factory, fn, items, out)
    return out


@dataclass
class _Size:
    """One size's workspace, open for timing."""

    n: int
    ctx: Ctx
    factory: sessionmaker
    asked: list[tuple[str, str]]
    built: float  # seconds
    per_class: dict[str, _Samples] = field(init=False)  # filled by the timed rounds

    def __post_init__(self) -> None:
        self.per_class = {cls: _Samples(len(self.by_class(cls))) for cls in CLASSES}

    def by_class(self, cls: str) -> list[str]:
        return [q for c, q in self.asked if c == cls]

    def resolve(self, session, q: str):
        return resolve_recipient(session, self.ctx, q)


def _open(stack: ExitStack, kind: str, n: int) -> _Size:
    url, ctx, made, built = stack.enter_context(built_workspace(kind, n))
    engine = make_engine(url)
    stack.callback(engine.dispose)  # before the database is dropped
    return _Size(n, ctx, make_sessionmaker(engine), queries(made), built)


def _outcomes(size: _Size) -> dict[str, int]:
    """How the queries resolved; resolving each once also warms the statement caches and pages."""
    outcomes = {"unique": 0, "ambiguous": 0, "none": 0}
    with size.factory() as session:
        for _, q in size.asked:
            r = size.resolve(session, q)
            outcomes["unique" if r.unique else "ambiguous" if r.ambiguous else "none"] += 1
    return outcomes


def _measure(kind: str, sizes: tuple[int, ...]) -> dict[int, dict]:
    """Every size's workspace built first, then timed in interleaved rounds (each round every size, every class),
    so that the machine's slower spells, which can halve its speed for a minute, fall on every size alike and the
    growth ratio compares like with like. The baselines and ANALYZE follow, size by size."""
    with ExitStack() as stack:
        opened = [_open(stack, kind, n) for n in sizes]
        outcomes = {size.n: _outcomes(size) for size in opened}
        for _ in range(REPEAT):
            for size in opened:
                for cls, samples in size.per_class.items():
                    _round(size.factory, size.resolve, size.by_class(cls), samples)
        return {size.n: _afterwards(kind, size, outcomes[size.n], analyze=size.n == sizes[-1]) for size in opened}


def _afterwards(kind: str, size: _Size, outcomes: dict[str, int], analyze: bool) -> dict:
    """The size's baseline (the LIKE scan), its templates and, for SQLite's largest, the same queries after ANALYZE."""
    ctx, factory = size.ctx, size.factory
    firsts = size.by_class("first")[:10 if size.n > 10_000 else 20]
    like = _time(factory, lambda s, q: _like_scan(s, ctx, q), firsts, 1)
    template_names = ["showing confirmation", "the open house invite", "escrow reciept", "follow up", "rent"]
    templates = _time(factory, lambda s, q: resolve_template(s, ctx, q), template_names * 4, REPEAT)
    analyzed = None
    if analyze and kind == "sqlite":  # the planner's statistics, as ANALYZE or PRAGMA optimize leave them
        engine = factory.kw["bind"]
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
        engine.dispose()
        analyzed = _time(factory, size.resolve, [q for _, q in size.asked], REPEAT)
    return {"per_class": size.per_class, "like": like, "templates": templates, "built": size.built,
            "outcomes": outcomes, "analyzed": analyzed}


def run(quick: bool, databases: list[str] | None = None) -> list[Figure]:
    sizes = QUICK_SIZES if quick else SIZES
    figures: list[Figure] = []
    for kind in database_kinds(databases):
        p99s, best_p99s = {}, {}
        measured = _measure(kind, sizes)
        for n in sizes:
            m = measured[n]
            classes = m["per_class"].values()
            p50, p99 = percentiles_ms([s for c in classes for s in c.wall])
            best50, best99 = percentiles_ms([s for c in classes for s in c.best])
            cpu50, cpu99 = percentiles_ms([s for c in classes for s in c.cpu])
            like50, _ = percentiles_ms(m["like"].wall)
            p99s[n], best_p99s[n] = p99, best99
            by_class = ", ".join(f"{name} {percentiles_ms(c.best)[1]:.1f}" for name, c in m["per_class"].items())
            o = m["outcomes"]
            cpu = f"; this thread's CPU p50 {cpu50:.2f} p99 {cpu99:.2f}" if kind == "sqlite" else ""
            figures.append(Figure(
                group="resolve", name=f"recipient, {n:,} contacts ({kind})", value=p50, unit="ms p50",
                baseline=like50, baseline_name="LIKE scan p50", p50_ms=p50, p99_ms=p99, higher_is_better=False,
                note=(f"best of {REPEAT} per query: p50 {best50:.2f} p99 {best99:.2f} (p99 by kind: {by_class})"
                      f"{cpu}; {o['unique']} unique, {o['ambiguous']} questions, {o['none']} none of "
                      f"{sum(o.values())}; made in {m['built']:.0f} s, copied if built before in this run")))
            if m["analyzed"] is not None:
                a50, a99 = percentiles_ms(m["analyzed"].wall)
                figures.append(Figure(
                    group="resolve", name=f"recipient, {n:,} contacts, after ANALYZE ({kind})", value=a50,
                    unit="ms p50", baseline=p50, baseline_name="before ANALYZE", p50_ms=a50, p99_ms=a99,
                    higher_is_better=False,
                    note=f"best of {REPEAT} per query p99 {percentiles_ms(m['analyzed'].best)[1]:.2f}; the same "
                         f"queries once the planner has statistics (ANALYZE, PRAGMA optimize)"))
            if n == sizes[-1]:
                t50, t99 = percentiles_ms(m["templates"].wall)
                figures.append(Figure(group="resolve", name=f"template, 96 templates ({kind})", value=t50,
                                      unit="ms p50", p50_ms=t50, p99_ms=t99, higher_is_better=False))
        small, large = sizes[0], sizes[-1]
        figures.append(Figure(
            group="resolve", name=f"recipient p99 growth {large // 1000}k vs {small // 1000}k ({kind})",
            value=p99s[large], unit="ms p99", baseline=p99s[small], baseline_name=f"{small:,} contacts",
            higher_is_better=False,
            note=(f"best of {REPEAT} per query: {best_p99s[large]:.2f} vs {best_p99s[small]:.2f} ms "
                  f"({best_p99s[large] / best_p99s[small]:.2f}x); targets at {SIZES[-1]:,}: "
                  f"p99 < {TARGET_P99_MS:.0f} ms and < {TARGET_GROWTH:.0f}x")))
    return figures

if __name__ == "__main__":
    from rich.console import Console

    from bench.__main__ import render

    Console(width=200).print(render(run(quick=False)))
