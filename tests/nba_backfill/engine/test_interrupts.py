"""A killed or interrupted run loses nothing: re-running the same command completes the range, no duplicates."""
from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time

import pytest

from nba_backfill.registry import default_registry
from nba_backfill.warehouse import connect

START, END = "2021-10-19", "2021-12-04"


def _start(url: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [sys.executable, "-m", "nba_backfill", "--warehouse", url, "phase4", "run", "--all", "--start-date", START, "--end-date", END],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )


def _wait_for(proc: subprocess.Popen, marker: str, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if marker in line:
            return
    proc.kill()
    pytest.fail(f"never saw {marker!r}")


def _assert_complete_and_unique(url: str) -> None:
    registry = default_registry()
    wh = connect(url)
    try:
        for proc in registry.names(4):
            spec = registry.get(proc)
            table = registry.output(proc)
            keys = ", ".join(table.primary_key)
            dupes = wh.query(f"SELECT COUNT(*) AS n FROM (SELECT {keys} FROM {table.name} WHERE {spec.date_column} "
                             f"BETWEEN @a AND @b GROUP BY {keys} HAVING COUNT(*) > 1)", {"a": dt.date(2021, 10, 1), "b": dt.date(2022, 7, 1)})
            assert int(dupes["n"].iloc[0]) == 0, proc
        states = wh.query(
            "SELECT processor, state, COUNT(*) AS n FROM nba_backfill.failures GROUP BY processor, state")
        assert states.empty, states
    finally:
        wh.close()


def test_sigkill_mid_run_then_same_command_completes(cli, sample_url: str) -> None:
    assert cli(sample_url, "phase3", "run", "--start-date", START, "--end-date", END).exit_code == 0
    proc = _start(sample_url)
    _wait_for(proc, "player_shot_zone_analysis: 10/")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    again = cli(sample_url, "phase4", "run", "--all", "--start-date", START, "--end-date", END)
    assert again.exit_code == 0, again.output
    _assert_complete_and_unique(sample_url)
    verify = cli(sample_url, "verify", "--start-date", START, "--end-date", END)
    assert verify.exit_code == 0, verify.output


def test_sigint_exits_130_records_not_run_and_resumes(cli, sample_url: str) -> None:
    assert cli(sample_url, "phase3", "run", "--start-date", START, "--end-date", END).exit_code == 0
    proc = _start(sample_url)
    _wait_for(proc, "team_defense_zone_analysis: 10/")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=240)
    assert proc.returncode == 130, out + err
    assert "Interrupted" in out
    assert "Traceback" not in err
    wh = connect(sample_url)
    try:
        not_run = wh.query("SELECT COUNT(*) AS n FROM nba_backfill.failures WHERE state = 'NOT_RUN'")
        leases = wh.query("SELECT action FROM nba_backfill.leases ORDER BY heartbeat_at DESC LIMIT 1")
    finally:
        wh.close()
    assert int(not_run["n"].iloc[0]) > 0
    assert leases["action"].iloc[0] == "release"
    again = cli(sample_url, "phase4", "run", "--all", "--start-date", START, "--end-date", END)
    assert again.exit_code == 0, again.output
    _assert_complete_and_unique(sample_url)
