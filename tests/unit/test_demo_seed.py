"""The demo estate is deterministic, well-formed, and dirty exactly as promised."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from contextlib import closing
from datetime import date, datetime
from pathlib import Path

import pytest

from officehub.demo.seed import SeedSummary, seed_estate

ITEMS = Path("inventory/export/ITEMS_20261101.TXT")
STOCK = Path("inventory/export/STOCK_20261101.TXT")


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SeedSummary]:
    data_dir = tmp_path_factory.mktemp("estate")
    return data_dir, seed_estate(data_dir)


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _query(db: Path, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute(sql).fetchall()


def _count(db: Path, table: str) -> int:
    return _query(db, f"SELECT COUNT(*) FROM {table}")[0][0]


def _lines(path: Path) -> list[bytes]:
    data = path.read_bytes()
    assert data.endswith(b"\r\n")
    return data[:-2].split(b"\r\n")


def _iban_valid(iban: str) -> bool:
    numeric = "".join(str(int(ch, 36)) for ch in iban[4:] + iban[:4])
    return int(numeric) % 97 == 1


def _gtin_valid(gtin: str) -> bool:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(reversed(gtin)))
    return gtin.isdigit() and total % 10 == 0


def test_seeding_is_byte_identical(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    seed_estate(first)
    seed_estate(second)
    digests = _digests(first)
    assert set(digests) == {"crm.db", "hr.db", "accounting.db", "quality.db", str(ITEMS), str(STOCK)}
    assert digests == _digests(second)
    # Reseeding in place wipes what was there, including foreign leftovers.
    (first / "inventory" / "export" / "OLD.TXT").write_bytes(b"x")
    seed_estate(first)
    assert _digests(first) == digests


def test_different_seed_gives_different_data(tmp_path: Path) -> None:
    seed_estate(tmp_path / "a", customers=20, employees=10, products=10)
    seed_estate(tmp_path / "b", customers=20, employees=10, products=10, seed=1)
    assert _digests(tmp_path / "a") != _digests(tmp_path / "b")


def test_row_counts_match_summary(estate: tuple[Path, SeedSummary]) -> None:
    data_dir, summary = estate
    assert (summary.customers, summary.employees, summary.products) == (500, 120, 200)
    assert _count(data_dir / "crm.db", "CUST") == summary.customers
    assert _count(data_dir / "hr.db", "employees") == summary.employees
    assert len(_lines(data_dir / ITEMS)) == summary.products
    assert _count(data_dir / "accounting.db", "DEBTORS") == summary.debtors == 246


def test_accounting_debtors_in_their_own_conventions(estate: tuple[Path, SeedSummary]) -> None:
    data_dir, summary = estate
    rows = _query(data_dir / "accounting.db",
                  "SELECT ACCT_NO, NAME, MAIL, TEL, POSTCODE, COUNTRY, DOB, CHANGED, STATUS FROM DEBTORS")
    for acct, name, mail, tel, postcode, country, dob, changed, status in rows:
        assert re.fullmatch(r"D-1\d{4}", acct)
        last, first = name.split(", ")
        assert last.strip() == last and first and not name.isupper()
        assert mail is None or "@" in mail
        assert tel is None or re.fullmatch(r"\+(380|49) [\d ]+", tel)
        assert postcode and country in {"UA", "DE"}
        assert dob is None or date.fromisoformat(dob)
        assert "2025-01-01" <= changed < "2026-11-01"
        assert status in {"A", "X"}
    closed = {acct for acct, *_, status in rows if status == "X"}
    assert closed == set(summary.identity.closed) and len(closed) == 2


def test_crm_customer_numbers_are_text(estate: tuple[Path, SeedSummary]) -> None:
    # The hub writes customers new to the CRM back under their canonical id (a UUID).
    data_dir, _ = estate
    assert _query(data_dir / "crm.db", "SELECT DISTINCT typeof(CUSTNO) FROM CUST") == [("text",)]


def test_dirty_counts_as_promised(estate: tuple[Path, SeedSummary]) -> None:
    _, summary = estate
    assert summary.dirty == {
        "crm.CUST": 10,
        "hr.employees": 3,
        "hr.sick_leave": 1,
        "inventory.items": 4,
        "inventory.stock": 1,
        "accounting.SUPPLIERS": 2,
        "accounting.INVOICES": 2,
        "quality.LOTS": 1,
        "quality.INSPECTIONS": 2,
    }


def _suppliers(db: Path) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """Accounting's suppliers (form, name, registration code): those whose code is valid, and the others."""
    from stdnum.ua import edrpou, rntrc

    rows = _query(db, "SELECT FORM, NAME, REG_CODE FROM SUPPLIERS")
    valid = [row for row in rows if (rntrc if row[0] == "FOP" else edrpou).is_valid(row[2])]
    return valid, [row for row in rows if row not in valid]


def _wrong_check_digit_only(code: str) -> bool:
    """An eight-digit ЄДРПОУ that would be valid with another last digit."""
    from stdnum.ua import edrpou

    return re.fullmatch(r"\d{8}", code) is not None and edrpou.calc_check_digit(code[:-1]) != code[-1]


