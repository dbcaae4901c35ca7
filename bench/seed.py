"""The CRM-shaped source table in MariaDB, seeded fast and deterministically.

Rows are generated with a fixed seed into a tab-separated file and loaded with
``LOAD DATA LOCAL INFILE``; a table that already holds the same number of rows made
with the same seed (and generator version) is reused as it is. ``bump`` is the change
the incremental variants pick up: 1% of rows get a later ``updated_at`` and new notes.
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path

from bench.db import mariadb_connect
from bench.settings import SOURCE_DB, table_name

GENERATOR_VERSION = 1

FIRST = ["Olena", "Petro", "Ivan", "Mariia", "Andrii", "Oksana", "Jürgen", "María", "Søren", "Zoë", "John", "Anna",
         "Олена", "Петро", "Тарас", "Ірина", "Łukasz", "Chloé", "Mehmet", "Aiko"]
LAST = ["Shevchenko", "Kovalenko", "Bondarenko", "Tkachenko", "Müller", "García", "Nowak", "Smith", "Rossi", "Dubois",
        "Коваль", "Мельник", "Kowalski", "Jensen", "Novak", "Popescu", "Horvat", "Ivanova", "O'Brien", "Yilmaz"]
STREETS = ["Khreshchatyk", "Main St", "Hauptstraße", "Calle Mayor", "Rynek", "Вулиця Франка", "Rue de la Paix",
           "High Street", "Via Roma", "Sadova"]
CITIES = [("Kyiv", "UA", "01001"), ("Lviv", "UA", "79000"), ("Odesa", "UA", "65000"), ("Berlin", "DE", "10115"),
          ("Madrid", "ES", "28001"), ("Warszawa", "PL", "00-001"), ("Paris", "FR", "75001"),
          ("London", "GB", "SW1A 1AA"), ("Roma", "IT", "00100"), ("Dnipro", "UA", "49000")]
WORDS = ["prefers", "email", "contact", "after", "hours", "key", "account", "since", "renewal", "discount", "asked",
         "for", "invoice", "copy", "delivery", "to", "office", "weekday", "mornings", "only", "VIP", "клієнт"]
BIRTH_DAYS = 365 * 60            # birth dates spread over 1940 … 2000
UPDATED_SPAN_S = 365 * 86_400    # updated_at spread over 2025, not in key order

DDL = """CREATE TABLE {table} (
  id BIGINT NOT NULL PRIMARY KEY,
  external_ref VARCHAR(20) NOT NULL,
  first_name VARCHAR(50),
  last_name VARCHAR(50) NOT NULL,
  email VARCHAR(120),
  phone VARCHAR(20),
  birth_date DATE,
  street VARCHAR(120),
  city VARCHAR(60),
  postal_code VARCHAR(12),
  country CHAR(2),
  notes VARCHAR(200),
  updated_at DATETIME NOT NULL,
  INDEX ix_{table}_updated_at (updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"""


def _notes(rnd: random.Random) -> str:
    words = []
    while sum(len(w) + 1 for w in words) < 80:
        words.append(rnd.choice(WORDS))
    return " ".join(words)[:80]


def write_tsv(path: Path, rows: int, seed: int) -> None:
    """``rows`` customers as tab-separated lines (``\\N`` for NULL), the same for the same seed."""
    rnd = random.Random(seed)
    notes = [_notes(rnd) for _ in range(997)]     # a pool keeps generation fast; repeats are realistic
    with path.open("w", encoding="utf-8", newline="\n") as out:
        lines = []
        for i in range(1, rows + 1):
            first, last = rnd.choice(FIRST), rnd.choice(LAST)
            city, country, postal = rnd.choice(CITIES)
            lines.append("\t".join((
                str(i), f"CRM-{i:09d}", first if i % 50 else "\\N", last,
                f"customer{i}.{rnd.randrange(10**6)}@example.com" if i % 20 else "\\N",
                f"+380{rnd.randrange(10**8, 10**9)}", str(rnd.randrange(BIRTH_DAYS)) if i % 10 else "\\N",
                f"{rnd.choice(STREETS)} {rnd.randrange(1, 200)}", city, postal, country,
                notes[rnd.randrange(997)], str(rnd.randrange(UPDATED_SPAN_S)),
            )))
            if len(lines) == 50_000:
                out.write("\n".join(lines) + "\n")
                lines.clear()
        if lines:
            out.write("\n".join(lines) + "\n")


def _seed_tag(rows: int, seed: int) -> str:
    return f"rows={rows};seed={seed};generator={GENERATOR_VERSION}"


def ensure_seeded(rows: int, seed: int, log=print) -> str:  # type: ignore[no-untyped-def]
    """The source table for ``rows`` customers, seeded unless it already holds exactly them."""
    table = table_name(rows)
    with mariadb_connect(local_infile=True, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE IF NOT EXISTS {SOURCE_DB} CHARACTER SET utf8mb4")
        cur.execute(f"USE {SOURCE_DB}")
        cur.execute("CREATE TABLE IF NOT EXISTS bench_seed (tbl VARCHAR(64) PRIMARY KEY, tag VARCHAR(200) NOT NULL)")
        cur.execute("SELECT tag FROM bench_seed WHERE tbl = %s", (table,))
        found = cur.fetchone()
        if found and found[0] == _seed_tag(rows, seed):
            cur.execute(f"SELECT COUNT(*) FROM {table}")
            if cur.fetchone()[0] == rows:
                log(f"seed: reusing {SOURCE_DB}.{table} ({rows:,} rows, seed {seed})")
                return table
        started = time.perf_counter()
        cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute("DELETE FROM bench_seed WHERE tbl = %s", (table,))
        cur.execute(DDL.format(table=table))
        with tempfile.TemporaryDirectory(prefix="officehub-bench-seed-") as tmp:
            path = Path(tmp) / f"{table}.tsv"
            write_tsv(path, rows, seed)
            generated = time.perf_counter() - started
            cur.execute("SET unique_checks = 0")
            cur.execute(
                f"LOAD DATA LOCAL INFILE %s INTO TABLE {table} CHARACTER SET utf8mb4 "
                "FIELDS TERMINATED BY '\\t' LINES TERMINATED BY '\\n' "
                "(id, external_ref, first_name, last_name, email, phone, @birth, street, city, postal_code, "
                "country, notes, @updated) "
                "SET birth_date = DATE_ADD('1940-01-01', INTERVAL @birth DAY), "
                "updated_at = TIMESTAMPADD(SECOND, @updated, '2025-01-01 00:00:00')", (str(path),))
            cur.execute("SET unique_checks = 1")
        cur.execute(f"ANALYZE TABLE {table}")
        cur.fetchall()
        cur.execute("INSERT INTO bench_seed (tbl, tag) VALUES (%s, %s)", (table, _seed_tag(rows, seed)))
        log(f"seed: {SOURCE_DB}.{table} with {rows:,} rows in {time.perf_counter() - started:.1f} s "
            f"(generating {generated:.1f} s)")
    return table


def ensure_billing(rows: int) -> str:
    """The billing system's customers: every CRM customer again, under billing's own ids.

    Derived from the CRM table (same customer number, names, e-mail and address; no phone,
    birth date or notes, which billing does not keep), so identity resolution links every
    billing record to the CRM's golden record by customer number.
    """
    table, source = f"billing_{table_name(rows)}", table_name(rows)
    with mariadb_connect(SOURCE_DB, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = %s AND table_name = %s",
                    (SOURCE_DB, table))
        if cur.fetchone()[0]:
            cur.execute(f"SELECT COUNT(*) FROM {table}")
            if cur.fetchone()[0] == rows:
                return table
            cur.execute(f"DROP TABLE {table}")
        cur.execute(f"CREATE TABLE {table} (PRIMARY KEY (account)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 AS "
                    f"SELECT CONCAT('B', id) AS account, external_ref, first_name, last_name, email, street, city, "
                    f"postal_code, country, updated_at FROM {source}")
    return table


def bump(rows: int, slot: int) -> int:
    """Change 1% of the rows (``id % 100 == slot``): later ``updated_at``, new notes. Returns rows changed.

    The new timestamps lie after every existing one (spread over 60 seconds), so an
    incremental reader whose cursor sits at the previous maximum sees exactly them.
    """
    table = table_name(rows)
    with mariadb_connect(SOURCE_DB, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT MAX(updated_at) FROM {table}")
        top = cur.fetchone()[0]
        changed = cur.execute(
            f"UPDATE {table} SET updated_at = TIMESTAMPADD(SECOND, 1 + (id DIV 100) MOD 60, %s), "
            "notes = CONCAT(LEFT(COALESCE(notes, ''), 50), ' changed ', DATE_FORMAT(%s, '%%Y%%m%%d%%H%%i%%s')) "
            "WHERE id MOD 100 = %s", (top, top, slot % 100))
    return changed
