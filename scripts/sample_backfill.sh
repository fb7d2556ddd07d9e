#!/usr/bin/env bash
# The main job on the embedded default: sample data -> Phase 3 -> Phase 4 -> verify, for one season.
# Usage: scripts/sample_backfill.sh [SEASON_LABEL] (default 2021-22). Writes ./nba_warehouse.duckdb.
set -euo pipefail
season="${1:-2021-22}"
first_year="${season%%-*}"
start="${first_year}-10-01"
end="$((first_year + 1))-06-30"
nba-backfill sample load --seasons "$season"
nba-backfill phase3 run --processor upcoming_player_game_context --start-date "$start" --end-date "$end"
nba-backfill phase4 run --all --start-date "$start" --end-date "$end"
nba-backfill phase4 status --start-date "$start" --end-date "$end"
nba-backfill verify --start-date "$start" --end-date "$end"
