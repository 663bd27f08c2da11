"""``inwhale_hw.threads.thread_count``: the env override, the affinity default, bad values."""

from __future__ import annotations

import os

import pytest

from inwhale_hw.errors import ParameterError
from inwhale_hw.threads import THREADS_ENV, thread_count


def test_env_override_and_cap(monkeypatch):
    monkeypatch.setenv(THREADS_ENV, "1")
    assert thread_count() == 1
    monkeypatch.setenv(THREADS_ENV, "64")
    assert thread_count(4) == 4


def test_default_follows_affinity(monkeypatch):
    monkeypatch.delenv(THREADS_ENV, raising=False)
    assert thread_count(1024) == len(os.sched_getaffinity(0))


@pytest.mark.parametrize("text", ["0", "-2", "two"])
def test_bad_values_are_typed_errors(monkeypatch, text):
    monkeypatch.setenv(THREADS_ENV, text)
    with pytest.raises(ParameterError, match=f"{THREADS_ENV}={text!r}"):
        thread_count()
