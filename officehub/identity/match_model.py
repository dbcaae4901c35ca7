"""The probabilistic match model file: what is compared, how, and the weights learned from the data.

A model file (``identity/customer.model.yaml``) belongs to the project like a policy: it is
versioned, reviewed and read by every sync. Users write its ``comparisons`` and ``blocking``
(or let ``officehub match train`` propose them); training fills in each level's ``m``
(how often true pairs land there) and ``u`` (how often random pairs do), the ``prior``
(how likely two random records are the same), and the term frequencies of common values.

It holds no record value except a field's common values in ``frequencies``, and only values
that at least :data:`MIN_SHARED` records share: a value that many people have identifies
no one (``smith``, ``2000``), and a rare one never leaves the hub store.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from officehub.canonical_model import layout
from officehub.identity.comparisons import KINDS, KindName

#: A value goes into a model file's ``frequencies`` only when at least this many records share it.
MIN_SHARED = 10

_NAME = r"^[a-z][a-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LevelWeights(_Strict):
    """One agreement level with its learned probabilities."""

    label: str
    m: float = Field(gt=0, le=1, description="share of true pairs at this level")
    u: float = Field(gt=0, le=1, description="share of random pairs at this level")


class Comparison(_Strict):
    """One compared field: its columns, its kind and, once trained, the weight of each level."""

    name: str = Field(pattern=_NAME, description="the comparison's name, shown by match explain")
    columns: list[str] = Field(min_length=1, description="golden columns compared together")
    kind: KindName = Field(description="name, organisation, date, code, text or exact")
    term_frequency: bool = Field(False, description="an exact match on a rare value counts more than on a common one")
    levels: list[LevelWeights] = Field([], description="learned by match train; the kind's levels in order")
    frequencies: dict[str, float] = Field({}, description="share of records with each common value")
    rare_u: float | None = Field(None, gt=0, le=1, description="chance two random records share a rarer value")

    @model_validator(mode="after")
    def _levels_fit_kind(self) -> Comparison:
        labels = KINDS[self.kind].labels
        if self.levels and tuple(level.label for level in self.levels) != labels:
            raise ValueError(f"comparison {self.name}: levels must be {', '.join(labels)} in this order "
                             f"(the kind's levels changed: train the model again)")
        return self


class BlockingRule(_Strict):
    """Records are compared only when they agree on all columns of at least one rule."""

    columns: list[str] = Field(min_length=1)
    pairs: int | None = Field(None, description="pairs this rule made at the last training (its cost)")


class Training(_Strict):
    """What the last training saw and found."""

    at: datetime
    records: int
    systems: list[str]
    pairs_for_u: int = Field(description="random pairs compared to estimate u")
    blocked_pairs: int = Field(description="distinct pairs the blocking rules made, compared by EM")
    expected_matches: float = Field(description="true pairs the model expects among the blocked pairs")
    iterations: dict[str, int] = Field({}, description="EM iterations per blocking rule")
    untrained: list[str] = Field([], description="comparisons no blocking rule could train (kept their m)")


class MatchModel(_Strict):
    """A Fellegi–Sunter match model of one entity."""

    entity: str
    version: int = Field(0, ge=0, description="raised by every training")
    prior: float | None = Field(None, gt=0, lt=1, description="chance two random records are the same")
    blocking: list[BlockingRule] = Field(min_length=1)
    comparisons: list[Comparison] = Field(min_length=1)
    trained: Training | None = None

    @field_validator("comparisons")
    @classmethod
    def _unique_names(cls, comparisons: list[Comparison]) -> list[Comparison]:
        names = [c.name for c in comparisons]
        if dupes := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"comparison names must be unique: {', '.join(dupes)}")
        return comparisons

    @model_validator(mode="after")
    def _columns_exist(self) -> MatchModel:
        try:
            known = {leaf.column for leaf in layout(self.entity).fields}
        except KeyError:
            raise ValueError(f"unknown entity '{self.entity}'") from None
        named = [c for rule in self.blocking for c in rule.columns]
        named += [c for comparison in self.comparisons for c in comparison.columns]
        if unknown := sorted({c for c in named if c not in known}):
            raise ValueError(f"{self.entity} has no column {', '.join(unknown)}")
        return self

    @property
    def is_trained(self) -> bool:
        """Whether every comparison has its weights and the prior is known."""
        return self.prior is not None and all(c.levels for c in self.comparisons)


def read_model(path: Path) -> MatchModel:
    """The model in ``path``; ValueError with the file and the problem when it is not a valid model."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except OSError as exc:
        raise ValueError(f"{path.name}: cannot be read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{path.name}: not valid YAML ({exc.__class__.__name__})") from None
    try:
        return MatchModel.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_input=False, include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        return_msg = f"{where}: {first['msg']}" if where else first["msg"]
        raise ValueError(f"{path.name}: {return_msg}") from None


_HEADER = """\
# officehub match model for {entity}, version {version}.
# Written by `officehub match train`; review a change like a policy change.
# comparisons and blocking are yours to edit; levels, prior and frequencies are learned
# (m: share of true pairs at a level, u: share of random pairs). `officehub match explain`
# shows how they add up for a pair of records.
"""


def write_model(path: Path, model: MatchModel) -> None:
    """Write ``model`` to ``path`` (atomically: a crash leaves the previous version)."""
    data: dict[str, Any] = model.model_dump(mode="json", exclude_none=True)
    for comparison in data["comparisons"]:
        for key in ("levels", "frequencies"):
            if not comparison.get(key):
                comparison.pop(key, None)
    text = _HEADER.format(entity=model.entity, version=model.version) + yaml.safe_dump(
        data, sort_keys=False, allow_unicode=True, width=110)
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(path.name + ".tmp")
    scratch.write_text(text, encoding="utf-8")
    scratch.replace(path)


__all__ = ["MIN_SHARED", "BlockingRule", "Comparison", "LevelWeights", "MatchModel", "Training", "read_model",
           "write_model"]
