"""Imports point one way: cli -> ui -> jobs -> assistant -> tools -> offers -> model/search/llm -> data -> config."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "winback"
# each layer may import only layers of a lower rank; model and search sit side by side
RANK = {
    "errors": 0,
    "config": 1,
    "roles": 1,
    "data": 2,
    "model": 3,
    "search": 3,
    "llm": 3,
    "offers": 4,
    "tools": 5,
    "assistant": 6,
    "jobs": 7,
    "ui": 8,
    "cli": 9,
}
LAYERS = list(RANK)


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "winback" or len(parts) < 2:
        return None
    return parts[1] if parts[1] in LAYERS else None


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_no_layer_imports_a_higher_one() -> None:
    violations = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        own = rel.parts[0].removesuffix(".py")
        if own not in LAYERS:
            continue  # the package __init__ sits on top
        for module in _imports(path):
            target = _layer(module)
            if target is not None and RANK[target] > RANK[own]:
                violations.append(f"{rel} imports {module}")
    assert violations == []


def test_the_layout_exists() -> None:
    for part in ("assistant", "tools", "offers", "prompts", "model", "ui", "data"):
        assert (PACKAGE / part).is_dir(), part
    assert (PACKAGE / "cli" / "__init__.py").is_file()
