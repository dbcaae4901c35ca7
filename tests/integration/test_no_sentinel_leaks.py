"""No medical, criminal or legal value in any output: every CLI command, scanned for sentinels.

The commands are enumerated from the typer app, so a new command without a recipe here
fails the test. Each recipe call runs plain, with ``--json`` where the command has it and
with the global ``--debug``, on a private copy of the synced sentinel estate; then its
stdout, stderr, every log record, the files it wrote and the hub store's bookkeeping
tables are searched for the estate's sentinels. A command with ``--reveal`` also runs with
it: its stdout and files may then show values, but the reveal must be audited and the
audit entry must hold none of them.
"""

from __future__ import annotations

import io
import logging
import shutil
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer

from officehub.cli.app import app, main
from tests.helpers import hub_links
from tests.integration import sentinel_estate
from tests.integration.sentinel_estate import IBAN, SENTINELS

EXIT_INTERNAL = 70
REASON = "sentinel scan ticket SC-1"
#: Bookkeeping tables that hold ids, counts, reasons and positions, never values (column None: every column).
SCANNED_TABLES = {"run": None, "audit": None, "audit_checkpoint": None, "match_review": None, "link_log": None,
                  "checkpoint": None, "quarantine": ("reason", "position"), "alert_incident": None}


@dataclass(frozen=True)
class Call:
    """One recipe call: arguments (``{dir}`` is the estate's copy), the exit codes it must end with."""

    args: tuple[str, ...]
    codes: tuple[int, ...] = (0,)  # () means: any failure that is not an internal error
    setup: tuple[tuple[str, ...], ...] = ()  # commands run first on the same copy (also scanned)
    prepare: Callable[[Path], None] | None = None


def ok(*args: str, codes: tuple[int, ...] = (0,), setup: tuple[tuple[str, ...], ...] = (),
       prepare: Callable[[Path], None] | None = None) -> Call:
    return Call(args, codes, setup, prepare)


def fails(*args: str, setup: tuple[tuple[str, ...], ...] = ()) -> Call:
    return Call(args, (), setup)


@dataclass(frozen=True)
class Ids:
    """Ids in the synced estate that recipes point at."""

    held: str  # E-1: under a litigation hold, with health, criminal and legal values
    free: str  # E-3: no hold
    clinic: str  # the clinic's record of Olha, waiting for review
    review: int
    quarantined: int  # the row whose raw values hold an over-long health note
    token: str


def _with_audit_key(folder: Path) -> None:
    from officehub.store.audit_anchor import new_signing_key

    (folder / "keys" / "audit.key").write_text(new_signing_key()[0] + "\n")
    config = (folder / "officehub.yaml").read_text()
    (folder / "officehub.yaml").write_text(config.replace("active_key: sentinel",
                                                          "active_key: sentinel\n  audit_key: {file: keys/audit.key}"))


SITE = ("site", "init", "kyiv")
CLERK = ("user", "add", "clerk", "-r", "viewer")
TOKEN = ("user", "token", "issue", "app", "--name", "scan", "-s", "read")


def _with_client(folder: Path) -> None:
    """An API client for the token commands (the estate has none)."""
    config = (folder / "officehub.yaml").read_text()
    (folder / "officehub.yaml").write_text(config + "serve:\n  clients:\n    app: {entities: [employee]}\n")


def _with_alerts(folder: Path) -> None:
    """Alert rules over the estate's runs, agreements and audit trail, sent to a webhook nobody listens on."""
    config = (folder / "officehub.yaml").read_text()
    (folder / "officehub.yaml").write_text(config + (
        "alerts:\n  channels:\n    ops: {type: webhook, url: 'http://127.0.0.1:9/alerts'}\n  rules:\n"
        "    - {id: failed, kind: run_failed, channels: [ops]}\n"
        "    - {id: quarantine, kind: quarantine_fraction, threshold: 0, channels: [ops]}\n"
        "    - {id: agreements, kind: agreement_ending, days: 3650, channels: [ops]}\n"
        "    - {id: audit, kind: audit_verify, channels: [ops]}\n"))


