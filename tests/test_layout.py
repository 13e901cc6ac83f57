"""The layout's rules, checked on the source: imports run one way, and code stays readable.

* nothing in the run-time pipeline imports ``posekit.eval`` (evaluation sits on top of it);
* no import cycle between posekit modules (module-level imports);
* the packages built on top (analysis, multiview, batch, service) use the public API, never the
  pipeline's internals;
* no function over about 60 lines, no module over about 500.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "posekit"
ON_TOP = ("posekit.analysis", "posekit.multiview", "posekit.batch", "posekit.service")
INTERNALS = (
    "posekit.image",
    "posekit.video",
    "posekit.detect",
    "posekit.landmarks",
    "posekit.track",
    "posekit.runtime",
    "posekit.models",
)
MAX_FUNCTION_LINES = 60
MAX_MODULE_LINES = 500


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _top_level_imports(path: Path) -> set[str]:
    """posekit modules imported at module level (not inside functions or ``if TYPE_CHECKING``)."""
    found: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("posekit"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("posekit"))
    return {name for name in found if name in MODULES}


def _all_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("posekit"):
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names if alias.name.startswith("posekit"))
    return names


def _within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def test_run_time_code_never_imports_evaluation():
    runtime = [m for m in MODULES if not _within(m, ("posekit.eval", "posekit.cli", *ON_TOP))]
    offenders = {m: sorted(i for i in _all_imports(MODULES[m]) if _within(i, ("posekit.eval",))) for m in runtime}
    assert not {m: i for m, i in offenders.items() if i}


def test_packages_on_top_use_the_public_api_only():
    offenders = {
        m: sorted(i for i in _all_imports(MODULES[m]) if _within(i, INTERNALS)) for m in MODULES if _within(m, ON_TOP)
    }
    assert not {m: i for m, i in offenders.items() if i}


def test_no_import_cycles():
    graph = {m: _top_level_imports(p) - {m} for m, p in MODULES.items()}
    # A package's __init__ re-exporting its modules is not a cycle back into it.
    graph = {m: {i for i in deps if not m.startswith(i + ".")} for m, deps in graph.items()}
    state: dict[str, int] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for dep in sorted(graph.get(module, ())):
            if state.get(dep) == 1:
                pytest.fail("import cycle: " + " -> ".join([*path[path.index(dep) :], dep]))
            if dep not in state:
                visit(dep, [*path, dep])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


def _function_lengths(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            has_docstring = isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
            start = body[0].end_lineno + 1 if has_docstring and len(body) > 1 else body[0].lineno
            yield node.name, node.end_lineno - start + 1


def test_functions_and_modules_stay_short():
    long_functions = {
        f"{m}.{name}": length
        for m, p in MODULES.items()
        for name, length in _function_lengths(p)
        if length > MAX_FUNCTION_LINES
    }
    long_modules = {m: n for m, p in MODULES.items() if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert not long_functions and not long_modules, (long_functions, long_modules)
