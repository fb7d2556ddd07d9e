"""Run Phase 3 + Phase 4 over a short range and read back every output table and unit state.

Shared by the equivalence tests: block reads vs per-date reads, and today's code vs the
digests recorded from an earlier implementation (tests/golden).
"""
from __future__ import annotations

import datetime as dt
import hashlib

import pandas as pd

from nba_backfill.engine.runner import RunRequest, Runner
from nba_backfill.registry import default_registry
from nba_backfill.warehouse import connect

START, END = dt.date(2021, 11, 20), dt.date(2021, 12, 4)
BOOKKEEPING = {"processed_at", "created_at"}
INPUT_TABLES = ("nba_raw.nbac_schedule", "nba_raw.odds_api_player_points_props", "nba_raw.bettingpros_player_points_props",
                "nba_analytics.player_game_summary", "nba_analytics.team_offense_game_summary",
                "nba_analytics.team_defense_game_summary", "nba_analytics.upcoming_team_game_context",
                "nba_reference.nba_players_registry", "nba_raw.nbac_player_list_current")


def _canonical(df: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """Rows sorted by key, bookkeeping columns dropped, every value as text (floats as repr)."""
    df = df.drop(columns=[c for c in df.columns if c in BOOKKEEPING or c.endswith("_last_updated")])
    return df.sort_values(key).reset_index(drop=True).astype(str)


def run_outputs(url: str, batch_days: int = 31) -> tuple[dict[str, pd.DataFrame], dict[str, list[str]]]:
    """Run the chain on START..END; return each output table (canonical) and each unit's `date state reason`."""
    registry = default_registry()
    wh = connect(url)
    try:
        runner = Runner(wh, registry)
        p3 = runner.run(RunRequest(processors=tuple(registry.names(3)), start=START, end=END, batch_days=batch_days))
        p4 = runner.run(RunRequest(processors=tuple(registry.names(4)), start=START, end=END, batch_days=batch_days))
        assert p3.exit_code() == 0 and p4.exit_code() == 0
        tables: dict[str, pd.DataFrame] = {}
        for spec in registry.processors:
            df = wh.query(f"SELECT * FROM {spec.output_table} WHERE {spec.date_column} BETWEEN @a AND @b", {"a": START, "b": END})
            tables[spec.name] = _canonical(df, list(registry.output(spec.name).primary_key))
        units = wh.query("SELECT processor, unit_date, state, reason FROM nba_backfill.units ORDER BY processor, unit_date")
        states: dict[str, list[str]] = {}
        for proc, day, state, reason in units.itertuples(index=False):
            states.setdefault(proc, []).append(f"{pd.Timestamp(day).date()} {state} {reason}")
        return tables, states
    finally:
        wh.close()


def frame_digest(df: pd.DataFrame) -> str:
    """sha256 of a canonical frame's column names and values."""
    h = hashlib.sha256("|".join(df.columns).encode())
    for row in df.itertuples(index=False):
        h.update(("\x1f".join(map(str, row)) + "\n").encode())
    return h.hexdigest()


def input_digests(url: str) -> dict[str, str]:
    """Digests of the sample input tables the chain reads (the golden file is only valid for these)."""
    wh = connect(url)
    try:
        out = {}
        for name in INPUT_TABLES:
            df = wh.query(f"SELECT * FROM {name}")
            text = df.astype(str)
            out[name] = frame_digest(text.sort_values(list(text.columns)).reset_index(drop=True))
        return out
    finally:
        wh.close()