def recipes(i: Ids) -> dict[str, list[Call]]:
    """Per command path: its calls, success paths first, then error paths."""
    link = ("match", "link", str(i.review))
    reject = ("match", "reject", str(i.review))
    train, model = ("match", "train", "employee"), "{dir}/identity/employee.model.yaml"
    return {
        "init": [ok("init", "{dir}/fresh"), fails("init", "{dir}")],
        "check": [ok("check"), fails("check", "-p", "{dir}/nowhere")],
        "discover": [ok("discover", "hr"), fails("discover", "nosuch")],
        "demo": [ok("demo", "{dir}/demo", "--customers", "3", "--employees", "3", "--products", "3",
                    prepare=_demo_config),
                 fails("demo", "{dir}/nowhere")],
        "model schema": [ok("model", "schema", "employee"), fails("model", "schema", "nosuch")],
        "model fields": [ok("model", "fields", "employee"), fails("model", "fields", "nosuch")],
        "model diff": [ok("model", "diff"), ok("model", "diff", "--json"), fails("model", "diff", "-p", "{dir}/nowhere")],
        "store upgrade": [ok("store", "upgrade"), fails("store", "upgrade", "-p", "{dir}/nowhere")],
        "sync": [ok("sync", "--all"), fails("sync", "nosuch")],
        "runs": [ok("runs"), fails("runs", "--limit", "0")],
        "drift": [ok("drift"), ok("drift", "--system", "hr", "--stream", "staff", "--since", "1"),
                  fails("drift", "--since", "0")],  # a drifted source: test_schema_drift_sentinel
        "quarantine list": [ok("quarantine", "list", "--all"), fails("quarantine", "list", "--limit", "0")],
        "quarantine show": [ok("quarantine", "show", str(i.quarantined)), fails("quarantine", "show", "9999")],
        "quarantine replay": [ok("quarantine", "replay"), fails("quarantine", "replay", "-p", "{dir}/nowhere")],
        "policy check": [ok("policy", "check"), fails("policy", "check", "{dir}/missing.yaml")],
        "policy explain": [ok("policy", "explain", "--destination", "payroll"),
                           fails("policy", "explain", "--destination", "payroll", "--entity", "nosuch")],
        "policy diff": [ok("policy", "diff", "{dir}/policies", "{dir}/policies"),
                        fails("policy", "diff", "{dir}/policies", "{dir}/missing")],
        "policy preview": [ok("policy", "preview", "--destination", "payroll"),
                           ok("policy", "preview", "--destination", "reporting", "--sample", "10"),
                           fails("policy", "preview", "--destination", "nosuch")],
        "policy test": [ok("policy", "test", codes=(1,)), fails("policy", "test", "{dir}/missing.yaml")],
        "policy detokenize": [ok("policy", "detokenize", i.token, "--field", "employee.bank_account_iban",
                                 "--reason", REASON),
                              fails("policy", "detokenize", i.token, "--field", "employee.occupational_health_"
                                    "restrictions", "--reason", REASON),
                              fails("policy", "detokenize", "tok:sentinel:garbled", "--field",
                                    "employee.bank_account_iban", "--reason", REASON),
                              fails("policy", "detokenize", i.token, "--field", "employee.bank_account_iban")],
        "audit list": [ok("audit", "list", "--limit", "100"), fails("audit", "list", "--limit", "0")],
        "audit verify": [ok("audit", "verify"), fails("audit", "verify", "--expect-head", "0" * 64)],
        "audit checkpoint": [ok("audit", "checkpoint", prepare=_with_audit_key), fails("audit", "checkpoint")],
        "audit keygen": [ok("audit", "keygen", "{dir}/keys/new.key"), fails("audit", "keygen", "{dir}/officehub.yaml")],
        "match review": [ok("match", "review", "--all"), fails("match", "review", "--entity", "nosuch")],
        "match link": [ok(*link), fails("match", "link", "9999")],
        "match reject": [ok("match", "reject", str(i.review)), fails("match", "reject", "9999")],
        "match merge": [ok("match", "merge", "employee", i.held, i.clinic),
                        fails("match", "merge", "employee", i.held, "no-such-id")],
        "match unlink": [ok("match", "unlink", "employee", "clinic", "P-7", setup=(link,)),
                         fails("match", "unlink", "employee", "clinic", "no-such-id")],
        "match unmerge": [ok("match", "unmerge", "1", setup=(link,)), fails("match", "unmerge", "9999")],
        "match log": [ok("match", "log", setup=(link,)), fails("match", "log", "9999")],
        "match train": [ok("match", "train", "employee"), fails("match", "train", "nosuch")],
        "match explain": [ok("match", "explain", "employee", i.held, i.clinic, "--model", model, setup=(train,)),
                          fails("match", "explain", "employee", i.held, "no-such-id", "--model", model,
                                setup=(train,))],
        "match evaluate": [ok("match", "evaluate", "employee", "--model", model, setup=(train, reject)),
                           fails("match", "evaluate", "employee", "--labels", "{dir}/missing.csv")],
        "match rerun": [ok("match", "rerun", "employee"), ok("match", "rerun", "employee", "--dry-run"),
                        fails("match", "rerun", "nosuch")],
        "record show": [ok("record", "show", i.held), fails("record", "show", "no-such-id")],
        "record history": [ok("record", "history", i.held), fails("record", "history", "no-such-id")],
        "subject find": [ok("subject", "find", "Bondarenko"), fails("subject", "find", " ")],
        "subject export": [ok("subject", "export", i.held), ok("subject", "export", i.held, "-o", "{dir}/export.json"),
                           fails("subject", "export", "no-such-id")],
        "subject erase": [ok("subject", "erase", i.held, "--dry-run", codes=(3,)),
                          ok("subject", "erase", i.held, "--yes", "--report", "{dir}/erasure.json", codes=(3,)),
                          ok("subject", "erase", i.free, "--yes", "--report", "{dir}/erasure.json"),
                          fails("subject", "erase", i.free),  # not confirmed: the preview goes to stderr
                          fails("subject", "erase", "no-such-id", "--yes")],
        "site init": [ok(*SITE), fails("site", "init", "Not A Name")],
        "site add": [fails("site", "add", "{dir}/missing.json", setup=(SITE,))],
        "site list": [ok("site", "list", setup=(SITE,)), fails("site", "list")],
        "site revoke": [fails("site", "revoke", "nosuch", setup=(SITE,))],
        "site status": [ok("site", "status", setup=(SITE,)), fails("site", "status")],
        "site exchange": [fails("site", "exchange", "nosuch", setup=(SITE,))],
        "alerts check": [ok("alerts", "check", codes=(75,), prepare=_with_alerts),
                         fails("alerts", "check", "-p", "{dir}/nowhere")],
        "alerts list": [ok("alerts", "list", setup=(("sync", "--all"),), prepare=_with_alerts),
                        fails("alerts", "list", "--limit", "0")],
        "alerts test": [Call(("alerts", "test", "ops"), (), (), _with_alerts), fails("alerts", "test", "nosuch")],
        "serve": [fails("serve", "--workers", "2")],  # a running server is scanned by test_serve_no_leaks
        "metrics": [ok("metrics"), ok("metrics", "--textfile", "{dir}/out/officehub.prom"),
                    fails("metrics", "--textfile", "{dir}/out/officehub.txt"),
                    fails("metrics", "--push", "http://127.0.0.1:9")],  # served /metrics: test_metrics_served
        "user add": [ok(*CLERK), ok(*CLERK, "--or-reset", setup=(CLERK,)), fails("user", "add", "x", "-r", "nosuch")],
        "user list": [ok("user", "list", "--json", setup=(CLERK,)), fails("user", "list", "-p", "{dir}/nowhere")],
        "user disable": [ok("user", "disable", "clerk", setup=(CLERK,)), fails("user", "disable", "nobody")],
        "user enable": [ok("user", "enable", "clerk", setup=(CLERK,)), fails("user", "enable", "nobody")],
        "user roles": [ok("user", "roles", "clerk", "-r", "steward", setup=(CLERK,)),
                       fails("user", "roles", "clerk", "-r", "nosuch", setup=(CLERK,))],
        "user password": [ok("user", "password", "clerk", setup=(CLERK,)), fails("user", "password", "nobody")],
        "user token issue": [ok(*TOKEN, prepare=_with_client), fails(*TOKEN)],
        "user token list": [ok("user", "token", "list", "--json", setup=(TOKEN,), prepare=_with_client),
                            fails("user", "token", "list", "-p", "{dir}/nowhere")],
        "user token revoke": [ok("user", "token", "revoke", "1", setup=(TOKEN,), prepare=_with_client),
                              fails("user", "token", "revoke", "9999")],
    }


