"""Packages that import their public names on first use (PEP 562), so a command loads only what it needs."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``: each name in ``exports`` comes from its submodule."""
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value  # later look-ups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *namespace.get("__all__", ())})

    return __getattr__, __dir__


class LazyModule:
    """A stand-in for a module that imports it on the first attribute asked for.

    For a heavy library (pyarrow) that a module uses only in some of its functions: the
    module imports at once, the library when one of those functions first runs. Each
    attribute is kept once fetched, so later uses cost what a module attribute does.
    Bind it under ``if not TYPE_CHECKING``, so that type checkers see the real module.
    """

    def __init__(self, name: str) -> None:
        self.__name = name

    def __getattr__(self, name: str) -> Any:
        value = getattr(importlib.import_module(self.__name), name)
        setattr(self, name, value)
        return value

    def __repr__(self) -> str:
        return f"<lazy module {self.__name!r}>"
