"""Demo estate: three incompatible legacy back-office apps with seeded data.

``seed_estate`` writes into ``data_dir``:

* ``crm.db`` - SQLite CRM with one table ``CUST``: terse uppercase columns,
  everything TEXT, free-form phone numbers, ``DD.MM.YYYY`` birth dates,
  decimal-comma credit limits, sloppy name casing/whitespace, ~10% German
  customers next to the Ukrainian ones.
* ``hr.db`` - SQLite HR system with snake_case tables ``employees``,
  ``sick_leave``, ``background_checks``, ``litigation_holds`` and
  ``garnishments``; deliberately full of special-category and otherwise
  sensitive data (health, criminal records, IBANs, court orders) so the
  data-sharing policies have something real to protect.
* ``inventory/export/ITEMS_20261101.TXT`` and ``STOCK_20261101.TXT`` -
  fixed-width, cp1251, CRLF exports of an old warehouse system with
  Ukrainian product names.
* ``accounting.db`` - SQLite accounting app with one table ``DEBTORS``
  ("Last, First" names, its own ids ``D-10001``, a status column that marks
  closed accounts).  About 40% of the CRM's customers are debtors too, some
  under another spelling and without contact details, so the identity rules
  have something to link, and a few near-duplicates for the review queue;
  ``SeedSummary.identity`` says which row is meant to end where.  It also
  keeps ``SUPPLIERS`` (companies with a ЄДРПОУ registration number) and sales
  ``INVOICES`` that name their debtor by its ``ACCT_NO``.
* ``quality.db`` - SQLite quality-control app: ``LOTS`` of products (by the
  inventory's SKU) and ``INSPECTIONS`` of lots by an HR employee, with a note
  on the inspector's health where it limits the work (medical data).

One HR employee under an active litigation hold also has a staff purchase
account in the CRM (same name and e-mail), so an erasure request for that
person must spare the employee record.

Each stream carries a few deliberately broken rows (one defect per row) so
validation and quarantine paths can be demonstrated; ``SeedSummary.dirty``
says how many per stream.  Output is deterministic: Faker instances are
seeded with ``seed_instance``, all other randomness comes from private
``random.Random`` instances, and every timestamp derives from ``BASE_DATE``
rather than the clock, so two runs produce byte-identical files.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path

import phonenumbers
from faker import Faker

__all__ = ["BASE_DATE", "IdentityCases", "SeedSummary", "Subject", "seed_estate"]

BASE_DATE = date(2026, 11, 1)
_BASE_DT = datetime.combine(BASE_DATE, datetime.min.time())
_DIRTY_SHARE = 0.02


@dataclass(frozen=True)
class Subject:
    """A person for the data-subject walk-through: an e-mail to search by and their id per system."""

    email: str
    ids: dict[str, str]


@dataclass(frozen=True)
class IdentityCases:
    """What the demo's identity rules are meant to do with each accounting debtor.

    ``by_key``, ``by_fuzzy`` and ``review`` map a debtor's ``ACCT_NO`` to the CRM
    ``CUSTNO`` of the customer it is (or, for review, may be); ``new`` are debtors
    only accounting knows, ``closed`` accounts it reports deleted.  ``held`` is an
    employee under an active litigation hold who is also a CRM customer; ``erasable``
    a customer in the CRM and accounting whom an erasure request removes everywhere.
    """

    by_key: dict[str, str] = field(default_factory=dict)
    by_fuzzy: dict[str, str] = field(default_factory=dict)
    review: dict[str, str] = field(default_factory=dict)
    new: tuple[str, ...] = ()
    closed: tuple[str, ...] = ()
    held: Subject | None = None
    erasable: Subject | None = None


@dataclass(frozen=True)
class SeedSummary:
    """Rows written per app (dirty rows included), dirty rows per stream, and the identity cases."""

    customers: int
    employees: int
    products: int
    dirty: dict[str, int]
    debtors: int = 0
    identity: IdentityCases = field(default_factory=IdentityCases)


def seed_estate(
    data_dir: Path,
    *,
    customers: int = 500,
    employees: int = 120,
    products: int = 200,
    seed: int = 20261128,
) -> SeedSummary:
    """(Re)create the demo estate in ``data_dir`` and describe what was written."""
    data_dir = Path(data_dir)
    _reset(data_dir)
    crm, crm_dirty = _crm_customers(customers, seed)
    dirty: dict[str, int] = {"crm.CUST": len(crm_dirty)}
    hr_dirty, held_employee, inspectors = _seed_hr(data_dir / "hr.db", employees, seed)
    dirty.update(hr_dirty)
    inventory_dirty, clean_skus = _seed_inventory(data_dir / "inventory" / "export", products, seed)
    dirty.update(inventory_dirty)
    clean = [row for i, row in enumerate(crm) if i not in crm_dirty]
    held = _staff_purchase_account(clean, held_employee, seed)
    _write_db(data_dir / "crm.db", _CRM_DDL, [("CUST", [tuple(row.values()) for row in crm])])
    debtors, cases = _seed_accounting(data_dir / "accounting.db", clean, seed)
    dirty.update(_seed_ledger(data_dir / "accounting.db", _open_accounts(debtors, cases), seed))
    dirty.update(_seed_quality(data_dir / "quality.db", clean_skus, inspectors, seed))
    dirty = {stream: n for stream, n in dirty.items() if n}
    return SeedSummary(customers, employees, products, dirty, debtors, replace(cases, held=held))


# --------------------------------------------------------------------------
# shared helpers


def _reset(data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    # Sidecars of an interrupted earlier run would be replayed onto the new db.
    for name in ("crm.db", "hr.db", "accounting.db", "quality.db"):
        for suffix in ("", "-journal", "-wal", "-shm"):
            (data_dir / f"{name}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(data_dir / "inventory", ignore_errors=True)


def _rng(seed: int, app: str) -> random.Random:
    # One stream per app, so changing how one app is generated does not
    # reshuffle the data of the other two.  String seeds hash via SHA-512,
    # which is stable across processes (unlike hash()).
    return random.Random(f"{seed}/{app}")


def _faker(locale: str, seed: int, app: str) -> Faker:
    fake = Faker(locale)
    # Same reasoning as _rng; a shared seed would also give HR employees the
    # exact street addresses of the first CRM customers.
    fake.seed_instance(f"{seed}/{app}/{locale}")
    return fake


def _dirty_plan(rng: random.Random, n: int, minimum: int, kinds: Sequence[str]) -> dict[int, str]:
    """Map row index -> defect kind for a deterministic ~2% sample of rows."""
    count = min(n, max(minimum, round(n * _DIRTY_SHARE)))
    rows = sorted(rng.sample(range(n), count))
    return {row: kinds[i % len(kinds)] for i, row in enumerate(rows)}


def _pick(rng: random.Random, items: Sequence, share: float, minimum: int = 0) -> list:
    count = min(len(items), max(minimum, round(len(items) * share)))
    return sorted(rng.sample(list(items), count))


def _day_between(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randint(0, max(0, (end - start).days)))


def _moment_between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    span = int((end - start).total_seconds())
    return start + timedelta(seconds=rng.randint(0, max(0, span - 1)))


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _comma(value: float, decimals: int = 2) -> str:
    return f"{value:.{decimals}f}".replace(".", ",")


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


_TRANSLIT = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e",
        "є": "ie", "ж": "zh", "з": "z", "и": "y", "і": "i", "ї": "i", "й": "i",
        "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
        "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch",
        "ш": "sh", "щ": "shch", "ь": "", "ю": "iu", "я": "ia",
        "ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss",
    }
)  # fmt: skip


def _ascii_slug(text: str) -> str:
    latin = text.lower().translate(_TRANSLIT)
    return "".join(ch for ch in latin if ch.isascii() and ch.isalnum())


def _write_db(path: Path, ddl: str, tables: Iterable[tuple[str, list[tuple]]]) -> None:
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(ddl)
        for table, rows in tables:
            if rows:
                marks = ",".join("?" * len(rows[0]))
                conn.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        conn.commit()


# --------------------------------------------------------------------------
# CRM

# CUSTNO is text: customers the hub writes back that the CRM never had get the
# hub's canonical id (a UUID) as their number.
_CRM_DDL = """
CREATE TABLE CUST (
    CUSTNO TEXT PRIMARY KEY, FNAME TEXT, LNAME TEXT, EMAIL TEXT,
    PHONE TEXT, BIRTH TEXT, STREET TEXT, CITY TEXT, ZIP TEXT, CTRY TEXT,
    SEGMENT TEXT, CREDIT_LIMIT TEXT, NOTES TEXT, LASTCHG TEXT
);
"""
_CRM_DEFECTS = ("email_no_at", "birth_feb_31", "phone_na", "name_empty", "ctry_xx")
_UA_CODES = (
    "044", "032", "048", "057", "056",  # landlines: Kyiv, Lviv, Odesa, Kharkiv, Dnipro
    "050", "063", "066", "067", "068", "073", "093", "095", "097",
)  # fmt: skip
_UA_PHONE_FORMATS: tuple[Callable[[str, str], str], ...] = (
    lambda c, d: f"({c}) {d[:3]}-{d[3:5]}-{d[5:]}",
    lambda c, d: f"{c} {d[:3]} {d[3:]}",
    lambda c, d: f"+380 {c[1:]} {d[:3]} {d[3:]}",
    lambda c, d: f"{c}{d}",
)
_DE_AREAS = ("30", "40", "89", "69", "221", "211", "711")
# Reserved (RFC 2606) domains only: demo mail must never reach a real inbox.
_MAIL_DOMAINS = {
    "UA": ("ukr.example", "mail.example.com", "example.net"),
    "DE": ("gmx.example", "web.example", "example.org"),
}
_SEGMENTS = (("A", 15, 50_000, 250_000), ("B", 35, 10_000, 50_000), ("C", 50, 1_000, 10_000))
_NOTES = (
    "prefers calls after {h}:00; asked about invoice {y}-{n:03d}",
    "VIP since {y}; send paper invoices to the billing address",
    "complained about late delivery of order {n}; offered 5% discount",
    "do not call on weekends; quotes by email only, cc accounting",
    "payment terms 30 days agreed in {y}; review again in Q{q}",
    "передзвонити після {h}:00, питання щодо рахунку {y}-{n:03d}",
    "постійний клієнт з {y} року; знижка 3% на фарби та лаки",
    "moved warehouse in {y}; deliveries to the new address from Q{q}",
)
# Nightly batch jobs stamp whole groups of rows with one identical LASTCHG.
_CRM_BATCH_STAMPS = ("2026-02-14 02:00:00", "2026-06-30 23:59:59", "2026-09-01 03:15:00")


def _crm_customers(n: int, seed: int) -> tuple[list[dict], set[int]]:
    """The CRM's rows (written later, after the staff purchase account is in) and the dirty row indexes."""
    rng = _rng(seed, "crm")
    fakers = {"UA": _faker("uk_UA", seed, "crm"), "DE": _faker("de_DE", seed, "crm")}
    plan = _dirty_plan(rng, n, 5, _CRM_DEFECTS)
    return [_customer(rng, fakers, 100001 + i, plan.get(i)) for i in range(n)], set(plan)