def _demo_config(folder: Path) -> None:
    from tests.conftest import copy_demo_config

    copy_demo_config(folder / "demo")


# -- the app's commands ---------------------------------------------------------------------------
def command_paths(group: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    """Every leaf command of ``group`` (typer's click commands), by its path ("policy preview")."""
    for name, command in sorted(group.commands.items()):
        if hasattr(command, "commands"):  # a sub-group
            yield from command_paths(command, (*prefix, name))
        else:
            yield " ".join((*prefix, name)), command


def has_option(command: Any, flag: str) -> bool:
    return any(flag in getattr(p, "opts", ()) for p in command.params)


# -- running one call in-process ------------------------------------------------------------------
@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str
    logs: str


def invoke(argv: list[str]) -> Outcome:
    """Run ``officehub ARGV`` in this process; every log record of every level is captured too."""
    out, err, logs = io.StringIO(), io.StringIO(), io.StringIO()
    handler = logging.StreamHandler(logs)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    level, stdin = root.level, sys.stdin
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    sys.stdin = io.StringIO("")  # a confirmation question gets no answer
    code = 0
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                main(argv)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        sys.stdin = stdin
    return Outcome(code, out.getvalue(), err.getvalue(), logs.getvalue())


def leaks(text: str) -> list[str]:
    return [s for s in SENTINELS if s in text]


def table_text(folder: Path) -> dict[str, str]:
    """The scanned bookkeeping tables of the copy's hub store, as text per table."""
    found = {}
    with sqlite3.connect(folder / ".officehub" / "hub.db") as db:
        names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        for name, columns in SCANNED_TABLES.items():
            if name in names:
                found[name] = repr(db.execute(f"SELECT {', '.join(columns) if columns else '*'} FROM {name}")
                                   .fetchall())
    return found


def audit_rows(folder: Path) -> list[tuple]:
    with sqlite3.connect(folder / ".officehub" / "hub.db") as db:
        return db.execute("SELECT action, subject, detail FROM audit ORDER BY id").fetchall()


def written_files(folder: Path, before: set[Path]) -> dict[str, str]:
    """Files the call wrote, apart from the hub store, source databases and destinations."""
    skip = {".officehub", "data", "out", "demo", "fresh"}
    return {str(p.relative_to(folder)): p.read_text(errors="replace") for p in folder.rglob("*")
            if p.is_file() and p not in before and p.relative_to(folder).parts[0] not in skip}


# -- the estate -----------------------------------------------------------------------------------
@pytest.fixture(scope="module", autouse=True)
def built_once() -> Iterator[None]:
    """Typer builds the click command on every call (a third of a second): build it once here."""
    command = typer.main.get_command(app)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(typer.main, "get_command", lambda typer_app: command if typer_app is app else
                      _get_command(typer_app))
        yield


_get_command = typer.main.get_command


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Outcome]:
    folder = sentinel_estate.build(tmp_path_factory.mktemp("sentinel") / "estate")
    done = invoke(["--debug", "-p", str(folder), "sync", "--all", "--json"])
    assert done.code == 0, done.stderr
    return folder, done


