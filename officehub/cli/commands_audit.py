"""Commands on the audit trail: list it, verify it, sign its head, make a signing key.

The reading, verifying and signing are :mod:`officehub.services.audit_trail` (SQLAlchemy,
cryptography), imported inside the commands that use them.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from officehub.canonical_model.errors import FatalError
from officehub.cli.commands_identity import actor
from officehub.cli.options import JsonOption, ProjectOption
from officehub.cli.output import console, emit_json, errors, table
from officehub.cli.session import hub_session

if TYPE_CHECKING:
    from officehub.services.audit_trail import Verification

audit_app = typer.Typer(help="The audit trail: what left the hub, and proof nobody changed the record.",
                        no_args_is_help=True)

_HEAD = re.compile(r"[0-9a-f]{64}")


def audit_list(action: Annotated[str | None, typer.Option(help="Only this action (publish, detokenize…).")] = None,
               limit: Annotated[int, typer.Option(min=1)] = 20,
               project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """The newest audit entries."""
    from officehub.services import audit_trail
    from officehub.services.session import acting

    with hub_session(project) as (_, store), acting(store, actor()) as ctx:
        rows = audit_trail.entries(ctx, action=action, limit=limit)
    if as_json:
        emit_json(rows)
        return
    console.print(table("audit", ["id", "at", "actor", "action", "subject", "detail"],
                        [(r["id"], r["at"], r["actor"], r["action"], r["subject"], r["detail"]) for r in rows]))


def _report(result: Verification, expect_head: str | None) -> dict[str, Any]:
    last = result.last_checkpoint
    return {"ok": result.ok, "status": "ok" if result.ok else "tampered", "entries": result.entries,
            "head": result.head, "broken_at": result.broken_at, "problem": result.problem,
            "anchored": result.anchored, "last_checkpoint": last.as_dict() if last else None,
            "unanchored_entries": result.unanchored, "expected_head": expect_head}


def _print(result: Verification) -> None:
    from officehub.services.audit_trail import NO_SIGNING_KEY

    if result.ok:
        console.print(f"[green]ok[/] {result.entries} entries verified; head {result.head}", highlight=False)
    else:
        where = f"entry {result.broken_at}: " if result.broken_at is not None else ""
        errors.print(f"[red]tampered[/] {where}{result.problem}", highlight=False)
    last = result.last_checkpoint
    if not result.anchored:
        errors.print(f"[yellow]warning[/] the chain is unanchored: {NO_SIGNING_KEY}, so a truncated or rewritten "
                     "chain would verify", highlight=False)
    elif last is None:
        errors.print("[yellow]warning[/] no checkpoint yet: every entry is unanchored "
                     "(run 'officehub audit checkpoint')", highlight=False)
    else:
        console.print(f"last checkpoint {last.id}: entry {last.entry_id} ({last.entries} entries) at "
                      f"{last.at:%Y-%m-%d %H:%M:%S}, key {last.key_id}", highlight=False)
        if result.ok and result.unanchored:
            errors.print(f"[yellow]warning[/] {result.unanchored} entries after the last checkpoint are unanchored",
                         highlight=False)


def audit_verify(expect_head: Annotated[str | None, typer.Option(
                     help="A head printed by an earlier verify and kept outside the hub: the chain must still hold it.")] = None,
                 public_key: Annotated[list[str] | None, typer.Option(
                     help="Also trust checkpoints signed with this Ed25519 public key (base64).")] = None,
                 project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """Check the hash chain and its signed checkpoints: edits, deletions, reordering, truncation and rewrites."""
    from officehub.services import audit_trail
    from officehub.services.session import acting

    if expect_head is not None and not _HEAD.fullmatch(expect_head):
        raise FatalError("--expect-head: not a head hash (64 lower-case hex digits)")
    with hub_session(project) as (loaded, store), acting(store, actor()) as ctx:
        keys = audit_trail.trusting(loaded.audit_keys, public_key or [])
        result = audit_trail.verify(ctx, keys, expect_head)
    if as_json:
        emit_json(_report(result, expect_head))
    else:
        _print(result)
    raise typer.Exit(0 if result.ok else 1)


def audit_checkpoint(project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """Sign the chain's current head (run it from cron; publishes and syncs sign their own entries)."""
    from officehub.services import audit_trail

    with hub_session(project) as (loaded, store):
        signed = audit_trail.checkpoint(store, loaded.audit_keys)
    if as_json:
        emit_json(signed.as_dict() if signed else None)
    elif signed is None:
        console.print("the audit trail is empty: nothing to sign", highlight=False)
    else:
        console.print(f"checkpoint {signed.id}: entry {signed.entry_id} ({signed.entries} entries), "
                      f"head {signed.head}, key {signed.key_id}", highlight=False)


def audit_keygen(path: Annotated[Path, typer.Argument(help="Where to write the private key (must not exist).")],
                 as_json: JsonOption = False) -> None:
    """Make an Ed25519 key for signing checkpoints: the private key to PATH (mode 0600), the public key printed."""
    from officehub.services import audit_trail

    key = audit_trail.new_signing_key()
    try:
        # Created with its final mode, so the key is never readable by others, not even briefly.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise FatalError(f"{path} already exists; refusing to replace a signing key") from None
    except OSError as exc:
        raise FatalError(f"cannot create {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(key.private_text + "\n")
    shown = {"path": str(path), "public_key": key.public_text, "key_id": key.key_id}
    if as_json:
        emit_json(shown)
        return
    console.print(f"wrote {path}; keep it outside the hub store and its backups.\n"
                  f"public key {shown['public_key']}\nkey id     {shown['key_id']}\n"
                  f"configure it as hub.audit_key: {{file: {path}}}; a verifier that must not sign lists "
                  "only the public key, under hub.audit_verify_keys", highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    """Attach these commands to the main app."""
    for name, command in (("list", audit_list), ("verify", audit_verify), ("checkpoint", audit_checkpoint),
                          ("keygen", audit_keygen)):
        audit_app.command(name)(command)
    app.add_typer(audit_app, name="audit")
