"""A player_game_summary row of an ordinary active game, for the shot-zone tests."""
from __future__ import annotations

import datetime as dt
from typing import Any


def player_game(player: str | None, day: dt.date, **values: Any) -> dict[str, Any]:
    """One player_game_summary row (30 minutes, a few shots per zone), overridable per test."""
    row: dict[str, Any] = dict(
        player_lookup=player, universal_player_id=f"{player}_001", game_id=f"{day:%Y%m%d}_BOS", game_date=day,
        season_year=2024, team_abbr="BOS", is_active=True, minutes_played=30.0,
        paint_attempts=5, paint_makes=3, mid_range_attempts=2, mid_range_makes=1, three_pt_attempts=3,
        three_pt_makes=1, fg_makes=5, assisted_fg_makes=3, unassisted_fg_makes=2,
        processed_at="2025-01-19T08:00:00Z",
    )  # fmt: skip
    row.update(values)
    return row
