"""A clinic and a billing office that both keep people, written the way their clerks write them.

The clinic keeps given and family names apart, ISO birth dates and free-text notes (seeded
with a sentinel: a health detail that must never leave the hub). The billing office keeps
"Family, Given" in one field, birth dates as DD.MM.YYYY, and its clerks mistype, abbreviate
first names to an initial, swap day and month, leave postcodes out, write Ukrainian names in
Cyrillic, and key three impossible dates. It also holds people the clinic never saw,
among them relatives who share a clinic patient's surname and address.

Generated from a fixed seed, so each run has the same people and the same true pairs.
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import yaml

SENTINEL = "SENTINEL-HEALTH-4471"

UKRAINIAN_FIRST = [("Olena", "Олена"), ("Taras", "Тарас"), ("Iryna", "Ірина"), ("Petro", "Петро"),
                   ("Mykola", "Микола"), ("Oksana", "Оксана"), ("Andrii", "Андрій"), ("Yurii", "Юрій"),
                   ("Halyna", "Галина"), ("Serhii", "Сергій"), ("Nataliia", "Наталія"), ("Vasyl", "Василь"),
                   ("Kateryna", "Катерина"), ("Dmytro", "Дмитро"), ("Yevhen", "Євген")]
UKRAINIAN_LAST = [("Kovalenko", "Коваленко"), ("Bondarenko", "Бондаренко"), ("Shevchenko", "Шевченко"),
                  ("Melnyk", "Мельник"), ("Tkachenko", "Ткаченко"), ("Kravchenko", "Кравченко"),
                  ("Oliinyk", "Олійник"), ("Lysenko", "Лисенко"), ("Moroz", "Мороз"), ("Savchenko", "Савченко"),
                  ("Rudenko", "Руденко"), ("Marchenko", "Марченко"), ("Hnatiuk", "Гнатюк"),
                  ("Yakovenko", "Яковенко"), ("Zakharchenko", "Захарченко")]
ENGLISH_FIRST = ["James", "Mary", "Robert", "Patricia", "Michael", "Jennifer", "William", "Linda", "David",
                 "Elizabeth", "Richard", "Barbara", "Joseph", "Susan", "Thomas", "Jessica", "Charles", "Sarah",
                 "Daniel", "Karen", "Matthew", "Nancy", "Anthony", "Lisa", "Mark"]
ENGLISH_LAST = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Wilson",
                "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Thompson", "White", "Harris",
                "Clark", "Lewis", "Walker", "Hall", "Allen", "Young", "King"]
STREETS = ["High Street", "Shevchenka Street", "Franka Street", "Sadova Street", "Mill Lane", "Church Road",
           "Lesi Ukrainky Street", "Park Avenue", "Station Road", "Zelena Street", "Kings Road", "Hrushevskoho Street"]
TOWNS = ["Kyiv", "Lviv", "Odesa", "Dnipro", "Kharkiv", "Poltava", "Chernihiv", "Vinnytsia"]

PEOPLE = 240
IN_BILLING = 180
BILLING_ONLY = 60
RELATIVES = 6


@dataclass(frozen=True)
class Person:
    first: str
    last: str
    first_cyrillic: str | None
    last_cyrillic: str | None
    born: date
    street: str
    postcode: str
    town: str


def _person(rng: random.Random) -> Person:
    if rng.random() < 0.5:
        (first, first_c), (last, last_c) = rng.choice(UKRAINIAN_FIRST), rng.choice(UKRAINIAN_LAST)
    else:
        first, first_c, last, last_c = rng.choice(ENGLISH_FIRST), None, rng.choice(ENGLISH_LAST), None
    born = date(1940, 1, 1) + timedelta(days=rng.randrange(365 * 65))
    return Person(first, last, first_c, last_c, born, f"{rng.randrange(1, 120)} {rng.choice(STREETS)}",
                  f"{rng.randrange(1000, 99999):05d}", rng.choice(TOWNS))


def _typo(rng: random.Random, text: str) -> str:
    i = rng.randrange(1, len(text))
    kind = rng.randrange(3)
    letter = rng.choice("aeiounrst")
    if kind == 0:
        return text[:i] + letter + text[i + 1:]
    if kind == 1:
        return text[:i] + text[i + 1:] if len(text) > 3 else text + letter
    return text[:i] + letter + text[i:]


@dataclass
class Estate:
    """What was written: the true pairs (clinic id, billing account) and the billing rows."""

    truth: set[tuple[str, str]]
    relatives: set[tuple[str, str]]  # (clinic id, billing account) pairs that are different people
    clinic: list[tuple]
    billing: list[tuple]


def generate(seed: int = 20261204) -> Estate:
    """The two systems' rows and the truth."""
    rng = random.Random(seed)
    people = [_person(rng) for _ in range(PEOPLE)]
    clinic = [(i + 1, p.first, p.last, p.born.isoformat(), p.street, p.postcode, p.town,
               f"{SENTINEL} {rng.choice(['asthma', 'diabetes type 2', 'hypertension'])}" if i % 4 == 0 else None)
              for i, p in enumerate(people)]
    billing: list[tuple] = []
    truth: set[tuple[str, str]] = set()
    impossible = 0
    for i, p in enumerate(people[:IN_BILLING]):
        first, last = p.first, p.last
        if p.first_cyrillic and rng.random() < 0.3:
            first, last = p.first_cyrillic, p.last_cyrillic or last
        elif rng.random() < 0.2:
            if rng.random() < 0.5:
                first = _typo(rng, first)
            else:
                last = _typo(rng, last)
        if rng.random() < 0.08:
            first = first[0] + "."
        born = f"{p.born.day:02d}.{p.born.month:02d}.{p.born.year}"
        roll = rng.random()
        if roll < 0.08 and p.born.day <= 12:
            born = f"{p.born.month:02d}.{p.born.day:02d}.{p.born.year}"  # day and month swapped
        elif roll < 0.13:
            year = str(p.born.year)
            born = f"{p.born.day:02d}.{p.born.month:02d}.{year[:2]}{year[3]}{year[2]}"  # the decade's digits swapped
        elif roll < 0.16 and impossible < 3:
            impossible += 1
            born = f"31.02.{p.born.year}"  # impossible: the mapping flags it and matching goes on without it
        street = p.street.replace(" Street", " St") if rng.random() < 0.3 else p.street
        postcode = None if rng.random() < 0.1 else p.postcode
        account = f"B-{1000 + i}"
        billing.append((account, f"{last}, {first}", born, street, postcode, p.town))
        truth.add((str(i + 1), account))
    relatives: set[tuple[str, str]] = set()
    for k in range(RELATIVES):  # same family name and address, another first name and birth date
        p = people[k]
        other = rng.choice([f for f in [f for f, _ in UKRAINIAN_FIRST] + ENGLISH_FIRST if f != p.first])
        born = p.born + timedelta(days=365 * 27 + rng.randrange(300))
        account = f"R-{k}"
        billing.append((account, f"{p.last}, {other}", f"{born.day:02d}.{born.month:02d}.{born.year}", p.street,
                        p.postcode, p.town))
        relatives.add((str(k + 1), account))
    for j in range(BILLING_ONLY):
        p = _person(rng)
        billing.append((f"N-{j}", f"{p.last}, {p.first}", f"{p.born.day:02d}.{p.born.month:02d}.{p.born.year}",
                        p.street, p.postcode, p.town))
    return Estate(truth, relatives, clinic, billing)


