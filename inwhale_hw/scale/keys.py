"""Content keys for resumable runs: what a stored result was computed from.

A task's key is the SHA-256 of a canonical JSON record of everything its result depends on:

* the input's content (SHA-256 of the file's bytes, read in 1 MiB blocks, so a renamed or
  touched file keeps its results and an edited one does not);
* the task's configuration (codec name and parameters, or an accelerator configuration),
  serialized with sorted keys;
* the code: :func:`code_fingerprint` hashes the source of the installed ``inwhale_hw``
  package (every ``.py`` file below it, names and bytes, in sorted order) plus the source
  file of any class from outside it (a third-party plugin), so an edited checkout or an
  upgraded plugin never reuses a stale result.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import os
from pathlib import Path
from typing import Any

__all__ = ["file_digest", "bytes_digest", "code_fingerprint", "task_key", "canonical_json"]

_BLOCK = 1 << 20


def file_digest(path: str | os.PathLike) -> str:
    """SHA-256 (hex) of the file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_BLOCK):
            h.update(block)
    return h.hexdigest()


def bytes_digest(data: bytes) -> str:
    """SHA-256 (hex) of ``data``."""
    return hashlib.sha256(data).hexdigest()


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace; non-JSON values as their ``str``."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


@functools.lru_cache(maxsize=None)
def _package_digest() -> str:
    import inwhale_hw

    root = Path(inwhale_hw.__file__).resolve().parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def code_fingerprint(*objects: Any) -> str:
    """Hash of the installed package's source and of the source files of ``objects``' classes
    that live outside it (third-party plugins)."""
    h = hashlib.sha256(_package_digest().encode())
    for obj in objects:
        cls = obj if isinstance(obj, type) else type(obj)
        if cls.__module__.split(".")[0] == "inwhale_hw":
            continue
        try:
            source = inspect.getsourcefile(cls)
        except TypeError:
            source = None
        h.update(cls.__module__.encode() + b"." + cls.__qualname__.encode())
        if source and os.path.exists(source):
            h.update(Path(source).read_bytes())
    return h.hexdigest()


def task_key(**parts: Any) -> str:
    """SHA-256 (hex, first 32 digits) of the canonical JSON of ``parts``."""
    return hashlib.sha256(canonical_json(parts).encode()).hexdigest()[:32]
