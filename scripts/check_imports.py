"""Check the package's import rules from the source (AST only; nothing is imported).

Rules (every ``import`` statement counts, including those inside functions; loading plugins
by name through the host, ``importlib.import_module(name)``, does not):

``cycle``
    No import cycles: the graph of module -> imported module has no strongly connected
    component of more than one module (nor a module importing itself).
``private``
    No module imports a ``_private`` name (or a ``_private`` module) that lives in another
    package; ``from .blocks import _ROWS`` inside one package is fine, dunder names are not
    private.
``hdl-plugins``
    Nothing in ``inwhale_hw.hdl`` imports ``inwhale_hw.plugins``.
``core-plugins``
    Nothing in the core (``inwhale_hw`` outside ``inwhale_hw.plugins``) imports
    ``inwhale_hw.plugins``; the host loads plugins by name.

Usage::

    python scripts/check_imports.py                      # the repository this script is in
    python scripts/check_imports.py --map pkg=src/pkg    # any tree: import name = directory

Prints one line per violation and exits 1 if there is any, 0 otherwise.
"""

from __future__ import annotations

import argparse
import ast
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Violation", "discover", "import_edges", "check", "main"]

ROOT = Path(__file__).resolve().parent.parent
#: import name -> directory, as pyproject.toml's package-dir maps them
DEFAULT_MAP = {"inwhale_hw": "inwhale_hw", "inwhale_hw.plugins": "plugins", "inwhale_hw.hdl": "hdl"}
CORE, PLUGINS, HDL = "inwhale_hw", "inwhale_hw.plugins", "inwhale_hw.hdl"


@dataclass(frozen=True)
class Violation:
    rule: str
    module: str
    detail: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.module}: {self.detail}"


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    is_package: bool

    @property
    def package(self) -> str:
        """The package whose namespace the module's relative imports start from."""
        return self.name if self.is_package else self.name.rpartition(".")[0]


def discover(mapping: dict[str, Path]) -> dict[str, Module]:
    """Every ``.py`` file under the mapped directories, keyed by its dotted module name.

    A more specific mapping wins (``inwhale_hw.plugins`` -> ``plugins/`` over a
    ``plugins`` directory inside ``inwhale_hw/``).
    """
    modules: dict[str, Module] = {}
    for prefix, directory in sorted(mapping.items(), key=lambda kv: kv[0].count(".")):
        for path in sorted(Path(directory).rglob("*.py")):
            parts = path.relative_to(directory).with_suffix("").parts
            if any(not part.isidentifier() for part in parts):
                continue
            is_package = parts[-1] == "__init__"
            name = ".".join((prefix, *(parts[:-1] if is_package else parts)))
            modules[name] = Module(name, path, is_package)
    return modules


def _resolve(module: Module, level: int, target: str | None) -> str:
    if level == 0:
        return target or ""
    base = module.package.split(".")
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join([*base, *([target] if target else [])])


def import_edges(module: Module, known: set[str]) -> list[tuple[str, str, int]]:
    """``(imported module, imported name or "", line)`` for every import of a known module."""
    tree = ast.parse(module.path.read_text(encoding="utf-8"), filename=str(module.path))
    edges: list[tuple[str, str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _known_prefix(alias.name, known)
                if target:
                    edges.append((target, "", node.lineno))
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, node.level, node.module)
            for alias in node.names:
                child = f"{base}.{alias.name}"
                if child in known:
                    edges.append((child, "", node.lineno))
                else:
                    target = _known_prefix(base, known)
                    if target:
                        edges.append((target, alias.name if target == base else "", node.lineno))
    return edges


def _known_prefix(name: str, known: set[str]) -> str:
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in known:
            return candidate
    return ""


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def check(mapping: dict[str, Path]) -> list[Violation]:
    """Every violation of the rules in the module docstring, sorted."""
    modules = discover(mapping)
    known = set(modules)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    violations: list[Violation] = []
    for name, module in modules.items():
        for target, imported, line in import_edges(module, known):
            if target != name:
                graph[name].add(target)
            where = f"line {line}"
            if imported and _is_private(imported) and modules[target].package != module.package:
                violations.append(Violation("private", name, f"{where}: imports {imported} from {target}"))
            leaf = target.rpartition(".")[2]
            if not imported and _is_private(leaf) and modules[target].package != module.package:
                violations.append(Violation("private", name, f"{where}: imports private module {target}"))
            if _within(name, HDL) and _within(target, PLUGINS):
                violations.append(Violation("hdl-plugins", name, f"{where}: imports {target}"))
            elif (_within(name, CORE) and not _within(name, PLUGINS) and not _within(name, HDL)
                  and _within(target, PLUGINS)):
                violations.append(Violation("core-plugins", name, f"{where}: imports {target}"))
    for component in _cycles(graph):
        violations.append(Violation("cycle", component[0], " -> ".join([*component, component[0]])))
    return sorted(set(violations), key=lambda v: (v.rule, v.module, v.detail))


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected component with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def connect(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(_path_in(sorted(component), graph))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(graph) + 100))
    try:
        for v in sorted(graph):
            if v not in index:
                connect(v)
    finally:
        sys.setrecursionlimit(limit)
    return found


def _path_in(component: list[str], graph: dict[str, set[str]]) -> list[str]:
    """A shortest cycle from the component's first module back to itself."""
    members, start = set(component), component[0]
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & members):
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return path[::-1]
                if w not in previous:
                    previous[w] = v
                    nxt.append(w)
        frontier = nxt
    return component


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--map", action="append", default=[], metavar="NAME=DIR",
                        help="import name and its directory (repeatable; default: this repository's layout)")
    args = parser.parse_args(argv)
    if args.map:
        mapping = {}
        for item in args.map:
            name, sep, directory = item.partition("=")
            if not sep or not name or not directory:
                parser.error(f"--map {item!r} is not NAME=DIR")
            mapping[name] = Path(directory)
    else:
        mapping = {name: ROOT / directory for name, directory in DEFAULT_MAP.items()}
    violations = check(mapping)
    for violation in violations:
        print(violation)
    print(f"{len(violations)} import rule violation(s) in {len(discover(mapping))} modules", file=sys.stderr)
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