def test_suppliers_carry_a_registration_code_with_its_check_digit_except_the_dirty_ones(
        estate: tuple[Path, SeedSummary]) -> None:
    data_dir, summary = estate
    valid, dirty = _suppliers(data_dir / "accounting.db")
    assert len(dirty) == summary.dirty["accounting.SUPPLIERS"] == 2
    assert {"FOP", "TOV", "PP"} <= {form for form, *_ in valid}  # sole traders under their РНОКПП
    for form, name, _ in valid + dirty:
        prefix = {"TOV": "ТОВ «", "PP": "ПП «", "FOP": "ФОП "}[form]
        assert name.startswith(prefix) and name.endswith("»" if form != "FOP" else ".")
    assert all(form != "FOP" and _wrong_check_digit_only(code) for form, _, code in dirty)


def test_invoices_name_open_accounts_except_the_dirty_ones(estate: tuple[Path, SeedSummary]) -> None:
    data_dir, summary = estate
    open_accounts = {row[0] for row in _query(data_dir / "accounting.db", "SELECT ACCT_NO FROM DEBTORS WHERE STATUS = 'A'")}
    named = [row[0] for row in _query(data_dir / "accounting.db", "SELECT ACCT_NO FROM INVOICES")]
    assert len(named) > 100
    assert len([a for a in named if a not in open_accounts]) == summary.dirty["accounting.INVOICES"]


def test_invoices_in_the_ledgers_conventions(estate: tuple[Path, SeedSummary]) -> None:
    data_dir, summary = estate
    rows = _query(data_dir / "accounting.db", "SELECT INV_NO, ISSUED, TOTAL, CURRENCY, STATUS FROM INVOICES")
    # One invoice for every other open account, plus the dirty ones.
    open_accounts = summary.debtors - len(summary.identity.closed)
    assert len(rows) == round(open_accounts / 2) + summary.dirty["accounting.INVOICES"]
    for number, issued, total, currency, status in rows:
        assert re.fullmatch(r"INV-2026\d{5}", number)
        assert "2026-05-05" <= issued <= "2026-11-01" and date.fromisoformat(issued)
        assert re.fullmatch(r"\d+\.\d\d", total) and currency == "UAH"
        assert status in {"open", "paid", "overdue"}
    assert len({number for number, *_ in rows}) == len(rows)


def test_lots_and_inspections_refer_to_clean_products_and_employees(estate: tuple[Path, SeedSummary]) -> None:
    data_dir, summary = estate
    skus = {line[:10].decode("cp1251").strip() for line in _lines(data_dir / ITEMS)}
    lots = dict(_query(data_dir / "quality.db", "SELECT LOT_NO, SKU FROM LOTS"))
    assert len([sku for sku in lots.values() if sku not in skus]) == summary.dirty["quality.LOTS"]
    staff = {row[0] for row in _query(data_dir / "hr.db", "SELECT emp_id FROM employees")}
    rows = _query(data_dir / "quality.db", "SELECT LOT_NO, INSPECTOR, RESULT, INSPECTOR_HEALTH FROM INSPECTIONS")
    assert all(lot in lots for lot, *_ in rows)
    broken = [r for r in rows if r[1] not in staff or r[2] not in {"pass", "fail", "rework"}]
    assert len(broken) == summary.dirty["quality.INSPECTIONS"]
    assert any(note for *_, note in rows)  # medical notes for the policy to withhold


def test_crm_dirty_rows_have_one_known_defect_each(estate: tuple[Path, SeedSummary]) -> None:
    data_dir, summary = estate
    rows = _query(data_dir / "crm.db", "SELECT EMAIL, BIRTH, PHONE, LNAME, CTRY FROM CUST")
    defects = [
        [
            "@" not in email,
            birth == "31.02.1987",
            phone == "n/a",
            lname == "",
            ctry == "XX",
        ]
        for email, birth, phone, lname, ctry in rows
    ]
    assert all(sum(d) <= 1 for d in defects)
    assert sum(any(d) for d in defects) == summary.dirty["crm.CUST"]
    assert all(sum(column) >= 1 for column in zip(*defects))


def test_crm_clean_values_parse(estate: tuple[Path, SeedSummary]) -> None:
    data_dir, _ = estate
    rows = _query(data_dir / "crm.db", "SELECT BIRTH, CREDIT_LIMIT, LASTCHG, CTRY, SEGMENT, NOTES FROM CUST")
    for birth, limit, lastchg, ctry, segment, notes in rows:
        if birth != "31.02.1987":
            datetime.strptime(birth, "%d.%m.%Y")
        assert re.fullmatch(r"\d+,\d\d", limit)
        assert "2026-01-01" <= lastchg < "2026-11-01"
        assert ctry.upper() in {"UA", "DE", "XX"}
        assert segment in {"A", "B", "C"}
        assert 40 <= len(notes) <= 80
    german = sum(ctry.upper() == "DE" for _, _, _, ctry, _, _ in rows)
    assert 0.05 * len(rows) < german < 0.15 * len(rows)


