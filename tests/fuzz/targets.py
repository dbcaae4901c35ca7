"""The fuzz targets by name: one per parser that reads bytes from outside the hub.

A target is a callable taking one input's bytes. It returns when the parser gave a correct
answer (rows, rejected rows, or one of officehub's own errors) and raises on a finding.
Targets are built on first use: some start a loopback server or make a folder.
"""

from __future__ import annotations

from collections.abc import Callable

Target = Callable[[bytes], None]


def _csv() -> Target:
    from tests.fuzz.file_targets import csv_target
    return csv_target()


def _jsonl() -> Target:
    from tests.fuzz.file_targets import jsonl_target
    return jsonl_target()


def _fixed_width() -> Target:
    from tests.fuzz.file_targets import fixed_width_target
    return fixed_width_target()


def _site_bundle() -> Target:
    from tests.fuzz.site_target import site_bundle
    return site_bundle


def _config_yaml() -> Target:
    from tests.fuzz.config_target import config_target
    return config_target()


def _rest_pages() -> Target:
    from tests.fuzz.rest_target import rest_target
    return rest_target()


#: Each target's name (its corpus and regressions folder) and how to build it.
TARGETS: dict[str, Callable[[], Target]] = {
    "csv": _csv, "jsonl": _jsonl, "fixed_width": _fixed_width, "site_bundle": _site_bundle,
    "config_yaml": _config_yaml, "rest_pages": _rest_pages,
}

_built: dict[str, Target] = {}


def target(name: str) -> Target:
    """The target called ``name``, built once per process."""
    if name not in _built:
        _built[name] = TARGETS[name]()
    return _built[name]
