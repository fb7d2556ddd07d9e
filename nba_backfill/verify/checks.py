"""The release checklist of `verify` (engine spec §4): each check returns a result, prints nothing."""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from nba_backfill.engine.ledger import Ledger
from nba_backfill.engine.loader import load_calendar
from nba_backfill.engine.status import game_dates, partition_counts
from nba_backfill.registry import Registry
from nba_backfill.tables import TABLES
from nba_backfill.warehouse.base import Warehouse


@dataclass
class Check:
    """One line of the checklist: passed, a title, and details for the operator."""

    name: str
    passed: bool
    details: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def repo_root() -> Path:
    """The repository holding backfill_jobs/ (the package is installed editable from it)."""
    import backfill_jobs

    return Path(backfill_jobs.__file__).resolve().parent.parent


def check_wrappers(registry: Registry, root: Path) -> list[Check]:
    """Every processor's wrapper exists at its fixed path and answers --help."""
    checks = []
    for spec in registry.processors:
        path = root / spec.wrapper
        if not path.is_file():
            checks.append(Check(f"wrapper {spec.wrapper}", False, ["file missing"]))
            continue
        proc = subprocess.run([sys.executable, str(path), "--help"], capture_output=True, text=True, timeout=120)
        ok = proc.returncode == 0 and "--dry-run" in proc.stdout
        checks.append(Check(f"wrapper {spec.wrapper} runs --help", ok, [] if ok else [proc.stderr.strip()[-300:]]))
    return checks


def check_fallback(warehouse: Warehouse, registry: Registry) -> Check:
    """On a date with BettingPros props and no Odds API props, the Phase 3 processor finds players."""
    from nba_backfill.cli.dry_run import props_availability

    name = "props fallback yields players on a BettingPros-only date"
    bp = "nba_raw.bettingpros_player_points_props"
    if not warehouse.table_exists(bp):
        return Check(name, False, [f"table {bp} is missing"])
    df = warehouse.query(
        f"SELECT game_date, COUNT(*) AS n FROM {bp} WHERE game_date BETWEEN @lo AND @hi AND market_type = 'points' "
        "GROUP BY game_date ORDER BY game_date LIMIT 400",
        {"lo": dt.date(2000, 1, 1), "hi": dt.date(2100, 1, 1)},
    )
    odds = set()
    if warehouse.table_exists("nba_raw.odds_api_player_points_props"):
        o = warehouse.query("SELECT DISTINCT game_date FROM nba_raw.odds_api_player_points_props WHERE game_date BETWEEN @lo AND @hi",
                            {"lo": dt.date(2000, 1, 1), "hi": dt.date(2100, 1, 1)})
        odds = {d.date() if hasattr(d, "date") else d for d in o["game_date"]}
    games = set(game_dates(warehouse, dt.date(2000, 1, 1), dt.date(2100, 1, 1)))
    candidates = [d.date() if hasattr(d, "date") else d for d in df["game_date"]]
    candidates = [d for d in candidates if d not in odds and d in games]
    if not candidates:
        return Check(name, False, ["no BettingPros-only game date in the warehouse"])
    day = candidates[min(20, len(candidates) - 1)]
    info = props_availability(warehouse, registry, [day])[0]
    players = int(info.get("players_available", 0))
    return Check(name, players > 0, [f"{day}: {players} players available"])


def check_range(warehouse: Warehouse, registry: Registry, start: dt.date, end: dt.date) -> list[Check]:
    """Every non-bootstrap game date is done for every Phase 4 processor, counts match, keys unique."""
    cal = load_calendar(warehouse, start, end)
    days = cal.games_in(start, end)
    procs = registry.names(4)
    latest = Ledger(warehouse).latest(procs, start, end) if warehouse.table_exists("nba_backfill.units") else {}
    checks = []
    for proc in procs:
        spec = registry.get(proc)
        counts = partition_counts(warehouse, spec.output_table, spec.date_column, start, end)
        problems, gaps = [], []
        for day in days:
            if cal.bootstrap_day(day) is not None:
                continue
            unit = latest.get((proc, day))
            if unit is None:
                problems.append(f"{day}: no ledger record")
            elif unit.state == "NO_SOURCE_DATA":
                gaps.append(f"⚠ {day}: {unit.reason}")
            elif unit.state not in ("COMPLETE", "EXPECTED_EMPTY"):
                problems.append(f"{day}: {unit.state} {unit.reason or ''}".strip())
            elif counts.get(day, 0) != (unit.rows_written or 0):
                problems.append(f"{day}: {counts.get(day, 0)} rows in the table, ledger says {unit.rows_written}")
        checks.append(Check(f"{proc}: every game date covered", not problems, problems[:20], gaps))
        dupes = duplicate_keys(warehouse, spec.output_table, spec.date_column, start, end)
        checks.append(Check(f"{proc}: no duplicate primary keys", dupes == 0, [f"{dupes} duplicated keys"] if dupes else []))
    return checks


def duplicate_keys(warehouse: Warehouse, table_name: str, date_column: str, start: dt.date, end: dt.date) -> int:
    table = TABLES[table_name]
    if not warehouse.table_exists(table_name):
        return 0
    keys = ", ".join(table.primary_key)
    df = warehouse.query(
        f"SELECT COUNT(*) AS n FROM (SELECT {keys} FROM {table_name} WHERE {date_column} BETWEEN @lo AND @hi "
        f"GROUP BY {keys} HAVING COUNT(*) > 1)",
        {"lo": start, "hi": end},
    )
    return int(df["n"].iloc[0]) if len(df) else 0
