"""Data-sharing policies as compliance officers work with them: the matrix in force, agreements, and changes
that take effect only when a second officer signs them off.

The **matrix** is ``policy explain`` for every destination at once: per entity and field,
what each destination receives, the deciding rule and its reason, under which agreement
and legal basis. A **change** is a policy file's new text, proposed with a reason: it is
checked exactly as ``load_project`` checks policy files, compared field by field with the
policies in force, and kept as a proposal (:mod:`officehub.services.approvals`). Another
officer may preview it on sample records (special-category values show only their class)
and approve it: the file is written then, and every server process and run that loads the
project from then on applies it. A proposal made against policies that changed since is
refused at approval, so nobody signs off a diff that no longer holds.
"""

from __future__ import annotations

import difflib
import os
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from officehub.canonical_model import ENTITIES
from officehub.canonical_model.errors import FatalError
from officehub.config import Project
from officehub.config.policy_files import policies_with, policy_paths
from officehub.engine.context import RunContext
from officehub.engine.preview import abbreviate, presence
from officehub.engine.publish import policy_context
from officehub.policies import CompileContext, Destination, PolicySet, compile_plan
from officehub.policies.analysis import destinations, diff, explain
from officehub.services import approvals
from officehub.services.approvals import Proposal
from officehub.store import audit, golden
from officehub.store.hub import HubStore

KIND = "policy.change"
#: Agreements ending within this many days are flagged.
ENDING_SOON_DAYS = 30


def countries(project: Project) -> dict[str, str | None]:
    """Every destination's country: the systems' and the API clients'."""
    config = project.config
    return {**{n: c.country for n, c in config.serve.clients.items()},
            **{n: s.country for n, s in config.systems.items()}}


def matrix(project: Project, entity: str, today: date | None = None) -> dict[str, Any]:
    """For ``entity``: each field's class and, per destination with an agreement, the action, rule and reason."""
    if entity not in ENTITIES:
        raise FatalError(f"unknown entity '{entity}' (known: {', '.join(ENTITIES)})")
    context = policy_context(project)
    if today is not None:
        context = CompileContext(context.policies, context.keys, today, context.derived)
    columns: list[dict[str, Any]] = []
    for dest in destinations(project.policies, countries(project)):
        purposes = sorted({a.purpose for a in project.policies.agreements if a.destination == dest.name})
        for purpose in purposes:
            try:
                plan = compile_plan(entity, Destination(dest.name, dest.country, purpose), context)
            except FatalError as exc:
                columns.append({"destination": dest.name, "purpose": purpose, "refused": exc.message, "rows": {}})
                continue
            agreement = plan.agreement
            columns.append({"destination": dest.name, "purpose": purpose, "refused": None,
                            "agreement": agreement.id if agreement else None,
                            "legal_basis": agreement.legal_basis if agreement else None,
                            "rows": {str(row["field"]): row for row in explain(plan)}})
    first = next((c for c in columns if c["rows"]), None)
    fields = list(first["rows"]) if first else []
    classes = {f: first["rows"][f]["class"] for f in fields} if first else {}
    return {"entity": entity, "fields": fields, "classes": classes, "columns": columns,
            "policy_version": project.policies.version}


def agreements(project: Project, today: date | None = None) -> list[dict[str, Any]]:
    """Every agreement with its state on ``today``: in force, ending soon, expired or not yet started."""
    today = today or date.today()
    out = []
    for a in sorted(project.policies.agreements, key=lambda a: (a.destination, a.id)):
        left = (a.valid_until - today).days if a.valid_until else None
        state = ("not yet in force" if a.valid_from > today else "expired" if left is not None and left < 0
                 else "ending soon" if left is not None and left <= ENDING_SOON_DAYS else "in force")
        out.append({"id": a.id, "destination": a.destination, "purpose": a.purpose, "legal_basis": a.legal_basis,
                    "valid_from": a.valid_from, "valid_until": a.valid_until, "days_left": left, "state": state,
                    "special_categories": [f"{p.category.value} ({p.basis})" for p in a.special_categories]})
    return out


def policy_files(project: Project) -> list[str]:
    """The policy files in force, relative to the project folder."""
    return [str(p.relative_to(project.base_dir)) for p in policy_paths(project.config.policies, project.base_dir)]


def current_text(project: Project, file: str) -> str:
    """The text of policy file ``file`` in force ('' for a new file)."""
    path = project.base_dir / file
    return path.read_text(encoding="utf-8") if file in policy_files(project) else ""


def propose(project: Project, store: HubStore, actor: str, file: str, text: str, reason: str | None) -> Proposal:
    """Check ``text`` as policy file ``file``, compare it with the policies in force and keep it as a proposal.

    ConfigError (every problem with its line) when the text is not a valid policy file for this project.
    """
    text = text.replace("\r\n", "\n")  # a browser's form sends CRLF; the policy file keeps the project's LF
    changed = policies_with(project.config.policies, project.base_dir, project.config, file, text)
    rows = _diff(project, changed)
    payload = {"file": file, "text": text, "base_version": project.policies.version,
               "new_version": changed.version, "diff": rows}
    with store.begin() as conn:
        return approvals.propose(conn, actor, KIND, f"policy file {file}", payload, reason,
                                 detail={"file": file, "fields_changed": len(rows),
                                         "destinations": sorted({r["destination"] for r in rows})})


def proposals(ctx: RunContext, *, pending_only: bool = False) -> list[Proposal]:
    """Policy changes, newest first."""
    return approvals.listed(ctx.conn, KIND, pending_only=pending_only)