def _customer(rng: random.Random, fakers: dict[str, Faker], custno: int, defect: str | None) -> dict:
    country = "DE" if rng.random() < 0.10 else "UA"
    fake = fakers[country]
    first, last = fake.first_name(), fake.last_name()
    segment, limit = _segment(rng)
    row = {
        "CUSTNO": str(custno), "FNAME": _sloppy(rng, first), "LNAME": _sloppy(rng, last),
        "EMAIL": _customer_email(rng, first, last, country), "PHONE": _customer_phone(rng, country),
        "BIRTH": _day_between(rng, date(1950, 1, 1), date(2005, 12, 31)).strftime("%d.%m.%Y"),
        "STREET": fake.street_address(), "CITY": fake.city(), "ZIP": fake.postcode(),
        "CTRY": country.lower() if rng.random() < 0.03 else country,
        "SEGMENT": segment, "CREDIT_LIMIT": limit, "NOTES": _note(rng), "LASTCHG": _lastchg(rng),
    }  # fmt: skip
    if defect:
        _spoil_customer(row, defect)
    return row


def _spoil_customer(row: dict, defect: str) -> None:
    if defect == "email_no_at":
        row["EMAIL"] = row["EMAIL"].replace("@", "(at)")
    elif defect == "birth_feb_31":
        row["BIRTH"] = "31.02.1987"
    elif defect == "phone_na":
        row["PHONE"] = "n/a"
    elif defect == "name_empty":  # a first name alone would be a name; neither is none
        row["FNAME"] = row["LNAME"] = ""
    elif defect == "ctry_xx":
        row["CTRY"] = "XX"


