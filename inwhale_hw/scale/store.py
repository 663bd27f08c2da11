"""Finished task results on disk, one JSON file per task, so a run can resume.

``OUT/.tasks/<key>.json`` holds ``{"key": ..., "ok": true, "row": {...}}`` for a task that
produced a row, or ``{"ok": false, "error": "..."}`` for one that failed with a typed error.
Each file is written under a temporary name and renamed, so a killed run leaves complete
records only; a re-run with the same output directory skips every key that has a record
(``force=True`` ignores them).  Keys come from :mod:`.keys`, so a record can only be reused
for the same input bytes, configuration and code.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..audio.atomic import atomic_write_text

__all__ = ["TaskStore"]


class TaskStore:
    """The ``.tasks`` folder of an output directory."""

    def __init__(self, out_dir: str | os.PathLike, *, force: bool = False) -> None:
        self.folder = Path(out_dir) / ".tasks"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.force = force

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def done(self, key: str) -> bool:
        """True when ``key`` has a record and the store is not forcing recomputation."""
        return not self.force and self._path(key).exists()

    def put(self, key: str, row: dict[str, Any]) -> None:
        atomic_write_text(self._path(key), json.dumps({"key": key, "ok": True, "row": row}, sort_keys=True))

    def put_error(self, key: str, error: str) -> None:
        atomic_write_text(self._path(key), json.dumps({"key": key, "ok": False, "error": error}, sort_keys=True))

    def get(self, key: str) -> dict[str, Any] | None:
        """The record of ``key`` (``None`` when there is none or it is unreadable)."""
        try:
            return json.loads(self._path(key).read_text())
        except (OSError, ValueError):
            return None
