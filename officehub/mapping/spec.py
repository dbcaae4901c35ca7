"""Mappings as users write them in YAML: vendor stream fields ↔ canonical fields."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from officehub.canonical_model import Sensitivity, layout

#: Hub columns an outbound mapping may publish besides the canonical fields.
HUB_COLUMNS = ("canonical_id", "vendor_id", "version", "updated_at")


class FieldSpec(BaseModel):
    """Where one canonical field comes from (vendor column or columns) and how it is converted."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    source: str | list[str] = Field(alias="from")
    transforms: list[str | dict[str, Any]] = []
    sensitivity: Sensitivity | None = Field(None, alias="class", description=(
        "the class of a field derived from a sensitive column (e.g. medical for a job title that "
        "concatenates an occupational-health note); policies decide the field under the stricter "
        "of this and the model's class"))

    on_error: Literal["quarantine", "null", "flag"] = Field("quarantine", description=(
        "what happens when the value does not convert (a transform fails): quarantine the whole record "
        "(the default), store it with this field empty (null), or store it with this field empty and "
        "keep the vendor's text in a data-quality flag that 'record show' lists (flag)"))

    ids_from: str | None = Field(None, description=(
        "for a reference field: the system whose ids the column holds (default: the mapping's own system); "
        "each is resolved to the hub's canonical id through the cross-reference"))

    @property
    def sources(self) -> list[str]:
        """The vendor columns, as a list."""
        return [self.source] if isinstance(self.source, str) else list(self.source)

    @model_validator(mode="after")
    def _several_sources_need_concat(self) -> FieldSpec:
        if len(self.sources) > 1 and not (self.transforms and _transform_name(self.transforms[0]) == "concat"):
            raise ValueError("a field taken from several vendor columns must start with a 'concat' transform")
        return self


def _all_fields(target: str) -> dict[str, Any]:
    """``fields: all`` (hub to hub, e.g. a peer site): every field of the entity under its own column name."""
    try:
        leaves = layout(target).fields
    except KeyError:
        return {}  # not an entity: the mapping's compiler reports the target
    return {"canonical_id": {"from": "canonical_id"}, **{leaf.path: {"from": leaf.column} for leaf in leaves}}


def _transform_name(spec: str | dict[str, Any]) -> str:
    return spec if isinstance(spec, str) else next(iter(spec), "")


class DeletedWhen(BaseModel):
    """How a source marks a record deleted: a flag column, or a status column with deletion values."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    column: str = Field(description="vendor column that marks a deleted record")
    values: list[str] | None = Field(None, alias="in", description=(
        "values of the column that mean deleted; without them any true-ish value (true, 1, y, yes) does"))


class MappingSpec(BaseModel):
    """One vendor stream mapped to one canonical entity (or one of its repeating groups)."""

    model_config = ConfigDict(extra="forbid")

    system: str
    stream: str
    target: str = Field(description="entity ('customer') or entity.collection ('employee.sick_leave')")
    key: list[str] = Field(min_length=1, description="vendor columns that identify a record in this stream")
    cursor: str | None = Field(None, description="vendor column that grows on every change (incremental reads)")
    parent_key: str | None = Field(None, description="for a collection: the vendor column holding the parent's id")
    extends: bool = Field(False, description="only enrich records this system already supplied; never create")
    deleted_when: DeletedWhen | None = Field(None, description="how the source reports a deleted record")
    fields: dict[str, FieldSpec]
    description: str | None = None

    @field_validator("key", mode="before")
    @classmethod
    def _key_as_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("fields", mode="before")
    @classmethod
    def _shorthand(cls, value: Any, info: ValidationInfo) -> Any:
        if value == "all":
            return _all_fields(info.data.get("target", ""))
        if isinstance(value, dict):
            return {k: {"from": v} if isinstance(v, (str, list)) else v for k, v in value.items()}
        return value

    @property
    def entity(self) -> str:
        """The canonical entity this mapping feeds or publishes."""
        return self.target.split(".", 1)[0]

    @property
    def collection(self) -> str | None:
        """The repeating group targeted, if any."""
        return self.target.split(".", 1)[1] if "." in self.target else None

    @model_validator(mode="after")
    def _collection_needs_parent(self) -> MappingSpec:
        if self.collection and not self.parent_key:
            raise ValueError("a mapping to a repeating group needs 'parent_key'")
        return self
