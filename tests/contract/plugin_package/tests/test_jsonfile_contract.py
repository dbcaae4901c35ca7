"""The connector contract, run on this plugin: the harness below is all a plugin author writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from officehub.canonical_model.errors import FatalError
from officehub.connectors.contract import ContractHarness, ErrorCase, Row, connector_contract_tests
from officehub_jsonfile_plugin import JsonFileConnector


class JsonFileHarness(ContractHarness):
    """A folder of JSON files: ``contacts.json`` is read, ``contacts_out.json`` written."""

    connector_class = JsonFileConnector

    def settings(self) -> dict[str, Any]:
        return {"type": "jsonfile", "folder": "data"}

    def _file(self, stream: str) -> Path:
        return self.base_dir / "data" / f"{stream}.json"

    def seed(self, records: list[Row]) -> None:
        # The vendor keeps one row per id: a changed record is replaced where it stands.
        path = self._file(self.stream)
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = {r["id"]: r for r in (json.loads(path.read_text()) if path.exists() else [])}
        rows.update({r["id"]: r for r in records})
        path.write_text(json.dumps(list(rows.values())))

    def written(self) -> list[Row]:
        path = self._file(self.out_stream)
        rows = json.loads(path.read_text()) if path.exists() else []
        return sorted(({k: str(r[k]) for k in ("id", "name", "email")} for r in rows), key=lambda r: int(r["id"]))

    def position_of(self, record_id: int, ordinal: int) -> str:
        return f"contacts.json[{ordinal}]"

    def error_cases(self) -> list[ErrorCase]:
        return [ErrorCase("the folder does not exist", FatalError, settings={"type": "jsonfile", "folder": "gone"})]


TestJsonFileConnector = connector_contract_tests(JsonFileHarness)
