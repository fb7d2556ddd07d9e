"""Every tunable constant of the processors and the engine, defined once (spec: phase4 §1.13)."""
from __future__ import annotations

BOOTSTRAP_DAYS = 7
PRODUCTION_READY_PCT = 90.0
TEAM_DEFENSE_WINDOW_GAMES = 15
TEAM_DEFENSE_MIN_GAMES = 15
LEAGUE_AVG_LOOKBACK_DAYS = 30
LEAGUE_AVG_MIN_TEAM_GAMES = 10
LEAGUE_AVG_MIN_TEAMS = 10
LEAGUE_AVG_DEFAULTS = {"paint": 0.580, "mid_range": 0.410, "three_pt": 0.355}
SHOT_ZONE_WINDOW_GAMES = 10
SHOT_ZONE_MIN_GAMES = 10
SHOT_ZONE_LONG_WINDOW_GAMES = 20
SHOT_ZONE_LONG_MIN_GAMES = 15
PLAYER_COMPLETENESS_WINDOW_GAMES = 10
DAILY_CACHE_MIN_GAMES = 5
DAILY_CACHE_FULL_SAMPLE_GAMES = 10
TEAM_OFFENSE_WINDOW_GAMES = 10
ML_MIN_RECENT_GAMES = 5
ML_MIN_TEAM_GAMES = 5

#: Opening nights used when the schedule has no regular-season row of the season.
OPENING_NIGHT_FALLBACK = {2021: "2021-10-19", 2022: "2022-10-18", 2023: "2023-10-24", 2024: "2024-10-22"}

#: Unit coverage below this share of expected entities makes a written unit DEGRADED.
COVERAGE_MIN_PCT = 90.0
#: A run whose NO_SOURCE_DATA units exceed this share of planned dates exits 1.
NO_SOURCE_DATA_MAX_SHARE = 0.05