def _ids(folder: Path) -> Ids:
    import pyarrow as pa

    from officehub.config import load_project
    from officehub.policies.operators import OperatorContext, Tokenize

    with sqlite3.connect(folder / ".officehub" / "hub.db") as db:
        xref = {(s, v): c for s, _, v, c in hub_links(db)}
        review = db.execute("SELECT id FROM match_review WHERE status = 'pending'").fetchone()[0]
        quarantined = db.execute("SELECT id FROM quarantine WHERE pipeline = 'hr_employees_in'").fetchone()[0]
    keys = load_project(folder).keyring()
    token = Tokenize(Tokenize.Params(), OperatorContext("employee.bank_account_iban", keys)).apply(
        pa.array([IBAN]))[0].as_py()
    return Ids(xref[("hr", "E-1")], xref[("hr", "E-3")], xref[("clinic", "P-7")], review, quarantined, token)


def test_the_estate_holds_every_special_category_and_quarantines_its_dirty_rows(synced):
    folder, done = synced
    assert not leaks(done.stdout + done.stderr + done.logs)
    with sqlite3.connect(folder / ".officehub" / "hub.db") as db:
        held = db.execute("SELECT occupational_health_restrictions, background_check__checked_on, "
                          "litigation_hold__matter_ref FROM employee WHERE employee_number = 'E-1'").fetchone()
        children = [db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                    for t in ("employee__sick_leave", "employee__garnishments")]
        quarantined = db.execute("SELECT count(*) FROM quarantine").fetchone()[0]
        pending = db.execute("SELECT count(*) FROM match_review WHERE status = 'pending'").fetchone()[0]
    assert all(leaks(str(v)) for v in held) and children == [1, 1]
    assert quarantined == 5 and pending == 1


