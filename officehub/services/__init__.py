"""Audited operations: the one place a reveal, an export, a detokenize or a steward's decision happens.

Each module holds one kind of operation. A service function takes a
:class:`~officehub.engine.context.RunContext` (the transaction and the actor) — or, when
it must commit its own transactions, the store and the actor — performs the operation,
writes its audit entry in the same transaction as the read it records, and returns plain
data. The command line and the coming console and hub API call these functions and only
render what they return; none of them builds SQL or writes an audit entry of its own
(ADR 0019).

Nothing is imported here: ``from officehub.services import records`` loads one module.
"""

__all__ = ["audit_trail", "drift", "links", "policies", "quarantine", "reasons", "records", "reviews", "runs", "session",
           "subjects", "tokens"]
