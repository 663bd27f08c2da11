"""Every built-in quantizer passes the conformance kit that plugin authors use."""

from __future__ import annotations

import pytest

from inwhale_hw.host import PluginHost
from inwhale_hw.testing import check_quantizer

_HOST = PluginHost(entry_points=False, strict=False)


@pytest.mark.parametrize("name", _HOST.registry.names())
def test_builtin_conforms_with_defaults(name):
    report = check_quantizer(_HOST.registry.get(name))
    assert "bad input errors" in report.checks


def test_no_builtin_failed_to_load():
    assert {p.name: p.error for p in _HOST.unavailable()} == {}
