"""Run one codec's work for the listening page so that its failure cannot take the page down.

:func:`run_isolated` calls ``fn`` and returns its result, or raises :class:`CodecFailed` with a
one-line reason:

* without a timeout, in this process: any ``Exception`` from the codec (a plugin bug, a typed
  error) becomes ``CodecFailed``;
* with ``timeout`` seconds, in a forked child process (POSIX ``fork``: the codec, the open
  input and the page's temporary directory are inherited, nothing is re-imported).  The child
  sends the result back through a pipe; a child still running after ``timeout`` seconds is
  killed (SIGKILL, so it cannot run cleanup that belongs to the parent) and reported as timed
  out; a child that dies or exits (``sys.exit`` in a plugin) is reported with its exit status.

Where ``fork`` is not available (Windows, or macOS where it is unsafe) the timeout cannot be
enforced; the work runs in-process and only exceptions are isolated.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import traceback
from typing import Callable, TypeVar

__all__ = ["CodecFailed", "run_isolated", "can_time_out"]

T = TypeVar("T")


class CodecFailed(Exception):
    """A codec raised, exited or timed out; ``str()`` is the one-line reason for the page."""


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def can_time_out() -> bool:
    """True where :func:`run_isolated` can enforce a timeout (a ``fork`` start method exists)."""
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def _child(fn: Callable[[], T], conn) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the parent's temporary-file cleanup is not ours
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        result = ("ok", fn())
    except BaseException as exc:  # noqa: BLE001 - everything the codec does is reported
        result = ("error", _one_line(exc), traceback.format_exc(limit=-3))
    try:
        conn.send(result)
    except Exception as exc:  # noqa: BLE001 - e.g. an unpicklable result
        conn.send(("error", f"result could not be returned: {_one_line(exc)}", ""))
    conn.close()
    os._exit(0)  # skip the parent's atexit handlers and signal cleanup


def run_isolated(fn: Callable[[], T], timeout: float | None = None) -> T:
    """``fn()``, isolated as the module docstring says."""
    if timeout is None or not can_time_out():
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - a broken codec is shown on the page, not fatal
            raise CodecFailed(_one_line(exc)) from exc
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(fn, send), daemon=True)
    proc.start()
    send.close()
    try:
        if not receive.poll(timeout):
            if proc.is_alive():
                proc.kill()
                proc.join()
                raise CodecFailed(f"timed out after {timeout:g} s (--codec-timeout)")
        try:
            message = receive.recv()
        except EOFError:
            proc.join()
            raise CodecFailed(f"the codec ended the worker process (exit status {proc.exitcode})") from None
    finally:
        receive.close()
        if proc.is_alive():
            proc.kill()
        proc.join()
    if message[0] == "ok":
        return message[1]
    raise CodecFailed(message[1])
