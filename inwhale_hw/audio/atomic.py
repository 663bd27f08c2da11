"""Whole-or-nothing output: files and directories are built under a temporary name, then renamed.

Every file this package writes goes through :func:`atomic_path` / :func:`atomic_write`, and
every output directory (``roundtrip --out-dir``, the ``listen`` page) through
:func:`atomic_dir`.  The temporary lives in the destination's own directory, so
:func:`os.replace` is a rename within one file system (atomic on POSIX and Windows), and a file
keeps the destination's extension (soundfile and matplotlib infer the format from it).

Temporary names carry the writer's process id: ``.<stem>.iwtmp-<pid>-<random>.tmp<ext>`` for
files and ``.<name>.iwtmp-<pid>-<random>.tmpdir`` for directories.  They are removed

* when the body raises (any exception, ``KeyboardInterrupt`` included): the destination is left
  exactly as it was;
* on SIGTERM/SIGINT once :func:`install_signal_cleanup` has run (the CLI does): every temporary
  still registered is deleted, then the process exits with status ``128 + signal``;
* after a SIGKILL, by the next run writing into the same directory: :func:`remove_stale_temps`
  deletes entries whose name matches the pattern and whose pid is no longer alive.

Output locations are not invented: a missing parent directory is refused with
:class:`~inwhale_hw.errors.OutputError` naming it (as sox and ffmpeg do), and any ``OSError``
while writing becomes an ``OutputError`` naming the user's path, never the temporary name.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import os
import re
import shutil
import signal
import tempfile
import threading
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

from ..errors import InwhaleError, OutputError, SignalExit

__all__ = [
    "atomic_path",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_text",
    "atomic_dir",
    "check_output_dir",
    "install_signal_cleanup",
    "remove_stale_temps",
    "TEMP_PATTERN",
    "write_failure",
]

#: names of our temporaries; group 1 is the pid of the process that made them
TEMP_PATTERN = re.compile(r"^\..*\.iwtmp-(\d+)-[A-Za-z0-9_]+\.(?:tmp(?:\..*)?|tmpdir|old)$")

_LIVE: set[Path] = set()
#: temporaries not (yet) renamed into place; whatever is left of them goes at interpreter exit
_UNFINISHED: set[Path] = set()
_LOCK = threading.RLock()  # re-entrant: the signal handler may run while the main thread holds it


def _register(path: Path) -> None:
    with _LOCK:
        _LIVE.add(path)
        _UNFINISHED.add(path)


def _finished(path: Path) -> None:
    with _LOCK:
        _UNFINISHED.discard(path)


@atexit.register
def _remove_unfinished() -> None:
    """Last safety net (also after a signal's exit): remove temporaries that were never renamed."""
    with _LOCK:
        leftover = list(_UNFINISHED)
    for path in leftover:
        if os.path.lexists(path):
            _remove(path)


def _forget(path: Path) -> None:
    with _LOCK:
        _LIVE.discard(path)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        for _ in range(3):  # entries added while the walk ran would leave the directory: walk again
            shutil.rmtree(path, ignore_errors=True)
            if not path.exists():
                break
    else:
        with contextlib.suppress(FileNotFoundError, PermissionError):
            path.unlink()


def check_output_dir(dest: Path) -> None:
    """Refuse ``dest`` if its parent directory does not exist or is not a directory."""
    parent = dest.parent
    if not parent.exists():
        missing = parent
        while not missing.parent.exists():
            missing = missing.parent
        raise OutputError(f"{dest}: directory {missing} does not exist; create it first")
    if not parent.is_dir():
        raise OutputError(f"{dest}: {parent} is not a directory")


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def remove_stale_temps(directory: str | os.PathLike) -> list[Path]:
    """Delete temporaries in ``directory`` left by processes that no longer exist; return them."""
    removed = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        match = TEMP_PATTERN.match(entry.name)
        if match and not _pid_alive(int(match.group(1))):
            path = Path(entry.path)
            _remove(path)
            removed.append(path)
    return removed


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGTERM/SIGINT while a temporary is created and registered (no unregistered leftovers)."""
    mask = {signal.SIGTERM, signal.SIGINT}
    can_block = hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread()
    old = signal.pthread_sigmask(signal.SIG_BLOCK, mask) if can_block else None
    try:
        yield
    finally:
        if can_block:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _temp_prefix(dest: Path) -> str:
    return f".{dest.stem}.iwtmp-{os.getpid()}-"


def _output_error(dest: Path, exc: OSError) -> OutputError:
    reason = exc.strerror or str(exc)
    return OutputError(f"{dest}: cannot write ({reason})")


def write_failure(dest: Path, where: Path, detail: str) -> OutputError:
    """An :class:`OutputError` for a library that reports no errno (libsndfile's "System error").

    A full file system is recognised from the free space left in ``where``'s directory.
    """
    try:
        st = os.statvfs(where.parent)
        full = st.f_bavail * st.f_frsize < 1 << 16
    except (OSError, AttributeError):
        full = False
    reason = os.strerror(errno.ENOSPC) if full else detail
    return OutputError(f"{dest}: cannot write ({reason})")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it to ``path``.

    The parent directory must exist.  On any exception the temporary file is deleted and the
    exception propagates (an ``OSError`` as :class:`OutputError` naming ``path``).
    """
    dest = Path(path)
    check_output_dir(dest)
    remove_stale_temps(dest.parent)
    with _signals_deferred():
        try:
            fd, tmp_name = tempfile.mkstemp(prefix=_temp_prefix(dest), suffix=f".tmp{dest.suffix}", dir=dest.parent)
        except OSError as exc:
            raise _output_error(dest, exc) from None
        os.close(fd)
        tmp = Path(tmp_name)
        _register(tmp)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        yield tmp
        os.replace(tmp, dest)
        _finished(tmp)
    except OSError as exc:
        _remove(tmp)
        if isinstance(exc, InwhaleError):
            raise
        raise _output_error(dest, exc) from None
    except BaseException:
        _remove(tmp)
        raise
    finally:
        _forget(tmp)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """Yield a binary file object; its content replaces ``path`` only if the body succeeds."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_write(path) as handle:
        handle.write(data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike, replaceable: Callable[[Path], bool]) -> Iterator[Path]:
    """Yield an empty temporary directory beside ``path``; on success it becomes ``path``.

    The parent of ``path`` must exist (the final directory itself may be created).  An existing
    ``path`` is replaced as a whole (no stale entries survive) if it is empty or
    ``replaceable(path)`` says it holds only what this package wrote there; otherwise the
    directory is refused before any work is done.  On any exception the temporary directory is
    removed and ``path`` is left as it was.
    """
    dest = Path(path)
    check_output_dir(dest)
    if dest.exists():
        if not dest.is_dir():
            raise OutputError(f"{dest}: exists and is not a directory")
        if any(dest.iterdir()) and not replaceable(dest):
            raise OutputError(
                f"{dest}: directory exists and holds files inwhale-hw did not write; "
                "choose a new or empty directory"
            )
    remove_stale_temps(dest.parent)
    with _signals_deferred():
        try:
            tmp = Path(tempfile.mkdtemp(prefix=_temp_prefix(dest), suffix=".tmpdir", dir=dest.parent))
        except OSError as exc:
            raise _output_error(dest, exc) from None
        _register(tmp)
    old = tmp.with_suffix(".old")
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        yield tmp
        _register(old)
        if dest.exists():
            os.replace(dest, old)
        os.replace(tmp, dest)
        _finished(tmp)
        _remove(old)
        _finished(old)
    except OSError as exc:
        _remove(tmp)
        if old.exists() and not dest.exists():
            os.replace(old, dest)
        if isinstance(exc, OutputError):  # name the user's directory, not the temporary one
            raise OutputError(str(exc).replace(str(tmp), str(dest))) from None
        if isinstance(exc, InwhaleError):
            raise
        raise _output_error(dest, exc) from None
    except BaseException:
        _remove(tmp)
        raise
    finally:
        _forget(tmp)
        _forget(old)


def _cleanup_and_exit(signum: int, frame: object) -> None:
    with _LOCK:
        live = list(_LIVE)
    for path in live:
        _remove(path)
    signal.signal(signum, signal.SIG_DFL)
    raise SignalExit(128 + signum)


def install_signal_cleanup() -> None:
    """On SIGTERM/SIGINT remove every live temporary and exit with status ``128 + signal``.

    Only the main thread can install handlers; elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _cleanup_and_exit)
