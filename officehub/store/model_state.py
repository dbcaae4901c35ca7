"""Which canonical model the hub store's entity tables were shaped for, and bringing them to another.

Each time the entity tables are (re)shaped, the model is recorded in ``hub_model`` with its
fingerprint. Opening a store compares one fingerprint with the model in force; only when
they differ is the store inspected (:func:`pending`):

- changes that touch no table and weaken no protection (a new label, a stricter class, a
  new validator) are recorded at once;
- fields a new release of officehub adds to the built-in entities (new, optional columns,
  nothing else pending) are added on opening, like the hub's own schema revisions, and audited;
- other table changes wait for ``officehub store upgrade``: until then, runs refuse to start
  with a message that says so, rather than failing on a missing column half-way;
- a destructive change (a dropped entity or field, a narrower type) and a lowered
  sensitivity class are applied only with ``allow_destructive``, and are audited.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

import sqlalchemy as sa

from officehub.canonical_model import ENTITIES
from officehub.canonical_model.declaration import EntityDecl
from officehub.canonical_model.declared import build_entities
from officehub.canonical_model.entities import BUILTIN_DECLARATIONS, DECLARATIONS
from officehub.canonical_model.errors import FatalError
from officehub.canonical_model.layout import layout_of
from officehub.store import audit
from officehub.store.model_changes import ADD_COLUMN, ADD_TABLE, Change, apply, compare
from officehub.store.schema import TABLES, entity_tables_of

LOWER_CLASS = "lower class"


def fingerprint(declarations: dict[str, EntityDecl]) -> str:
    """A hash of the declarations that changes whenever anything about the model does."""
    return hashlib.sha256(_canonical_json(declarations).encode()).hexdigest()


def _as_json(declarations: dict[str, EntityDecl]) -> dict[str, Any]:
    return {name: decl.model_dump(mode="json", by_alias=True, exclude_defaults=True)
            for name, decl in sorted(declarations.items())}


def _canonical_json(declarations: dict[str, EntityDecl]) -> str:
    return json.dumps(_as_json(declarations), sort_keys=True, ensure_ascii=False)


@dataclass
class ModelDiff:
    """What bringing the store to the model in force would do."""

    changes: list[Change] = field(default_factory=list)
    #: Whether the store records no model yet (made before models were recorded).
    unrecorded: bool = False

    @property
    def destructive(self) -> list[Change]:
        """The changes that lose data or weaken a protection."""
        return [c for c in self.changes if c.destructive or c.kind == LOWER_CLASS]

    def as_dict(self) -> dict[str, Any]:
        """For ``--json``."""
        return {"changes": [c.as_dict() | {"destructive": c in self.destructive} for c in self.changes],
                "destructive": len(self.destructive)}


def recorded(conn: sa.Connection) -> dict[str, Any] | None:
    """The newest recorded model (fingerprint and declarations), or None."""
    table = TABLES["hub_model"]
    row = conn.execute(sa.select(table.c.fingerprint, table.c.declarations)
                       .order_by(table.c.id.desc()).limit(1)).first()
    return None if row is None else {"fingerprint": row.fingerprint, "declarations": row.declarations}


def pending(conn: sa.Connection) -> ModelDiff:
    """The changes the model in force makes to the store (empty when the store already fits it)."""
    last = recorded(conn)
    if last is not None and last["fingerprint"] == fingerprint(DECLARATIONS):
        return ModelDiff()
    changes = compare(conn)
    if last is not None:
        changes += _lowered_classes(last["declarations"])
    return ModelDiff(changes, unrecorded=last is None)


def _lowered_classes(before: dict[str, Any]) -> list[Change]:
    """Fields whose sensitivity class the new model lowers (a policy event: less protection)."""
    try:
        old = build_entities({name: EntityDecl.model_validate(body) for name, body in before.items()})
    except ValueError:
        return []  # a model this version cannot read back: the table comparison still stands
    lowered = []
    for entity, model in old.items():
        if entity not in ENTITIES:
            continue
        now = _classes(ENTITIES[entity])
        for path, was in _classes(model).items():
            after = now.get(path)
            if was is not None and after is not None and after.rank < was.rank:
                lowered.append(Change(LOWER_CLASS, entity, path, f"{was.value} → {after.value}"))
    return lowered


def _classes(model: Any) -> dict[str, Any]:
    lay = layout_of(model)
    found = {leaf.path: leaf.sensitivity for leaf in lay.fields}
    for coll in lay.collections:
        found.update({f"{coll.name}.{leaf.path}": leaf.sensitivity for leaf in coll.fields})
    return found


def record(conn: sa.Connection, changes: list[Change], actor: str) -> None:
    """Note the model in force as the one the entity tables now fit."""
    conn.execute(sa.insert(TABLES["hub_model"]).values(
        fingerprint=fingerprint(DECLARATIONS), declarations=_as_json(DECLARATIONS),
        changes=[c.as_dict() for c in changes], applied_at=datetime.now(UTC), applied_by=actor))


def upgrade(conn: sa.Connection, actor: str, *, allow_destructive: bool = False) -> ModelDiff:
    """Apply what the model in force changes; FatalError naming each destructive change if not allowed."""
    diff = pending(conn)
    if diff.destructive and not allow_destructive:
        listed = "; ".join(c.describe() for c in diff.destructive)
        raise FatalError(f"{len(diff.destructive)} change(s) would destroy data or lower protection, applied only "
                         f"with --allow-destructive: {listed}")
    apply(conn, [c for c in diff.changes if c.kind != LOWER_CLASS])
    for change in diff.changes:
        # Names, kinds and classes only: the audit never holds a value.
        audit.append(conn, actor=actor, action=f"model.{change.kind.replace(' ', '_')}",
                     subject=f"{change.table}.{change.column}" if change.column else change.table,
                     detail=change.as_dict())
    if diff.changes or diff.unrecorded or _stale(conn):
        record(conn, diff.changes, actor)
    return diff


def _stale(conn: sa.Connection) -> bool:
    last = recorded(conn)
    return last is None or last["fingerprint"] != fingerprint(DECLARATIONS)


#: The actor of changes that come with officehub itself (fields added to the built-ins).
RELEASE_ACTOR = "officehub (release)"


@cache
def _builtin_columns() -> frozenset[tuple[str, str | None]]:
    """(table, column) of every entity table the built-in entities alone call for, and (table, None)."""
    tables = entity_tables_of(build_entities(BUILTIN_DECLARATIONS).values())
    return frozenset({(t.name, None) for t in tables} | {(t.name, c.name) for t in tables for c in t.columns})


def _from_release(change: Change) -> bool:
    """A new table or column of a built-in entity as officehub ships it: nothing a project did."""
    return change.kind in (ADD_TABLE, ADD_COLUMN) and (change.table, change.column) in _builtin_columns()


def require_current(conn: sa.Connection) -> None:
    """Refuse to run on a store whose entity tables do not fit the model in force.

    A store that fits it (or needs nothing applied) has the model recorded and passes; one
    that lacks only what a newer officehub adds to the built-ins gets it added here.
    """
    diff = pending(conn)
    if diff.changes and all(_from_release(c) for c in diff.changes):
        upgrade(conn, RELEASE_ACTOR)
        return
    if not diff.changes:
        if _stale(conn):  # a change that touches no table (a label, a stricter class): noted, nothing to do
            record(conn, [], "officehub")
        return
    shown = "; ".join(c.describe() for c in diff.changes[:3]) + ("; …" if len(diff.changes) > 3 else "")
    raise FatalError(f"the hub store does not fit the model in force ({len(diff.changes)} change(s): {shown}); "
                     "see them with 'officehub model diff' and apply them with 'officehub store upgrade'")


def class_events(conn: sa.Connection) -> list[tuple[str, str]]:
    """Lowered sensitivity classes, for ``policy check``: (field, what happened), pending ones first."""
    pending_ones = [(f"{c.table}.{c.column}", f"the model lowers its class ({c.detail}); not applied yet "
                     "('officehub store upgrade --allow-destructive')")
                    for c in pending(conn).changes if c.kind == LOWER_CLASS]
    applied = [(e["subject"], f"class lowered ({e['detail'].get('detail')}) by {e['actor']} on {e['at']:%Y-%m-%d}")
               for e in audit.entries(conn, action="model.lower_class", limit=100)]
    return pending_ones + applied
