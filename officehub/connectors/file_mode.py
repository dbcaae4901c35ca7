"""``file_mode``: the permissions of files a connector writes, as an octal string."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator

_OCTAL_MODE = re.compile(r"0?[0-7]{3}")


def _octal(value: object) -> object:
    # Unquoted, YAML reads 0640 as the number 416: only a string says the digits are octal.
    if value is not None and not (isinstance(value, str) and _OCTAL_MODE.fullmatch(value)):
        raise ValueError("'file_mode' is an octal permission string such as \"0640\"")
    return value


#: An octal permission string such as "0640", or None to leave the bits to the umask.
FileMode = Annotated[str | None, BeforeValidator(_octal)]


def permission_bits(file_mode: str | None) -> int | None:
    """``file_mode`` as permission bits, or None to leave them to the umask."""
    return None if file_mode is None else int(file_mode, 8)