def test_every_command_has_a_recipe(synced):
    known = recipes(_ids(synced[0]))
    missing = [path for path, _ in command_paths(typer.main.get_command(app)) if path not in known]
    assert not missing, f"commands without a recipe in {Path(__file__).name}: {', '.join(missing)}"


def _variants(command: Any, call: Call) -> Iterator[tuple[str, list[str], bool]]:
    """(name, argv after the global options, reveals) for each way the call runs."""
    yield "plain", list(call.args), False
    if has_option(command, "--json"):
        yield "json", [*call.args, "--json"], False
    yield "debug", ["--debug", *call.args], False
    if has_option(command, "--reveal") and call.codes == (0,):
        yield "reveal", [*call.args, "--reveal", "--reason", REASON], True


def _run(folder: Path, argv: list[str]) -> Outcome:
    global_debug = argv[:1] == ["--debug"]
    rest = argv[1:] if global_debug else argv
    return invoke([*(["--debug"] if global_debug else []), "-p", str(folder), *rest])


def test_no_command_prints_logs_or_records_a_special_category_value(synced, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch):
    template, _ = synced
    monkeypatch.setenv("OFFICEHUB_SITE_PASSPHRASE", "a passphrase for the sentinel scan")
    known = recipes(_ids(template))
    problems: list[str] = []
    copies = 0
    for path, command in command_paths(typer.main.get_command(app)):
        for call in known.get(path, []):
            for variant, argv, reveals in _variants(command, call):
                copies += 1
                folder = Path(shutil.copytree(template, tmp_path / f"c{copies}"))
                if call.prepare:
                    call.prepare(folder)
                where = f"{path} [{variant}] {' '.join(call.args)}"
                problems += _check(folder, where, call, argv, reveals)
                shutil.rmtree(folder)
    assert not problems, "\n".join(problems)


def _fill(args: list[str], folder: Path) -> list[str]:
    return [a.replace("{dir}", str(folder)) for a in args]


def _check(folder: Path, where: str, call: Call, argv: list[str], reveals: bool) -> list[str]:
    problems = []
    before_files = set(folder.rglob("*"))
    shown = ""
    for setup in call.setup:
        done = _run(folder, _fill(list(setup), folder))
        assert done.code == 0, (where, "setup", setup, done.stderr)
        shown += done.stdout + done.stderr + done.logs
    audited = len(audit_rows(folder))
    done = _run(folder, _fill(argv, folder))
    if done.code == EXIT_INTERNAL or "internal error" in done.stderr:
        problems.append(f"{where}: internal error\n{done.stderr}")
    elif call.codes and done.code not in call.codes:
        problems.append(f"{where}: exit {done.code}, expected {call.codes}\n{done.stdout}{done.stderr}")
    elif not call.codes and done.code == 0:
        problems.append(f"{where}: the error path succeeded")
    files = written_files(folder, before_files)
    public = shown + done.stderr + done.logs + ("" if reveals else done.stdout + "".join(files.values()))
    if found := leaks(public):
        problems.append(f"{where}: {found} in the output or logs")
    for table, text in table_text(folder).items():
        if found := leaks(text):
            problems.append(f"{where}: {found} in the hub store's {table} table")
    if reveals:
        entries = audit_rows(folder)[audited:]
        if not any(REASON in detail for _, _, detail in entries):
            problems.append(f"{where}: the reveal was not audited with its reason")
    return problems