def _sloppy(rng: random.Random, name: str) -> str:
    # Legacy entry screens never trimmed and some clerks typed in caps lock.
    roll = rng.random()
    if roll < 0.03:
        return f" {name}"
    if roll < 0.06:
        return f"{name}  "
    if roll < 0.09:
        return name.upper()
    return name


def _customer_email(rng: random.Random, first: str, last: str, country: str) -> str:
    local = f"{_ascii_slug(first)}.{_ascii_slug(last)}"
    if rng.random() < 0.4:
        local += str(rng.randint(1, 99))
    return f"{local}@{rng.choice(_MAIL_DOMAINS[country])}"


def _customer_phone(rng: random.Random, country: str) -> str:
    if country == "DE":
        return f"+49 {rng.choice(_DE_AREAS)} {_digits(rng, rng.randint(6, 8))}"
    fmt = rng.choice(_UA_PHONE_FORMATS)
    return fmt(rng.choice(_UA_CODES), _digits(rng, 7))


def _segment(rng: random.Random) -> tuple[str, str]:
    code, _, low, high = rng.choices(_SEGMENTS, weights=[s[1] for s in _SEGMENTS])[0]
    return code, _comma(rng.randrange(low, high + 1, 500))


def _note(rng: random.Random) -> str:
    template = rng.choice(_NOTES)
    return template.format(
        h=rng.randint(9, 18), y=rng.randint(2019, 2026), n=rng.randint(1, 999), q=rng.randint(1, 4)
    )


def _lastchg(rng: random.Random) -> str:
    if rng.random() < 0.10:
        return rng.choice(_CRM_BATCH_STAMPS)
    return _stamp(_moment_between(rng, datetime(2026, 1, 1), _BASE_DT))


def _staff_purchase_account(clean: list[dict], employee: dict | None, seed: int) -> Subject | None:
    """Turn one clean CRM customer into ``employee``'s staff purchase account (same name and e-mail).

    The row is removed from ``clean`` so that accounting never lists it: the person is
    a customer and an employee, nothing more.  None when there is no such pair to make.
    """
    if employee is None or not clean:
        return None
    row = _rng(seed, "staff-account").choice(clean)
    clean.remove(row)
    row.update({
        "FNAME": employee["first_name"], "LNAME": employee["last_name"], "EMAIL": employee["email"],
        "PHONE": employee["phone"], "BIRTH": date.fromisoformat(employee["birth_date"]).strftime("%d.%m.%Y"),
        "STREET": employee["street"], "CITY": employee["city"], "ZIP": employee["postal_code"], "CTRY": "UA",
        "NOTES": "staff purchase account: 15% employee discount, pay by card",
    })  # fmt: skip
    return Subject(employee["email"], {"hr": employee["emp_id"], "crm": row["CUSTNO"]})


# --------------------------------------------------------------------------
# HR

_HR_DDL = """
CREATE TABLE employees (
    emp_id TEXT PRIMARY KEY, first_name TEXT, last_name TEXT, email TEXT,
    phone TEXT, birth_date TEXT, hire_date TEXT, department TEXT,
    job_title TEXT, salary_amount REAL, salary_currency TEXT, iban TEXT,
    street TEXT, city TEXT, postal_code TEXT, country TEXT,
    occ_health_restriction TEXT NULL, updated_at TEXT
);
CREATE TABLE sick_leave (
    id INTEGER PRIMARY KEY, emp_id TEXT, start_date TEXT, end_date TEXT,
    diagnosis_code TEXT, certified INTEGER
);
CREATE TABLE background_checks (
    emp_id TEXT PRIMARY KEY, outcome TEXT, checked_on TEXT
);
CREATE TABLE litigation_holds (
    emp_id TEXT PRIMARY KEY, matter_ref TEXT, since TEXT, active INTEGER
);
CREATE TABLE garnishments (
    id INTEGER PRIMARY KEY, emp_id TEXT, court_order_ref TEXT, amount REAL,
    currency TEXT, since TEXT
);
"""
_HR_DEFECTS = ("hire_date_invalid", "name_empty", "email_invalid")
# department -> (weight, [(job title, monthly salary range UAH)])
_DEPARTMENTS = {
    "Warehouse": (30, [("Warehouse Operator", 18_000, 26_000), ("Forklift Driver", 22_000, 30_000),
                       ("Shift Supervisor", 30_000, 42_000)]),
    "Sales": (20, [("Sales Manager", 28_000, 55_000), ("Key Account Manager", 45_000, 80_000)]),
    "Finance": (10, [("Accountant", 25_000, 38_000), ("Senior Accountant", 38_000, 55_000),
                     ("Finance Controller", 60_000, 90_000)]),
    "Logistics": (15, [("Dispatcher", 20_000, 30_000), ("Driver", 22_000, 32_000)]),
    "Customer Service": (12, [("Support Agent", 17_000, 25_000), ("Team Lead", 30_000, 40_000)]),
    "IT": (8, [("System Administrator", 40_000, 70_000), ("Developer", 60_000, 120_000)]),
    "Human Resources": (5, [("HR Generalist", 26_000, 40_000), ("Payroll Specialist", 30_000, 45_000)]),
}  # fmt: skip
_MOBILE_CODES = ("50", "63", "66", "67", "68", "73", "93", "95", "96", "97", "98", "99")
_BANK_CODES = ("305299", "322001", "300465", "380805", "351005", "300528")
_RESTRICTIONS = (
    "no lifting over 10 kg", "no night shifts", "no work at height",
    "no forklift operation", "seated work only", "screen work max 4 h/day",
)  # fmt: skip
_ICD10 = ("J06.9", "J11.1", "J20.9", "M54.5", "A09", "K52.9", "S93.4", "I10", "R51", "B34.9", "U07.1")
# The HR app only got an audit column in 2020; older rows were backfilled.
_LAST_EDITS = date(2020, 1, 1)


