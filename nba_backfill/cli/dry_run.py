"""What a dry run prints besides the plan: per-date Phase 3 availability (reads only)."""
from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from rich.table import Table

from nba_backfill.console import out
from nba_backfill.dates import season_of, season_start
from nba_backfill.engine.loader import load_calendar, load_phase3_gaps
from nba_backfill.engine.plan import gaps_before
from nba_backfill.engine.runner import RunRequest
from nba_backfill.engine.status import partition_counts
from nba_backfill.engine.summary import RunSummary
from nba_backfill.registry import CONTEXT_PROCESSOR, Registry
from nba_backfill.warehouse.base import Warehouse


def _planned_days(summary: RunSummary) -> list[dt.date]:
    return sorted({o.day for o in summary.outcomes if o.state == "WILL_RUN"} |
                  {o.day for o in summary.outcomes if not o.skipped_as_done and o.state != "NO_GAMES"})


def props_availability(warehouse: Warehouse, registry: Registry, days: list[dt.date]) -> list[dict[str, Any]]:
    """The Phase 3 processor's per-date availability (games, players per source), via its own pure function."""
    from data_processors.analytics.upcoming_player_game_context.availability import availability

    from nba_backfill.engine.loader import BlockInputs
    from nba_backfill.engine.plan import season_blocks

    spec = registry.get(CONTEXT_PROCESSOR)
    rows: list[dict[str, Any]] = []
    for block in season_blocks(days):
        inputs = BlockInputs(warehouse, spec, block)
        for day in block:
            info = dict(availability(day, inputs.for_date(day)))
            info["date"] = day.isoformat()
            rows.append(info)
    return rows


def availability_report(warehouse: Warehouse, registry: Registry, request: RunRequest, summary: RunSummary) -> list[dict[str, Any]]:
    days = _planned_days(summary)
    if not days:
        return []
    if CONTEXT_PROCESSOR in request.processors:
        return props_availability(warehouse, registry, days)
    lo, hi = min(days), max(days)
    season_lo = season_start(season_of(lo))
    games = _per_date(warehouse, "SELECT game_date AS d, COUNT(DISTINCT game_id) AS n FROM nba_raw.nbac_schedule "
                      "WHERE game_date BETWEEN @lo AND @hi AND game_status = 3 "
                      "AND (COALESCE(is_regular_season, FALSE) OR COALESCE(is_playoffs, FALSE)) GROUP BY game_date", season_lo, hi)
    context = partition_counts(warehouse, "nba_analytics.upcoming_player_game_context", "game_date", lo, hi)
    gaps = load_phase3_gaps(warehouse, load_calendar(warehouse, lo, hi), lo, hi)
    firsts = _per_date(warehouse, "SELECT first_date AS d, COUNT(*) AS n FROM (SELECT player_lookup, season_year, "
                       "MIN(game_date) AS first_date FROM nba_analytics.player_game_summary WHERE game_date BETWEEN @lo AND @hi "
                       "GROUP BY player_lookup, season_year) GROUP BY first_date", season_lo, hi)
    out_rows = []
    for day in days:
        missing = [d.isoformat() for d in gaps_before(day, gaps)]
        with_history = sum(n for d, n in firsts.items() if d < day and season_of(d) == season_of(day))
        out_rows.append({"date": day.isoformat(), "games": games.get(day, 0), "players_with_history": with_history,
                         "props_players": context.get(day, 0), "phase3_gap_dates": missing[:5], "phase3_gaps": len(missing)})
    return out_rows


def _per_date(warehouse: Warehouse, sql: str, lo: dt.date, hi: dt.date) -> dict[dt.date, int]:
    if not all(warehouse.table_exists(t) for t in ("nba_raw.nbac_schedule", "nba_analytics.player_game_summary")):
        return {}
    df = warehouse.query(sql, {"lo": lo, "hi": hi})
    return {pd.Timestamp(d).date(): int(n) for d, n in zip(df["d"], df["n"])}


def render_availability(rows: list[dict[str, Any]]) -> None:
    if not rows:
        out.print("Nothing to run in this range.")
        return
    if "line" in rows[0]:
        from data_processors.analytics.upcoming_player_game_context.availability import dry_run_summary, summary_line

        for r in rows:
            out.print(r["line"], markup=False)
        out.print(summary_line(dry_run_summary(rows)), markup=False)
        return
    keys = [k for k in rows[0] if k != "date" and not isinstance(rows[0][k], (list, dict))]
    table = Table(title="Phase 3 availability per date")
    table.add_column("date")
    for k in keys:
        table.add_column(k.replace("_", " "), justify="right")
    table.add_column("note")
    for r in rows:
        note = r.get("message") or (f"⚠ {r['phase3_gaps']} Phase 3 gap dates in lookback: {', '.join(r['phase3_gap_dates'])}" if r.get("phase3_gaps") else "")
        table.add_row(r["date"], *[str(r.get(k, "")) for k in keys], str(note))
    out.print(table)

