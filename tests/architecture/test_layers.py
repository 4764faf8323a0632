"""The layer contract: pose -> data -> models -> tasks -> training -> libraries -> apps, read top-down.

A module may import from its own layer or a lower one, never from a higher one. Imports of mslu modules sit
at module level everywhere except in the command modules of ``mslu.cli``, which load their subsystem when the
command runs (so that ``mslu --help`` does not import torch); lazy imports elsewhere are for optional heavy
third-party packages only.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "mslu"

LAYERS = {
    "pose": 0,
    "evaluation": 0,
    "decoding": 0,
    "configs": 0,
    "files": 0,
    "data": 1,
    "extract": 1,
    "models": 2,
    "tasks": 3,
    "training": 4,
    "search": 5,
    "hub": 5,
    "export": 5,
    "cli": 6,
    "demo": 6,
    "serve": 6,
    "__main__": 6,
}
LAZY_ALLOWED = {"cli"}


def _package(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "mslu":
        return None
    return parts[1] if len(parts) > 1 else ""


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if p.name != "__init__.py" or p.parent != SRC)


def _imports(path: Path) -> list[tuple[str, int, bool]]:
    """(imported module, line, at module level) for every mslu import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    top = {id(n) for n in tree.body}
    for n in tree.body:  # imports inside a module-level try/except (optional deps) count as module level
        if isinstance(n, ast.Try):
            top.update(id(m) for m in ast.walk(n))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        out += [(name, node.lineno, id(node) in top) for name in names if name.split(".")[0] == "mslu"]
    return out


def _source_package(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py") if len(rel.parts) > 1 or rel.name == "__main__.py" else rel.stem


def test_every_package_has_a_layer():
    packages = {_source_package(p) for p in _modules()}
    assert packages <= set(LAYERS), f"place these in LAYERS: {sorted(packages - set(LAYERS))}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_no_upward_or_hidden_imports(path):
    source = _source_package(path)
    problems = []
    for module, line, top_level in _imports(path):
        target = _package(module)
        if not target:
            continue
        if target not in LAYERS:
            problems.append(f"line {line}: {module} is in no layer")
        elif LAYERS[target] > LAYERS[source]:
            problems.append(f"line {line}: {source} (layer {LAYERS[source]}) imports {module} "
                            f"(layer {LAYERS[target]})")  # fmt: skip
        if not top_level and source not in LAZY_ALLOWED:
            problems.append(f"line {line}: {module} imported inside a function")
    assert not problems, f"{path.relative_to(SRC)}:\n" + "\n".join(problems)


def test_the_checker_sees_a_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from mslu.training import x\n\ndef f():\n    from mslu.pose import y\n")
    assert _imports(bad) == [("mslu.training", 1, True), ("mslu.pose", 4, False)]