def test_some_lastchg_values_repeat(estate: tuple[Path, SeedSummary]) -> None:
    data_dir, _ = estate
    repeated = _query(data_dir / "crm.db", "SELECT LASTCHG FROM CUST GROUP BY LASTCHG HAVING COUNT(*) > 1")
    assert len(repeated) >= 2


def test_hr_dirty_employees(estate: tuple[Path, SeedSummary]) -> None:
    data_dir, summary = estate
    hr = data_dir / "hr.db"
    dirty = _query(
        hr,
        "SELECT emp_id FROM employees WHERE hire_date = '2020-13-45' "
        "OR last_name = '' OR email = 'nobody-at-example'",
    )
    assert len(dirty) == summary.dirty["hr.employees"]
    ids = {emp_id for (emp_id,) in dirty}
    for table in ("sick_leave", "background_checks", "litigation_holds", "garnishments"):
        assert not ids & {emp_id for (emp_id,) in _query(hr, f"SELECT emp_id FROM {table}")}, table


def test_hr_orphan_sick_leave(estate: tuple[Path, SeedSummary]) -> None:
    data_dir, summary = estate
    orphans = _query(
        data_dir / "hr.db",
        "SELECT s.emp_id FROM sick_leave s LEFT JOIN employees e USING (emp_id) WHERE e.emp_id IS NULL",
    )
    assert orphans == [("E99999",)] and summary.dirty["hr.sick_leave"] == 1


def test_hr_iban_check_digits_valid(estate: tuple[Path, SeedSummary]) -> None:
    data_dir, _ = estate
    rows = _query(data_dir / "hr.db", "SELECT emp_id, iban FROM employees")
    # Report ids only: IBANs must not end up in test output.
    bad = [emp_id for emp_id, iban in rows if not (re.fullmatch(r"UA\d{27}", iban) and _iban_valid(iban))]
    assert bad == []


def test_hr_sensitive_side_tables(estate: tuple[Path, SeedSummary]) -> None:
    data_dir, _ = estate
    hr = data_dir / "hr.db"
    assert _count(hr, "litigation_holds") >= 2
    assert _count(hr, "garnishments") >= 2
    assert 60 <= _count(hr, "background_checks") <= 100
    outcomes = dict(_query(hr, "SELECT outcome, COUNT(*) FROM background_checks GROUP BY outcome"))
    assert set(outcomes) <= {"clear", "record_found", "pending"} and outcomes["record_found"] >= 1
    restricted = _query(hr, "SELECT COUNT(*) FROM employees WHERE occ_health_restriction IS NOT NULL")[0][0]
    assert 3 <= restricted <= 25


def test_items_fixed_width_cp1251(estate: tuple[Path, SeedSummary]) -> None:
    data_dir, summary = estate
    undecodable, bad_price, bad_gtin = 0, 0, 0
    for line in _lines(data_dir / ITEMS):
        assert len(line) == 94
        try:
            text = line.decode("cp1251")
        except UnicodeDecodeError:
            undecodable += 1
            assert b"\x98" in line[24:64]
            continue
        assert re.fullmatch(r"SKU-\d{6}", text[0:10]) and text[80:83] == "UAH"
        bad_price += text[68:80] == "         N/A"
        bad_gtin += not _gtin_valid(text[10:24])
    assert (undecodable, bad_price, bad_gtin) == (2, 1, 1)
    assert undecodable + bad_price + bad_gtin == summary.dirty["inventory.items"]


def test_stock_lines(estate: tuple[Path, SeedSummary]) -> None:
    data_dir, summary = estate
    lines = [line.decode("cp1251") for line in _lines(data_dir / STOCK)]
    assert all(len(line) == 24 for line in lines)
    bad = [line for line in lines if not line[16:24].strip().isdigit()]
    assert [line[16:24] for line in bad] == ["   -abc "] * summary.dirty["inventory.stock"] == ["   -abc "]
    item_skus = {line[:10] for line in _lines(data_dir / ITEMS)}
    assert {line[:10].encode() for line in lines} <= item_skus
    assert len({line[:16] for line in lines}) == len(lines)


def test_small_sizes_still_meet_minimums(tmp_path: Path) -> None:
    summary = seed_estate(tmp_path, customers=30, employees=10, products=10)
    assert summary.dirty["crm.CUST"] == 5
    assert summary.dirty["hr.employees"] == 3
    assert summary.dirty["inventory.items"] == 3
    assert _count(tmp_path / "hr.db", "litigation_holds") == 2


@pytest.mark.parametrize("seed", range(8))
def test_other_seeds_keep_the_shape(tmp_path: Path, seed: int) -> None:
    summary = seed_estate(tmp_path, customers=200, employees=200, products=50, seed=seed)
    assert summary.dirty["hr.employees"] == 4 and summary.dirty["inventory.stock"] == 1
    # Whatever the seed, a dirty supplier is a company whose ЄДРПОУ has a wrong check digit.
    _, dirty = _suppliers(tmp_path / "accounting.db")
    assert len(dirty) == summary.dirty["accounting.SUPPLIERS"] == 2
    assert all(form != "FOP" and _wrong_check_digit_only(code) for form, _, code in dirty)
    assert all(len(line) == 94 for line in _lines(tmp_path / ITEMS))