def build(folder: Path, identity: dict | None = None, store_url: str | None = None) -> tuple[Path, Estate]:
    """Write both systems' databases and officehub.yaml into ``folder``."""
    estate = generate()
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(data / "clinic.db") as db:
        db.execute("CREATE TABLE patients (id INTEGER PRIMARY KEY, given TEXT, family TEXT, born TEXT, street TEXT, "
                   "postcode TEXT, town TEXT, notes TEXT)")
        db.executemany("INSERT INTO patients VALUES (?, ?, ?, ?, ?, ?, ?, ?)", estate.clinic)
    with sqlite3.connect(data / "billing.db") as db:
        db.execute("CREATE TABLE accounts (acct TEXT PRIMARY KEY, holder TEXT, dob TEXT, address TEXT, zip TEXT, "
                   "town TEXT)")
        db.executemany("INSERT INTO accounts VALUES (?, ?, ?, ?, ?, ?)", estate.billing)
    config = {
        "hub": {"name": "linkage", "store": store_url or "sqlite:///.officehub/hub.db", "batch_size": 100},
        "identity": identity or {"customer": {"match": {"keys": []}}},
        "systems": {"clinic": {"type": "sql", "url": "sqlite:///data/clinic.db", "country": "UA"},
                    "billing": {"type": "sql", "url": "sqlite:///data/billing.db", "country": "UA"}},
        "mappings": {
            "clinic_in": {"system": "clinic", "stream": "patients", "target": "customer", "key": "id",
                          "fields": {"name.first": "given", "name.last": "family", "birth_date": "born",
                                     "address.street": "street", "address.postal_code": "postcode",
                                     "address.city": "town", "notes": "notes"}},
            "billing_in": {"system": "billing", "stream": "accounts", "target": "customer", "key": "acct",
                           "fields": {
                               "name.first": {"from": "holder", "transforms": [{"split": {"separator": ", ",
                                                                                          "part": 1}}]},
                               "name.last": {"from": "holder", "transforms": [{"split": {"separator": ", ",
                                                                                         "part": 0}}]},
                               "birth_date": {"from": "dob", "transforms": [{"date": "%d.%m.%Y"}], "on_error": "flag"},
                               "address.street": "address", "address.postal_code": "zip", "address.city": "town"}},
        },
        "pipelines": {"clinic_in": {"kind": "ingest", "mapping": "clinic_in"},
                      "billing_in": {"kind": "ingest", "mapping": "billing_in"}},
    }
    (folder / "officehub.yaml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    return folder, estate


def use_model(folder: Path, link_at: float = 0.99, review_at: float = 0.5) -> None:
    """Switch the project's customer matching to the trained model file."""
    path = folder / "officehub.yaml"
    config = yaml.safe_load(path.read_text())
    config["identity"] = {"customer": {"match": {"probabilistic": {
        "model": "identity/customer.model.yaml", "link_at": link_at, "review_at": review_at}}}}
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
