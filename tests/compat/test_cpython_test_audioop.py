"""CPython 3.11's own ``Lib/test/test_audioop.py``, run whole against the drop-in.

The suite (``data/cpython311_test_audioop.py``, PSF license, see ``data/README.md``) gets its
module from ``test.support.warnings_helper.import_deprecated("audioop")``; that one line is
replaced by a binding to the module under test, the rest runs unchanged through unittest.
A deliberately broken module must fail it, so the harness is shown to detect differences.
"""

from __future__ import annotations

import types
import unittest
from pathlib import Path

import pytest

from inwhale_hw.compat import audioop as ours

SUITE = Path(__file__).parent / "data" / "cpython311_test_audioop.py"
IMPORT_LINES = ('from test.support import warnings_helper\n', 'audioop = warnings_helper.import_deprecated("audioop")\n')


def _run_suite(module: types.ModuleType) -> unittest.TestResult:
    source = SUITE.read_text()
    for line in IMPORT_LINES:
        assert line in source, f"{SUITE.name} no longer contains {line!r}"
        source = source.replace(line, "")
    namespace = {"__name__": "cpython_test_audioop", "audioop": module}
    exec(compile(source, str(SUITE), "exec"), namespace)
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(namespace["TestAudioop"])
    result = unittest.TestResult()
    suite.run(result)
    return result


def test_cpython_suite_passes_whole_with_the_drop_in():
    result = _run_suite(ours)
    problems = [f"{test.id()}: {trace}" for test, trace in result.failures + result.errors]
    assert not problems, "\n".join(problems)
    assert result.testsRun >= 30 and not result.skipped


@pytest.mark.parametrize("broken", ["rms", "ratecv"])
def test_the_harness_detects_a_wrong_function(broken):
    module = types.ModuleType("broken_audioop")
    module.__dict__.update({name: getattr(ours, name) for name in ours.__all__})
    original = getattr(ours, broken)
    if broken == "rms":
        setattr(module, broken, lambda fragment, width: original(fragment, width) + 1)
    else:
        def shifted(fragment, width, *args):
            data, state = original(fragment, width, *args)
            return data[::-1], state
        setattr(module, broken, shifted)
    result = _run_suite(module)
    failed = {test.id().rsplit(".", 1)[-1] for test, _ in result.failures + result.errors}
    assert f"test_{broken}" in failed