def _seed_hr(path: Path, n: int, seed: int) -> tuple[dict[str, int], dict | None, list[str]]:
    """Write the HR database; returns the dirty counts, the first employee under an active hold and the
    ids of the clean employees of the quality department (the inspectors)."""
    rng = _rng(seed, "hr")
    fake = _faker("uk_UA", seed, "hr")
    plan = _dirty_plan(rng, n, 3, _HR_DEFECTS)
    staff = [_employee(rng, fake, f"E{i + 1:05d}", plan.get(i)) for i in range(n)]
    clean = [emp for i, emp in enumerate(staff) if i not in plan]
    # One random stream for the whole app: these calls must keep their order.
    sick = _sick_leave(rng, clean)
    checks = _background_checks(rng, clean)
    holds = _litigation_holds(rng, clean)
    tables = [
        ("employees", [tuple(emp.values()) for emp in staff]),
        ("sick_leave", sick),
        ("background_checks", checks),
        ("litigation_holds", holds),
        ("garnishments", _garnishments(rng, clean)),
    ]
    _write_db(path, _HR_DDL, tables)
    held = next((emp_id for emp_id, _, _, active in holds if active), None)
    inspectors = [emp["emp_id"] for emp in clean][:_INSPECTORS]
    return ({"hr.employees": len(plan), "hr.sick_leave": 1}, next((e for e in clean if e["emp_id"] == held), None),
            inspectors)


def _employee(rng: random.Random, fake: Faker, emp_id: str, defect: str | None) -> dict:
    female = rng.random() < 0.45
    first = fake.first_name_female() if female else fake.first_name_male()
    last = fake.last_name_female() if female else fake.last_name_male()
    birth = _day_between(rng, date(1962, 1, 1), date(2005, 6, 30))
    # Jan 1st of the year after the 18th birthday: avoids Feb 29 arithmetic.
    earliest_hire = max(date(birth.year + 19, 1, 1), date(2008, 1, 1))
    hire = _day_between(rng, earliest_hire, BASE_DATE - timedelta(days=14))
    department, title, salary = _job(rng)
    emp = {
        "emp_id": emp_id, "first_name": first, "last_name": last,
        "email": f"{_ascii_slug(first)[:1]}.{_ascii_slug(last)}.{emp_id[1:]}@officehub-demo.example",
        "phone": _employee_phone(rng), "birth_date": birth.isoformat(), "hire_date": hire.isoformat(),
        "department": department, "job_title": title, "salary_amount": salary, "salary_currency": "UAH",
        "iban": _iban(rng), "street": fake.street_address(), "city": fake.city(),
        "postal_code": fake.postcode(), "country": "UA",
        "occ_health_restriction": rng.choice(_RESTRICTIONS) if rng.random() < 0.10 else None,
        "updated_at": _stamp(_moment_between(rng, _midnight(max(hire, _LAST_EDITS)), _BASE_DT)),
    }  # fmt: skip
    if defect:
        _spoil_employee(emp, defect)
    return emp


def _spoil_employee(emp: dict, defect: str) -> None:
    if defect == "hire_date_invalid":
        emp["hire_date"] = "2020-13-45"
    elif defect == "name_empty":
        emp["first_name"] = emp["last_name"] = ""
    elif defect == "email_invalid":
        emp["email"] = "nobody-at-example"


def _job(rng: random.Random) -> tuple[str, str, float]:
    names = list(_DEPARTMENTS)
    department = rng.choices(names, weights=[_DEPARTMENTS[d][0] for d in names])[0]
    title, low, high = rng.choice(_DEPARTMENTS[department][1])
    return department, title, float(rng.randrange(low, high + 1, 250))


def _employee_phone(rng: random.Random) -> str:
    number = f"+380{rng.choice(_MOBILE_CODES)}{_digits(rng, 7)}"
    # "Mostly clean": HR imported a handful of numbers with spaces left in.
    if rng.random() < 0.03:
        return f"{number[:4]} {number[4:6]} {number[6:9]} {number[9:]}"
    return number


def _iban(rng: random.Random) -> str:
    bban = rng.choice(_BANK_CODES) + "00000" + "2620" + _digits(rng, 10)
    return f"UA{_iban_check_digits('UA', bban)}{bban}"


def _iban_check_digits(country: str, bban: str) -> str:
    """ISO 13616 check digits: 98 - (BBAN + country + '00' as digits) mod 97."""
    rearranged = bban + country + "00"
    numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    return f"{98 - int(numeric) % 97:02d}"


def _sick_leave(rng: random.Random, clean: list[dict]) -> list[tuple]:
    rows = []
    for emp in _pick_emps(rng, clean, 0.40):
        for _ in range(rng.randint(1, 3)):
            rows.append(_sick_row(rng, emp["emp_id"], date.fromisoformat(emp["hire_date"])))
    # Ids follow entry order, which in the legacy app is chronological.
    rows.sort(key=lambda r: (r[1], r[0]))
    # An orphan left behind after its employee was purged from the master.
    rows.insert(rng.randint(0, len(rows)), _sick_row(rng, "E99999", date(2024, 1, 1)))
    return [(i + 1, *row) for i, row in enumerate(rows)]


def _sick_row(rng: random.Random, emp_id: str, hire: date) -> tuple:
    start = _day_between(rng, max(hire, date(2024, 1, 1)), BASE_DATE - timedelta(days=15))
    end = start + timedelta(days=rng.randint(0, 13))
    certified = 1 if rng.random() < 0.85 else 0
    return (emp_id, start.isoformat(), end.isoformat(), rng.choice(_ICD10), certified)


def _pick_emps(rng: random.Random, clean: list[dict], share: float, minimum: int = 0) -> list[dict]:
    by_id = {emp["emp_id"]: emp for emp in clean}
    return [by_id[emp_id] for emp_id in _pick(rng, list(by_id), share, minimum)]


def _background_checks(rng: random.Random, clean: list[dict]) -> list[tuple]:
    checked = _pick_emps(rng, clean, 0.70)
    outcomes = _outcomes(rng, len(checked))
    rows = []
    for emp, outcome in zip(checked, outcomes):
        # Checks run during onboarding; pending ones were requested recently.
        hire = date.fromisoformat(emp["hire_date"])
        if outcome == "pending":
            on = _day_between(rng, BASE_DATE - timedelta(days=30), BASE_DATE - timedelta(days=1))
        else:
            on = hire - timedelta(days=rng.randint(3, 30))
        rows.append((emp["emp_id"], outcome, on.isoformat()))
    return rows


def _outcomes(rng: random.Random, n: int) -> list[str]:
    found = min(n, max(1, round(n * 0.05))) if n else 0
    pending = min(n - found, round(n * 0.08))
    outcomes = ["record_found"] * found + ["pending"] * pending + ["clear"] * (n - found - pending)
    rng.shuffle(outcomes)
    return outcomes


