"""The identity benchmark's own parts: its scoring, its Cyrillic spelling of names, its FEBRL4 data."""

from __future__ import annotations

import ast
import doctest
import inspect
import re

import pytest

from bench.linkage import cyrillic
from bench.linkage.cyrillic import to_ukrainian
from bench.linkage.metrics import Scores, format_table, score

TRUE = {("a1", "b1"), ("a2", "b2"), ("a3", "b3")}
LATIN = re.compile("[A-Za-z]")


def test_scores_count_true_and_false_links_exactly():
    links = {("a1", "b1"), ("a2", "b2"), ("a1", "b9"), ("a4", "b4")}

    s = score(links, TRUE)

    assert (s.true_positives, s.false_positives, s.missed) == (2, 2, 1)
    assert s.precision == pytest.approx(1 / 2)
    assert s.recall == pytest.approx(2 / 3)
    assert s.f1 == pytest.approx(4 / 7)


def test_one_false_positive_among_three_true_pairs():
    s = score(TRUE | {("a1", "b2")}, TRUE)

    assert (s.precision, s.recall) == (pytest.approx(3 / 4), 1.0)
    assert s.f1 == pytest.approx(6 / 7)


def test_left_for_review_counts_only_true_pairs_that_were_not_linked():
    reviews = {("a2", "b2"), ("a3", "b3"), ("a1", "b3")}  # a2-b2 is linked too; a1-b3 is false

    s = score({("a1", "b1"), ("a2", "b2")}, TRUE, reviews)

    assert s.review_only == 1
    assert s.review_share == pytest.approx(1 / 3)


def test_no_links_scores_zero_not_a_division_error():
    s = score(set(), TRUE)

    assert (s.precision, s.recall, s.f1, s.missed) == (0.0, 0.0, 0.0, 3)
    assert score(set(), set()).f1 == 0.0


def test_as_dict_carries_counts_and_derived_figures():
    d = score(TRUE, TRUE, seconds=1.5).as_dict()

    assert d["precision"] == d["recall"] == d["f1"] == 1.0
    assert (d["true_positives"], d["links"], d["truth"], d["seconds"]) == (3, 3, 3, 1.5)


def test_format_table_is_markdown_one_row_per_tool():
    rows = [("officehub", score(TRUE, TRUE, seconds=2.0)), ("splink", Scores(2, 0, 1, 1))]

    assert format_table(rows) == (
        "| tool | precision | recall | F1 | left for review | seconds |\n"
        "|---|---:|---:|---:|---:|---:|\n"
        "| officehub | 1.000 | 1.000 | 1.000 | 0 (0.0%) | 2.00 |\n"
        "| splink | 1.000 | 0.667 | 0.800 | 1 (33.3%) | – |\n"
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("mitchell", "Мітчелл"),
        ("maxon", "Максон"),
        ("harris", "Гарріс"),
        ("joshua", "Джошуа"),
        ("thompson", "Томпсон"),
        ("hannah", "Ганна"),
        ("christopher", "Крістофер"),
        ("olivia", "Олівія"),
        ("bradley", "Брадлі"),
        ("george", "Джеордж"),
        ("jacqueline", "Джаквелін"),
        ("maya", "Мая"),
        ("lewis", "Льюіс"),
        ("quinn", "Квінн"),
        ("smith-jones", "Сміт-Джонес"),
    ],
)
def test_to_ukrainian_writes_names_as_a_clerk_would(name, expected):
    assert to_ukrainian(name) == expected


def test_to_ukrainian_leaves_no_latin_letter():
    assert not LATIN.search(to_ukrainian("abcdefghijklmnopqrstuvwxyz o'brien"))


def test_the_docstring_examples_hold():
    assert doctest.testmod(cyrillic).failed == 0


def test_the_transcription_owes_nothing_to_the_matcher():
    tree = ast.parse(inspect.getsource(cyrillic))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}

    assert not any(name.split(".")[0] == "officehub" for name in imported)
