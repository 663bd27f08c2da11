"""The inputs of a batch run: a directory, a list file or a CSV manifest.

* a **directory**: every file below it (recursively) whose name matches one of the glob
  patterns (default :data:`AUDIO_GLOBS`), named by its path relative to the directory;
* a **list file** (``.txt``/``.lst``): one path per line, relative to the list's folder;
  blank lines and ``#`` comments are skipped;
* a **CSV manifest** (``.csv``): a header row with a ``path`` column (relative to the
  manifest's folder); every other column is carried into the result table as ``meta.<name>``.

Items are sorted by name, so the task order, and the table, never depend on the file system's
listing order.
"""

from __future__ import annotations

import csv
import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError

__all__ = ["CorpusItem", "discover", "AUDIO_GLOBS"]

AUDIO_GLOBS = ("*.wav", "*.flac", "*.ogg", "*.opus", "*.aif", "*.aiff", "*.au", "*.caf", "*.w64", "*.rf64", "*.mp3")


@dataclass(frozen=True)
class CorpusItem:
    """One input file: its path, the name it has in the table, and manifest columns."""

    path: Path
    name: str
    meta: dict[str, str] = field(default_factory=dict)


def _from_directory(root: Path, globs: tuple[str, ...]) -> list[CorpusItem]:
    items = []
    for dirpath, _dirs, files in os.walk(root):
        for filename in files:
            if any(fnmatch.fnmatch(filename.lower(), g.lower()) for g in globs):
                path = Path(dirpath) / filename
                items.append(CorpusItem(path, path.relative_to(root).as_posix()))
    return items


def _from_list(path: Path) -> list[CorpusItem]:
    items = []
    for line in path.read_text().splitlines():
        entry = line.split("#", 1)[0].strip()
        if entry:
            items.append(CorpusItem(path.parent / entry, entry))
    return items


def _from_csv(path: Path) -> list[CorpusItem]:
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or "path" not in reader.fieldnames:
            raise InputError(f"{path}: a CSV manifest needs a 'path' column; its columns are {reader.fieldnames}")
        return [
            CorpusItem(path.parent / row["path"], row["path"], {k: v for k, v in row.items() if k != "path" and k})
            for row in reader if row.get("path")
        ]


def discover(source: str | os.PathLike, globs: tuple[str, ...] | None = None) -> list[CorpusItem]:
    """The corpus ``source`` names (see the module docstring), sorted by name."""
    root = Path(source)
    if root.is_dir():
        items = _from_directory(root, tuple(globs or AUDIO_GLOBS))
    elif root.is_file() and root.suffix.lower() == ".csv":
        items = _from_csv(root)
    elif root.is_file():
        items = _from_list(root)
    else:
        raise InputError(f"{source}: no such directory, list file or CSV manifest")
    if not items:
        raise InputError(f"{source}: no input files found (patterns: {', '.join(globs or AUDIO_GLOBS)})")
    missing = [item.name for item in items if not item.path.is_file()]
    if missing:
        raise InputError(f"{source}: {len(missing)} listed file(s) do not exist, e.g. {missing[0]!r}")
    names = [item.name for item in items]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise InputError(f"{source}: the file {dup!r} is listed twice")
    return sorted(items, key=lambda item: item.name)
