"""What `props check`, the dry run and the run log print for one date (spec §6-§7), as pure functions.

`availability` runs Steps 0-4 exactly as compute() does (resolution included), so its
"N players available" is the number of rows a real run writes for that date.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from .resolve import details, input_frames, resolve

OUTCOMES = ("ok", "partial", "no_games", "no_props", "unresolved", "error")


def availability(analysis_date: dt.date, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Per-source player counts, the chosen source per player and the players available on one date.

    Args:
        analysis_date: the game date D.
        inputs: the processor's input frames (same mapping compute() receives).

    Returns:
        The §6 result fields (players_available = rows a real run would write, rows_written = 0),
        plus `line`, the §7 dry-run line.
    """
    frames = input_frames(inputs)
    res = resolve(analysis_date, frames)
    info = details(res, len(res.placed) if res.outcome in ("ok", "partial") else 0)
    info["line"] = dry_run_line(info)
    return info


def dry_run_line(info: Mapping[str, Any]) -> str:
    """One §7 line, e.g. `2021-11-01: 9 games | odds_api 0 players | ... -> 57 players available`."""
    day, outcome = info["date"], info["outcome"]
    if outcome == "error":
        return f"{day}: error - {info['message']}"
    counts = (
        f"{day}: {info['games']} games | odds_api {info['odds_api_players']} players"
        f" | bettingpros {info['bettingpros_players']} players (both {info['both_sources']})"
    )
    if outcome == "no_games":
        return f"{counts} -> 0 players available ({info['message']})"
    counts += (
        f" | chosen odds_api {info['chosen_odds_api']}, bettingpros {info['chosen_bettingpros']}"
        f" | unresolved {len(info['unresolved'])} -> {info['players_available']} players available"
    )
    return counts if outcome in ("ok", "partial") else f"{counts} ({info['message']})"


def log_line(info: Mapping[str, Any]) -> str:
    """The §6 run-log line of one date, e.g. `2021-11-01: wrote 57 players (odds_api 0, bettingpros 57; unresolved 0)`."""
    day, outcome = info["date"], info["outcome"]
    if outcome in ("ok", "partial"):
        return (
            f"{day}: wrote {info['players_available']} players (odds_api {info['chosen_odds_api']},"
            f" bettingpros {info['chosen_bettingpros']}; unresolved {len(info['unresolved'])})"
        )
    if outcome == "error":
        return f"{day}: error - {info['message']}"
    if outcome == "no_games":
        return f"{day}: 0 players - {info['message']}"
    return f"{day}: 0 players - {info['message']} ({info['games']} games scheduled)"


def dry_run_summary(infos: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """The closing §7 summary: dates processed, dates with players, players available, count per empty outcome."""
    infos = list(infos)
    summary = {
        "dates_processed": len(infos),
        "dates_with_players": sum(1 for i in infos if i["players_available"] > 0),
        "players_available": sum(i["players_available"] for i in infos),
    }
    for outcome in ("no_props", "no_games", "unresolved", "error"):
        summary[outcome] = sum(1 for i in infos if i["outcome"] == outcome)
    return summary


def summary_line(summary: Mapping[str, int]) -> str:
    """The summary as one line."""
    return (
        f"{summary['dates_processed']} dates processed, {summary['dates_with_players']} with players,"
        f" {summary['players_available']} players available; no_props {summary['no_props']},"
        f" no_games {summary['no_games']}, unresolved {summary['unresolved']}, error {summary['error']}"
    )