def _litigation_holds(rng: random.Random, clean: list[dict]) -> list[tuple]:
    held = _pick_emps(rng, clean, 0.05, minimum=2)
    numbers = rng.sample(range(1, 300), len(held))
    rows = []
    for emp, number in zip(held, numbers):
        since = _day_between(rng, date(2023, 1, 1), BASE_DATE - timedelta(days=7))
        active = 1 if rng.random() < 0.8 else 0
        rows.append((emp["emp_id"], f"LIT-{since.year}-{number:03d}", since.isoformat(), active))
    if rows and not any(row[3] for row in rows):
        # The erasure walk-through needs one hold in force; most seeds have several anyway.
        rows[0] = (*rows[0][:3], 1)
    return rows


def _garnishments(rng: random.Random, clean: list[dict]) -> list[tuple]:
    rows = []
    for i, emp in enumerate(_pick_emps(rng, clean, 0.04, minimum=2)):
        since = _day_between(rng, date(2022, 1, 1), BASE_DATE - timedelta(days=7))
        # Ukrainian court case number: court / case / year, civil-case suffix.
        ref = f"{rng.randint(200, 990)}/{rng.randint(1000, 39999)}/{since.year % 100:02d}-ц"
        amount = round(rng.uniform(1_500, 12_000), 2)
        rows.append((i + 1, emp["emp_id"], ref, amount, "UAH", since.isoformat()))
    return rows


# --------------------------------------------------------------------------
# Accounting

