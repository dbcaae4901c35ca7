"""Splink, the benchmark's peer: a Fellegi–Sunter model trained and run on FEBRL4 in-process (DuckDB).

Set up as a careful user would from Splink's own FEBRL4 example, with one difference the benchmark
requires: no identifier. Names, address, suburb, postcode, state and date of birth only; the social
security number the example blocks and compares on is left out.
"""

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bench.linkage.febrl import MATCH_COLUMNS, LinkageData, Record
from bench.linkage.metrics import Pair

SEED = 20261204
# The prior from deterministic rules: a guess at their recall, as a user without labels would make.
DETERMINISTIC_RECALL = 0.7
U_MAX_PAIRS = 1e7


@dataclass(frozen=True)
class SplinkResult:
    """The pairs Splink linked at the threshold, how long it took, and which Splink it was."""

    links: frozenset[Pair]
    train_seconds: float
    predict_seconds: float
    version: str

    @property
    def seconds(self) -> float:
        """Training and prediction together."""
        return self.train_seconds + self.predict_seconds


def run_splink(data: LinkageData, threshold: float = 0.9) -> SplinkResult:
    """Train Splink on both sides of `data`, link them, and keep the pairs with match probability ≥ `threshold`."""
    splink = _import_splink()
    with _quiet():
        started = time.perf_counter()
        linker = _trained_linker(data)
        trained = time.perf_counter()
        predictions = linker.inference.predict(threshold_match_probability=threshold, warning_mode="never")
        links = _pairs(predictions.as_record_list(), threshold)
        predicted = time.perf_counter()
    return SplinkResult(links, trained - started, predicted - trained, splink.__version__)


def _trained_linker(data: LinkageData) -> Any:
    from splink import DuckDBAPI, Linker, block_on

    db_api = DuckDBAPI()
    sides = [db_api.register(_without_identifier(side), dataset_display_name=name) for name, side in _sides(data)]
    linker = Linker(sides, _settings(), log_level=None)
    training = linker.training
    training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "date_of_birth"), block_on("surname", "postcode", "street_number")],
        recall=DETERMINISTIC_RECALL,
    )
    training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=SEED)
    for rule in (block_on("date_of_birth"), block_on("postcode"), block_on("given_name", "surname")):
        training.estimate_parameters_using_expectation_maximisation(rule, estimate_without_term_frequencies=True)
    return linker


def _settings() -> Any:
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="id",
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            # FEBRL dates are YYYYMMDD text, some impossible ("19561331"): compared as missing, not as a mismatch.
            cl.DateOfBirthComparison(
                "date_of_birth", input_is_string=True, datetime_format="%Y%m%d", invalid_dates_as_null=True
            ),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.LevenshteinAtThresholds("address_1", [1, 2]),
            cl.LevenshteinAtThresholds("suburb", [1, 2]).configure(term_frequency_adjustments=True),
            cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]).configure(term_frequency_adjustments=True),
            cl.ExactMatch("state").configure(term_frequency_adjustments=True),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("given_name"),
            block_on("surname"),
            "l.given_name = r.surname and l.surname = r.given_name",
            block_on("date_of_birth"),
            block_on("postcode", "street_number"),
        ],
    )


def _sides(data: LinkageData) -> list[tuple[str, list[Record]]]:
    return [("a", data.a), ("b", data.b)]


def _without_identifier(records: list[Record]) -> list[Record]:
    return [{"id": r["id"]} | {column: r[column] for column in MATCH_COLUMNS} for r in records]


def _pairs(rows: list[dict[str, Any]], threshold: float) -> frozenset[Pair]:
    # Splink may put either side on the left; its source_dataset column says which.
    return frozenset(
        (row["id_l"], row["id_r"]) if row["source_dataset_l"] == "a" else (row["id_r"], row["id_l"])
        for row in rows
        if row["match_probability"] >= threshold
    )


@contextmanager
def _quiet() -> Iterator[None]:
    """Splink's progress and training messages off for the run, its errors still shown."""
    logger = logging.getLogger("splink")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _import_splink() -> Any:
    try:
        import splink
    except ImportError as exc:  # the dev install does not carry the benchmark's peers
        raise ImportError("the linkage benchmark's peer is Splink: pip install 'officehub[bench]'") from exc
    return splink
