"""Shared fixtures: a sample DuckDB warehouse built once per session and copied per test."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

SAMPLE_THROUGH = "2021-12-05"


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2021-22 sample data through early December (a DuckDB file, built once)."""
    from nba_backfill.cli import app

    path = tmp_path_factory.mktemp("sample") / "sample.duckdb"
    result = CliRunner().invoke(app, ["--warehouse", f"duckdb:///{path}", "sample", "load", "--seasons", "2021-22",
                                      "--through", SAMPLE_THROUGH])
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def sample_url(sample_db: Path, tmp_path: Path) -> str:
    """A private copy of the sample warehouse for one test, as a warehouse URL."""
    target = tmp_path / "w.duckdb"
    shutil.copy(sample_db, target)
    return f"duckdb:///{target}"


@pytest.fixture
def cli():
    """Invoke the CLI against a warehouse URL: cli(url, *args) -> click Result."""
    from nba_backfill.cli import app

    runner = CliRunner()

    def invoke(url: str, *args: str):
        return runner.invoke(app, ["--warehouse", url, *args])

    return invoke