_ACCOUNTING_DDL = """
CREATE TABLE DEBTORS (
    ACCT_NO TEXT PRIMARY KEY, NAME TEXT, MAIL TEXT, TEL TEXT, ADDR_LINE TEXT,
    POSTCODE TEXT, TOWN TEXT, COUNTRY TEXT, DOB TEXT, CHANGED TEXT,
    STATUS TEXT NOT NULL DEFAULT 'A'
);
"""
_OVERLAP_SHARE = 0.40  # of the CRM's clean customers who are debtors too
_FUZZY_SHARE = 0.25  # of those, kept under another spelling without e-mail or phone
_REVIEW_SHARE = 0.02  # of the CRM's clean customers: near-duplicates for the review queue
_ONLY_SHARE = 0.10  # debtors the CRM does not know, relative to its clean customers
_CLOSED = 2
# Near-duplicates, in turn: a birth date with day and month swapped; the same name in
# the same postcode and town with a post-office box for an address and no birth date;
# a respelled name with a swapped birth date.
_REVIEW_KINDS = ("swapped_birth", "po_box", "respelled_swapped_birth")
_PO_BOX = {"UA": "а/с {n}", "DE": "Postfach {n}"}
# Spellings a clerk typing Ukrainian names on a Russian keyboard layout produces.
_RESPELLINGS = (("ій", "ий"), ("і", "и"), ("є", "е"), ("ї", "и"), ("ґ", "г"))
_UMLAUTS = (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"), ("Ä", "Ae"), ("Ö", "Oe"), ("Ü", "Ue"))


def _seed_accounting(path: Path, crm: list[dict], seed: int) -> tuple[int, IdentityCases]:
    """Write the accounting database from the CRM's clean rows; returns its size and what should match."""
    rng = _rng(seed, "accounting")
    fakers = {"UA": _faker("uk_UA", seed, "accounting"), "DE": _faker("de_DE", seed, "accounting")}
    contacts = [(row["EMAIL"].lower(), _e164(row["PHONE"])) for row in crm]
    taken = {value for pair in contacts for value in pair}
    # A CRM e-mail or phone shared by two customers would link ambiguously: leave those out.
    used = Counter(value for pair in contacts for value in pair)
    eligible = [i for i, (email, phone) in enumerate(contacts) if used[email] == used[phone] == 1]
    kinds = _debtor_kinds(rng, crm, eligible)
    debtors = [(kind, row["CUSTNO"], _debtor(rng, kind, row, taken)) for row, kind in kinds]
    debtors += [("new", None, _new_debtor(rng, fakers, taken)) for _ in range(round(len(crm) * _ONLY_SHARE))]
    debtors += [("closed", None, {**_new_debtor(rng, fakers, taken), "STATUS": "X"}) for _ in range(_CLOSED)]
    # The accounting app numbered accounts as they were opened, not in CRM order.
    rng.shuffle(debtors)
    rows, meant = [], {}  # kind → {ACCT_NO: CUSTNO}
    for number, (kind, custno, debtor) in enumerate(debtors, start=10001):
        acct = f"D-{number}"
        rows.append(tuple({"ACCT_NO": acct, **debtor}.values()))
        meant.setdefault("review" if kind in _REVIEW_KINDS else kind, {})[acct] = custno
    _write_db(path, _ACCOUNTING_DDL, [("DEBTORS", rows)])
    cases = IdentityCases(
        by_key=meant.get("key", {}), by_fuzzy=meant.get("fuzzy", {}), review=meant.get("review", {}),
        new=tuple(meant.get("new", ())), closed=tuple(meant.get("closed", ())),
    )  # fmt: skip
    return len(rows), replace(cases, erasable=_erasable(cases, crm, rows))


def _open_accounts(debtors: int, cases: IdentityCases) -> list[str]:
    """The account numbers accounting keeps open (invoices are written against them)."""
    return [acct for acct in (f"D-{n}" for n in range(10001, 10001 + debtors)) if acct not in cases.closed]


def _debtor_kinds(rng: random.Random, crm: list[dict], eligible: list[int]) -> list[tuple[dict, str]]:
    """Which CRM customers are debtors too, and how accounting holds each one."""
    overlap = _pick(rng, eligible, _OVERLAP_SHARE)
    rng.shuffle(overlap)  # kinds by chance, not by customer number
    reviews = min(len(overlap), max(3, round(len(crm) * _REVIEW_SHARE)))
    kinds: dict[int, str] = {}
    for slot in range(reviews):
        kind = _REVIEW_KINDS[slot % len(_REVIEW_KINDS)]
        fits = [i for i in overlap if i not in kinds and (kind == "po_box" or _swappable(crm[i]["BIRTH"]))]
        kinds[fits[0] if fits else next(i for i in overlap if i not in kinds)] = kind if fits else "po_box"
    rest = [i for i in overlap if i not in kinds]
    fuzzy = round(len(overlap) * _FUZZY_SHARE)
    kinds.update(dict.fromkeys(rest[:fuzzy], "fuzzy"))
    kinds.update(dict.fromkeys(rest[fuzzy:], "key"))
    return [(crm[i], kinds[i]) for i in sorted(kinds)]


def _swappable(birth: str) -> bool:
    """A DD.MM.YYYY date that is another valid date with day and month swapped."""
    day, month = int(birth[:2]), int(birth[3:5])
    return day <= 12 and day != month


def _debtor(rng: random.Random, kind: str, row: dict, taken: set[str]) -> dict:
    """A CRM customer as accounting holds them, clean and in its own conventions."""
    first, last = _tidy_name(row["FNAME"]), _tidy_name(row["LNAME"])
    country = row["CTRY"].upper()
    birth = datetime.strptime(row["BIRTH"], "%d.%m.%Y").date()
    debtor = {
        "NAME": f"{last}, {first}", "MAIL": row["EMAIL"], "TEL": _tel(row["PHONE"]), "ADDR_LINE": row["STREET"],
        "POSTCODE": row["ZIP"], "TOWN": row["CITY"], "COUNTRY": country, "DOB": birth.isoformat(),
        "CHANGED": _changed(rng), "STATUS": "A",
    }  # fmt: skip
    if kind == "key":
        # Linked by e-mail, or by phone where accounting never recorded the e-mail.
        roll = rng.random()
        debtor["MAIL"] = None if roll < 0.15 else debtor["MAIL"]
        debtor["TEL"] = None if 0.15 <= roll < 0.45 else debtor["TEL"]
        return debtor
    debtor["MAIL"] = None
    debtor["TEL"] = _other_phone(rng, country, taken) if kind == "fuzzy" and rng.random() < 0.4 else None
    if kind in ("fuzzy", "respelled_swapped_birth"):
        first, last = _respell(first, last)
        debtor["NAME"] = f"{last}, {first}"
    if kind in ("swapped_birth", "respelled_swapped_birth"):
        debtor["DOB"] = f"{birth.year}-{birth.day:02d}-{birth.month:02d}"
    if kind == "po_box":
        debtor["DOB"] = None
        debtor["ADDR_LINE"] = _PO_BOX[country].format(n=rng.randint(1, 9999))
    return debtor


def _new_debtor(rng: random.Random, fakers: dict[str, Faker], taken: set[str]) -> dict:
    """A customer only accounting knows (invoiced once, never in the CRM)."""
    country = "DE" if rng.random() < 0.10 else "UA"
    fake = fakers[country]
    first, last = fake.first_name(), fake.last_name()
    email = _customer_email(rng, first, last, country)
    while email in taken:  # a namesake in the CRM must not link by e-mail
        email = email.replace("@", f"{rng.randint(0, 9)}@")
    taken.add(email)
    birth = _day_between(rng, date(1950, 1, 1), date(2005, 12, 31))
    return {
        "NAME": f"{last}, {first}", "MAIL": email, "TEL": _other_phone(rng, country, taken),
        "ADDR_LINE": fake.street_address(), "POSTCODE": fake.postcode(), "TOWN": fake.city(),
        "COUNTRY": country, "DOB": birth.isoformat(), "CHANGED": _changed(rng), "STATUS": "A",
    }  # fmt: skip


def _erasable(cases: IdentityCases, crm: list[dict], rows: list[tuple]) -> Subject | None:
    """The first debtor linked by e-mail: a customer in two systems, under no hold."""
    with_mail = {row[0] for row in rows if row[2]}
    acct = next((a for a in sorted(cases.by_key) if a in with_mail), None)
    if acct is None:
        return None
    custno = cases.by_key[acct]
    email = next(row["EMAIL"] for row in crm if row["CUSTNO"] == custno)
    return Subject(email, {"crm": custno, "accounting": acct})


def _tidy_name(name: str) -> str:
    """A CRM name as accounting's entry form stores it: trimmed, title case."""
    name = name.strip()
    return "-".join(part.capitalize() for part in name.split("-")) if name.isupper() else name


def _respell(first: str, last: str) -> tuple[str, str]:
    """The same name spelled differently: umlauts written out, a Russian-layout letter, or a typo.

    Only the longer part changes, so the whole name stays recognisably the same.
    """
    if len(last) >= len(first):
        return first, _respelled(last)
    return _respelled(first), last


def _respelled(word: str) -> str:
    for original, variant in (*_UMLAUTS, *_RESPELLINGS):
        if original in word[1:]:
            return word[0] + word[1:].replace(original, variant, 1)
    # A doubled letter in the middle, the commonest slip of a fast typist.
    middle = len(word) // 2
    return word[: middle + 1] + word[middle:]


def _e164(text: str) -> str | None:
    try:
        number = phonenumbers.parse(text, "UA")
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _tel(text: str) -> str | None:
    """Accounting's one phone style: international, grouped (``+380 44 123 4567``)."""
    number = _e164(text)
    if number is None:
        return None
    return phonenumbers.format_number(phonenumbers.parse(number), phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _other_phone(rng: random.Random, country: str, taken: set[str]) -> str | None:
    """A phone number nobody in the CRM has (an office switchboard, a new mobile)."""
    while (number := _e164(_customer_phone(rng, country))) in taken:
        pass
    taken.add(number)
    return _tel(number)


def _changed(rng: random.Random) -> str:
    return _stamp(_moment_between(rng, datetime(2025, 1, 1), _BASE_DT))


# --------------------------------------------------------------------------
# Accounting: suppliers and sales invoices

_LEDGER_DDL = """
CREATE TABLE SUPPLIERS (
    SUPP_NO TEXT PRIMARY KEY, NAME TEXT, FORM TEXT, COUNTRY TEXT, REG_CODE TEXT, IBAN TEXT
);
CREATE TABLE INVOICES (
    INV_NO TEXT PRIMARY KEY, ACCT_NO TEXT, ISSUED TEXT, TOTAL TEXT, CURRENCY TEXT, STATUS TEXT
);
"""
_SUPPLIERS = 14
_SUPPLIER_WORDS = ("Фарм", "Буд", "Агро", "Техно", "Офіс", "Лайн", "Постач", "Сервіс", "Трейд", "Груп")
_INVOICE_SHARE = 0.5  # invoices per active debtor
_BAD_SUPPLIERS = 2  # a ЄДРПОУ with a wrong check digit
_BAD_INVOICES = 2  # an account number the accounting app never opened


def _seed_ledger(path: Path, accounts: list[str], seed: int) -> dict[str, int]:
    """Add suppliers and sales invoices to the accounting database; returns their dirty counts."""
    rng = _rng(seed, "ledger")
    fake = _faker("uk_UA", seed, "ledger")
    suppliers = [_supplier(rng, fake, i, bad=i < _BAD_SUPPLIERS) for i in range(_SUPPLIERS)]
    rng.shuffle(suppliers)
    invoices = [_invoice(rng, i, rng.choice(accounts)) for i in range(round(len(accounts) * _INVOICE_SHARE))]
    for i in range(_BAD_INVOICES):
        invoices.insert(rng.randint(0, len(invoices)), _invoice(rng, len(invoices), f"D-{99990 + i}"))
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(_LEDGER_DDL)
        conn.executemany("INSERT INTO SUPPLIERS VALUES (?,?,?,?,?,?)", suppliers)
        conn.executemany("INSERT INTO INVOICES VALUES (?,?,?,?,?,?)", invoices)
        conn.commit()
    return {"accounting.SUPPLIERS": _BAD_SUPPLIERS, "accounting.INVOICES": _BAD_INVOICES}


def _supplier(rng: random.Random, fake: Faker, index: int, bad: bool) -> tuple:
    """A company (ТОВ, ПП) under its ЄДРПОУ, or a sole trader (ФОП) under their РНОКПП."""
    from stdnum.ua import edrpou, rntrc

    # A dirty row is always a company: its one defect is the ЄДРПОУ check digit that the
    # quarantine reason names, whatever the seed.
    if rng.random() < 0.3 and not bad:
        form, name = "FOP", f"ФОП {fake.last_name()} {fake.first_name()[0]}."
        body = _digits(rng, 9)
        code = body + rntrc.calc_check_digit(body)
    else:
        form = rng.choice(("TOV", "PP"))
        name = f"{'ТОВ' if form == 'TOV' else 'ПП'} «{rng.choice(_SUPPLIER_WORDS)}-{rng.choice(_SUPPLIER_WORDS)}»"
        body = str(rng.randint(2, 4)) + _digits(rng, 6)
        code = body + edrpou.calc_check_digit(body)
    if bad:
        code = code[:-1] + str((int(code[-1]) + 1) % 10)
    return (f"S-{index + 1:03d}", name, form, "UA", code, _iban(rng))


def _invoice(rng: random.Random, index: int, account: str) -> tuple:
    issued = _day_between(rng, BASE_DATE - timedelta(days=180), BASE_DATE)
    status = "paid" if issued < BASE_DATE - timedelta(days=60) else rng.choice(("open", "paid", "overdue"))
    return (f"INV-{2026_00000 + index + 1}", account, issued.isoformat(),
            f"{rng.uniform(150, 95_000):.2f}", "UAH", status)


# --------------------------------------------------------------------------
# Quality control

_QUALITY_DDL = """
CREATE TABLE LOTS (LOT_NO TEXT PRIMARY KEY, SKU TEXT, PRODUCED TEXT);
CREATE TABLE INSPECTIONS (
    INSP_ID TEXT PRIMARY KEY, LOT_NO TEXT, INSPECTOR TEXT, INSPECTED TEXT, RESULT TEXT, REMARK TEXT,
    INSPECTOR_HEALTH TEXT
);
"""
_INSPECTORS = 6
_LOT_SHARE = 0.4  # lots per clean inventory item
_REMARKS = ("", "", "label misprinted on 3 units", "colour deviates from the sample", "packaging dented",
            "batch weight 2% under spec", "viscosity out of tolerance")
# Why the inspector could only do part of the check: the app keeps it next to the result.
_HEALTH_NOTES = ("inspector on light duty after a back injury", "inspector may not lift over 5 kg (hernia)",
                 "inspector's colour vision impaired: second check by a colleague")


def _seed_quality(path: Path, skus: list[str], inspectors: list[str], seed: int) -> dict[str, int]:
    """Write the quality-control database; returns its dirty counts."""
    rng = _rng(seed, "quality")
    clean_lots = [(f"L{BASE_DATE.year}-{i + 1:04d}", sku, _day_between(rng, date(2026, 5, 1), BASE_DATE).isoformat())
                  for i, sku in enumerate(_pick(rng, skus, _LOT_SHARE, minimum=3))]
    lots = [*clean_lots]
    lots.insert(rng.randint(0, len(lots)), (f"L{BASE_DATE.year}-9999", "SKU-999999", BASE_DATE.isoformat()))
    # A tiny estate may have no clean lot or inspector to inspect with: then no inspections.
    inspectable = clean_lots if inspectors and len(clean_lots) >= 2 else []
    rows = [_inspection(rng, i, lot, rng.choice(inspectors)) for i, lot in enumerate(inspectable)]
    # An unknown result; an inspector HR never employed.
    defects = {0: ("RESULT", "passed?"), 1: ("INSPECTOR", "E99999")} if inspectable else {}
    for offset, (column, value) in defects.items():
        row = dict(zip(("INSP_ID", "LOT_NO", "INSPECTOR", "INSPECTED", "RESULT", "REMARK", "INSPECTOR_HEALTH"),
                       _inspection(rng, len(rows) + offset, inspectable[offset], inspectors[0])))
        row[column] = value
        rows.insert(rng.randint(0, len(rows)), tuple(row.values()))
    _write_db(path, _QUALITY_DDL, [("LOTS", lots), ("INSPECTIONS", rows)])
    return {"quality.LOTS": 1, "quality.INSPECTIONS": len(defects)}


def _inspection(rng: random.Random, index: int, lot: tuple, inspector: str) -> tuple:
    produced = date.fromisoformat(lot[2])
    inspected = min(produced + timedelta(days=rng.randint(0, 5)), BASE_DATE)
    result = rng.choices(("pass", "fail", "rework"), weights=(85, 5, 10))[0]
    note = rng.choice(_HEALTH_NOTES) if rng.random() < 0.15 else None
    return (f"QI-{index + 1:05d}", lot[0], inspector, inspected.isoformat(), result,
            rng.choice(_REMARKS) or None, note)


# --------------------------------------------------------------------------
# Inventory

_ENCODING = "cp1251"
_EOL = b"\r\n"
_ITEM_WIDTH = 94
_STOCK_WIDTH = 24
_ITEM_DEFECTS = ("name_undecodable", "price_na", "gtin_check_digit")
_GTIN_PREFIX = "04827031"  # GS1 Ukraine (482) company prefix, GTIN-14 indicator 0
# (base name, category, unit of measure, weight kg, list price UAH)
_CATALOGUE = (
    ("Фарба акрилова біла 2,5 л", "PNT ", "PCS", 3.6, 620.0),
    ("Фарба фасадна 10 л", "PNT ", "PCS", 14.2, 1890.0),
    ("Ґрунтовка глибокого проникнення 5 л", "PNT ", "PCS", 5.3, 345.0),
    ("Емаль ПФ-115 біла 2,8 кг", "PNT ", "PCS", 3.0, 410.0),
    ("Лак паркетний 0,75 л", "PNT ", "PCS", 0.9, 385.0),
    ("Рукавички робочі", "SAFE", "BOX", 1.2, 540.0),
    ("Рукавички нітрилові", "SAFE", "BOX", 0.8, 310.0),
    ("Окуляри захисні", "SAFE", "PCS", 0.06, 120.0),
    ("Каска будівельна", "SAFE", "PCS", 0.4, 265.0),
    ("Респіратор FFP2", "SAFE", "BOX", 0.3, 480.0),
    ("Жилет сигнальний", "SAFE", "PCS", 0.15, 95.0),
    ("Папір офісний А4 500 арк.", "OFFC", "BOX", 12.5, 1250.5),
    ("Ручка кулькова синя", "OFFC", "BOX", 0.5, 180.0),
    ("Скоби для степлера №24/6", "OFFC", "BOX", 0.2, 42.0),
    ("Папка-реєстратор 75 мм", "OFFC", "PCS", 0.45, 89.0),
    ("Викрутка хрестова PH2", "TOOL", "PCS", 0.12, 135.0),
    ("Молоток слюсарний 500 г", "TOOL", "PCS", 0.65, 290.0),
    ("Рулетка вимірювальна 5 м", "TOOL", "PCS", 0.25, 210.0),
    ("Дриль-шуруповерт акумуляторний 18 В", "TOOL", "PCS", 1.6, 3450.0),
    ("Ключ розвідний 250 мм", "TOOL", "PCS", 0.4, 360.0),
    ("Цвяхи будівельні 100 мм", "TOOL", "KG ", 1.0, 78.0),
    ("Засіб для миття підлоги 5 л", "CLNG", "PCS", 5.2, 230.0),
    ("Мішки для сміття 120 л", "CLNG", "BOX", 2.1, 315.0),
    ("Серветки паперові", "CLNG", "BOX", 1.8, 160.0),
)
_VARIANTS = {
    "PNT ": ("Sniezka", "Kolorit", "Dulux", "Caparol", "Ceresit"),
    "SAFE": ("розмір 9", "розмір 10", "розмір L", "жовтий", "помаранчевий"),
    "OFFC": ("Axent", "Buromax", "Optima", "Economix", "Double A"),
    "TOOL": ("Intertool", "Stanley", "Topex", "Vorskla", "Bosch"),
    "CLNG": ("Помічниця", "Фрекен Бок", "Domestos", "Tork", "PRO service"),
}
_WAREHOUSES = ("KYIV01", "KYIV02", "LVIV01", "LVIV02", "ODES01", "KHAR01", "DNIP01")


def _seed_inventory(export_dir: Path, n: int, seed: int) -> tuple[dict[str, int], list[str]]:
    rng = _rng(seed, "inventory")
    export_dir.mkdir(parents=True)
    plan = _dirty_plan(rng, n, 3, _ITEM_DEFECTS)
    skus = _skus(rng, n)
    items = [_item_line(rng, i, skus[i], plan.get(i)) for i in range(n)]
    stamp = BASE_DATE.strftime("%Y%m%d")
    _write_lines(export_dir / f"ITEMS_{stamp}.TXT", items)
    clean_skus = [sku for i, sku in enumerate(skus) if i not in plan]
    stock, stock_dirty = _stock_lines(rng, clean_skus)
    _write_lines(export_dir / f"STOCK_{stamp}.TXT", stock)
    return {"inventory.items": len(plan), "inventory.stock": stock_dirty}, clean_skus


def _write_lines(path: Path, lines: list[bytes]) -> None:
    path.write_bytes(b"".join(line + _EOL for line in lines))


def _skus(rng: random.Random, n: int) -> list[str]:
    # Gaps where products were discontinued, as in any long-lived catalogue.
    skus, number = [], 100
    for _ in range(n):
        number += rng.randint(1, 7)
        skus.append(f"SKU-{number:06d}")
    return skus


def _gtin(index: int) -> str:
    body = f"{_GTIN_PREFIX}{index + 1:05d}"
    return body + _gs1_check_digit(body)


def _gs1_check_digit(body: str) -> str:
    """GS1 mod-10: weights 3,1,3,... from the rightmost body digit."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str(-total % 10)


def _item_line(rng: random.Random, index: int, sku: str, defect: str | None) -> bytes:
    base, category, uom, weight, price = rng.choice(_CATALOGUE)
    name = f"{base} {rng.choice(_VARIANTS[category])}"
    fields = {
        "sku": sku.ljust(10), "gtin": _gtin(index), "name": name[:40].ljust(40), "category": category,
        "price": _comma(price * rng.uniform(0.85, 1.25)).rjust(12), "currency": "UAH", "uom": uom,
        "weight": _comma(weight * rng.uniform(0.95, 1.05), 3).rjust(8),
    }  # fmt: skip
    if defect == "price_na":
        fields["price"] = "N/A".rjust(12)
    elif defect == "gtin_check_digit":
        fields["gtin"] = fields["gtin"][:13] + str((int(fields["gtin"][13]) + 1) % 10)
    line = "".join(fields.values()).encode(_ENCODING)
    if defect == "name_undecodable":
        # 0x98 is the one byte cp1251 leaves undefined: a strict decoder fails.
        line = line[:26] + b"\x98" + line[27:]
    return line


def _stock_lines(rng: random.Random, skus: list[str]) -> tuple[list[bytes], int]:
    lines = []
    for sku in skus:
        for warehouse in sorted(rng.sample(_WAREHOUSES, rng.randint(1, 3))):
            lines.append(_stock_line(sku, warehouse, str(rng.randint(0, 2500)).rjust(8)))
    if not skus:
        return lines, 0
    lines.insert(rng.randint(0, len(lines)), _orphan_free_bad_qty(rng, skus, lines))
    return lines, 1


def _stock_line(sku: str, warehouse: str, qty: str) -> bytes:
    return f"{sku.ljust(10)}{warehouse}{qty}".encode(_ENCODING)


def _orphan_free_bad_qty(rng: random.Random, skus: list[str], lines: list[bytes]) -> bytes:
    # Real SKU, unused warehouse: the quantity is the only thing wrong.
    sku = rng.choice(skus)
    used = {line[10:16].decode(_ENCODING) for line in lines if line.startswith(sku.encode())}
    warehouse = next(w for w in _WAREHOUSES if w not in used)
    return _stock_line(sku, warehouse, "   -abc ")
