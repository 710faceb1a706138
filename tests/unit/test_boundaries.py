"""No module reaches into another's private names: neither `from x import _name` nor
`module._name` on a module of this project. (The layers themselves are import-linter's
contracts in pyproject.toml.)"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OURS = ("inventory", "devices")


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _modules_bound(tree: ast.Module) -> set[str]:
    """Names this file binds to one of our modules (import a.b as m, from a import b)."""
    bound = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            bound |= {a.asname or a.name for a in node.names if a.name.startswith(OURS)}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(OURS):
            for alias in node.names:
                if (ROOT / node.module.replace(".", "/") / f"{alias.name}.py").exists():
                    bound.add(alias.asname or alias.name)
    return bound


def violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(OURS):
            found += [f"{node.lineno}: {a.name}" for a in node.names if _private(a.name)]
    modules = _modules_bound(tree)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and _private(node.attr)
        ):
            found.append(f"{node.lineno}: {node.value.id}.{node.attr}")
    return found


def test_no_module_imports_another_modules_private_names():
    files = [p for package in OURS for p in (ROOT / package).rglob("*.py")]
    assert len(files) > 50
    broken = {str(p.relative_to(ROOT)): v for p in files if (v := violations(p))}
    assert broken == {}


def test_the_check_finds_a_private_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from inventory.services.catalogue import _hidden\n"
        "from inventory.services import devices\n"
        "devices._hash('x')\n"
    )
    assert violations(sample) == ["1: _hidden", "3: devices._hash"]
