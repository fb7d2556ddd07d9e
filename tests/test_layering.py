"""Layering rules of the codebase: processors are pure, the package never edits sys.path."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROCESSOR_FILES = sorted((ROOT / "data_processors").rglob("*.py"))
PACKAGE_FILES = sorted((ROOT / "nba_backfill").rglob("*.py")) + sorted((ROOT / "backfill_jobs").rglob("*.py"))
FORBIDDEN_IN_PROCESSORS = ("duckdb", "google", "nba_backfill.warehouse", "nba_backfill.engine", "nba_backfill.cli")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", PROCESSOR_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_processors_do_no_io_and_configure_no_logging(path: Path) -> None:
    bad = [m for m in _imports(path) if any(m == f or m.startswith(f + ".") for f in FORBIDDEN_IN_PROCESSORS)]
    assert not bad, f"{path.name} imports {bad}"
    assert "basicConfig" not in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", PACKAGE_FILES + PROCESSOR_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_sys_path_edits(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert "sys.path" not in text and "PYTHONPATH" not in text


def test_google_cloud_is_imported_only_by_the_bigquery_backend() -> None:
    users = [p for p in PACKAGE_FILES if any(m.startswith("google") for m in _imports(p))]
    assert all(p.parent.name == "warehouse" and p.name.startswith("bigquery") for p in users), users


def test_the_cli_imports_no_cloud_sdk() -> None:
    import subprocess
    import sys

    code = "import sys, nba_backfill.cli; print(any(m.startswith('google.cloud') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
