"""Reading the project's TOML files (accelerator configs, codec grids, sweep files).

``tomllib`` (Python 3.11+) or, on 3.10, the ``tomli`` package; a missing file, an unreadable
file or invalid TOML is a typed error naming the file and what it was meant to hold.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .errors import InputError, ParameterError, UnsupportedError

__all__ = ["read_toml"]


def read_toml(path: str | os.PathLike, what: str) -> dict[str, Any]:
    """The TOML document at ``path``; ``what`` names it in errors (e.g. "accelerator config")."""
    try:
        import tomllib
    except ImportError:  # pragma: no cover - Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ImportError:
            raise UnsupportedError("reading a TOML file needs Python 3.11+ (tomllib) or the tomli package") from None
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{what} file {str(p)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{what} file {str(p)!r} cannot be read: {exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ParameterError(f"{what} {str(p)!r} is not valid TOML: {exc}") from None