def proposal(ctx: RunContext, project: Project, proposal_id: int) -> dict[str, Any]:
    """A proposal with its field changes, the text diff against the file in force, and whether it is stale."""
    found = approvals.get(ctx.conn, proposal_id)
    if found.kind != KIND:
        raise FatalError(f"proposal {proposal_id} is not a policy change")
    file, text = found.payload["file"], found.payload["text"]
    before = current_text(project, file) if found.pending else ""
    lines = list(difflib.unified_diff(before.splitlines(), text.splitlines(), f"{file} (in force)",
                                      f"{file} (proposed)", lineterm="")) if found.pending else []
    return {"proposal": found, "file": file, "text_diff": lines, "fields": found.payload["diff"],
            "stale": found.pending and found.payload["base_version"] != project.policies.version}


def preview(ctx: RunContext, project: Project, proposal_id: int, sample: int = 3) -> list[dict[str, Any]]:
    """``sample`` recent records of each entity a proposal changes, per destination it changes, field by field:
    in the hub (abbreviated), now and under the proposal. Special-category values show only their class.

    Audited as ``policy.preview`` with the proposal and how many records were shown.
    """
    found = approvals.get(ctx.conn, proposal_id)
    changed = policies_with(project.config.policies, project.base_dir, project.config, found.payload["file"],
                            found.payload["text"])
    context = policy_context(project)
    after_context = CompileContext(changed, context.keys, context.today, context.derived)
    where = countries(project)
    shown = []
    pairs = sorted({(r["destination"], r["entity"]) for r in found.payload["diff"]})
    for destination, entity in pairs:
        fields = {r["field"] for r in found.payload["diff"] if (r["destination"], r["entity"]) == (destination, entity)}
        records = golden.recent(ctx.conn, entity, sample)
        dest = Destination(destination, where.get(destination))
        now, then = _applied(entity, dest, context, records), _applied(entity, dest, after_context, records)
        for row in range(records.num_rows):
            shown.append({"destination": destination, "entity": entity,
                          "canonical_id": records.column("canonical_id")[row].as_py(),
                          "fields": [_field_preview(path, records, now, then, row) for path in sorted(fields)]})
    audit.append(ctx.conn, actor=ctx.actor, action="policy.preview", subject=f"proposal {proposal_id}",
                 detail={"proposal": proposal_id, "records": len(shown), "destinations": sorted({d for d, _ in pairs})},
                 run_id=ctx.run_id)
    return shown


def approve(project: Project, store: HubStore, actor: str, proposal_id: int) -> Proposal:
    """Sign a proposal off as the second officer: its file is written and takes effect.

    Refused when the policies changed since it was proposed (its diff no longer holds), or when
    the text no longer passes the checks (the model or the systems changed).
    """
    with store.begin() as conn:
        found = approvals.signable(conn, actor, proposal_id, KIND)
        if found.payload["base_version"] != project.policies.version:
            raise FatalError(f"the policies changed since proposal {proposal_id} was made; its comparison no longer "
                             "holds: reject it and propose the change again")
        file, text = found.payload["file"], found.payload["text"]
        changed = policies_with(project.config.policies, project.base_dir, project.config, file, text)
        staged = _stage(project.base_dir / file, text)
        try:
            decided = approvals.decide(conn, actor, proposal_id, KIND, approve=True,
                                       outcome={"file": file, "policy_version_before": project.policies.version,
                                                "policy_version_after": changed.version})
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
    os.replace(staged, project.base_dir / file)  # after the commit: a refused decision leaves the file as it was
    return decided


def last_approved(store: HubStore) -> int | None:
    """The newest approved policy change: a server process that sees a newer one than it loaded reloads."""
    with store.begin() as conn:
        return approvals.last_id(conn, KIND, "approved")


def reject(store: HubStore, actor: str, proposal_id: int) -> Proposal:
    """Turn a proposal down as the second officer."""
    with store.begin() as conn:
        return approvals.decide(conn, actor, proposal_id, KIND, approve=False)


def withdraw(store: HubStore, actor: str, proposal_id: int) -> Proposal:
    """The proposer takes their proposal back."""
    with store.begin() as conn:
        return approvals.withdraw(conn, actor, proposal_id, KIND)


def _diff(project: Project, changed: PolicySet) -> list[dict[str, str]]:
    context = policy_context(project)
    return diff(project.policies, changed, context, CompileContext(changed, context.keys, context.today,
                                                                   context.derived), countries(project))


def _applied(entity: str, dest: Destination, context: CompileContext, records: Any) -> dict[str, Any] | None:
    try:
        plan = compile_plan(entity, dest, context)
    except FatalError:
        return None  # no agreement in force: nothing is sent
    policed = plan.apply(records)
    return {"plan": plan, "columns": policed.columns}


def _field_preview(path: str, records: Any, now: dict[str, Any] | None, then: dict[str, Any] | None,
                   row: int) -> dict[str, Any]:
    plan = (then or now or {}).get("plan")
    decision = plan.decision(path) if plan is not None else None
    column = decision.column if decision is not None else path.replace(".", "__")
    sensitivity = decision.sensitivity if decision is not None else None
    original = records.column(column)[row].as_py() if column in records.column_names else None

    def received(applied: dict[str, Any] | None) -> str | None:
        if applied is None:
            return "(nothing sent)"
        if column not in applied["columns"]:
            return "(withheld)"
        value = applied["columns"][column][row].as_py()
        if sensitivity is not None and sensitivity.is_special_category:
            return presence(value, sensitivity)
        return abbreviate(value)

    special = sensitivity is not None and sensitivity.is_special_category
    return {"field": path, "class": sensitivity.value if sensitivity else None,
            "hub": presence(original, sensitivity) if special and sensitivity else abbreviate(original),
            "now": received(now), "proposed": received(then)}


def _stage(target: Path, text: str) -> Path:
    """``text`` in a new file beside ``target``, to be moved over it in one step."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".proposed", dir=target.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    return Path(name)
