"""Every command has help with an example; bad arguments exit 2 with one line and no traceback."""
from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from nba_backfill.cli import app

runner = CliRunner()


def _commands() -> list[list[str]]:
    root = typer.main.get_command(app)
    paths: list[list[str]] = []

    def walk(cmd, path: list[str]) -> None:
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                walk(sub, path + [name])
        else:
            paths.append(path)

    walk(root, [])
    return paths


def test_all_command_groups_are_present() -> None:
    names = {" ".join(p) for p in _commands()}
    assert {"phase4 run", "phase4 status", "phase4 failures", "phase3 run", "props check", "verify",
            "sample load", "warehouse init"} <= names


@pytest.mark.parametrize("path", _commands(), ids=lambda p: " ".join(p))
def test_every_command_has_help_and_an_example(path: list[str]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["phase4", "run", "--all", "--start-date", "2022-02-30", "--end-date", "2022-03-01"], "invalid date"),
        (["phase4", "run", "--all", "--start-date", "2022/01/01", "--end-date", "2022-03-01"], "invalid date"),
        (["phase4", "run", "--all", "--start-date", "2022-03-02", "--end-date", "2022-03-01"], "is after"),
        (["phase4", "run", "--all", "--start-date", "2022-03-02", "--end-date", "2099-03-01"], "not before today"),
        (["phase4", "run", "--processor", "nope", "--dates", "2022-03-01"], "unknown processor"),
        (["phase4", "run", "--all", "--dates", "2022-03-01,2022-3-2"], "invalid date"),
        (["phase4", "run", "--all"], "--start-date"),
        (["phase4", "run", "--dates", "2022-03-01"], "choose processors"),
        (["phase4", "run", "--processor", "upcoming_player_game_context", "--dates", "2022-03-01"], "phase3"),
        (["sample", "load", "--seasons", "2019-21"], "invalid season"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(args: list[str], message: str, tmp_path) -> None:
    result = runner.invoke(app, ["--warehouse", f"duckdb:///{tmp_path}/w.duckdb", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert len([l for l in result.output.splitlines() if l.strip()]) == 1
