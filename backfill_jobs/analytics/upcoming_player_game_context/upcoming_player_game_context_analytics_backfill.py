"""Backfill upcoming_player_game_context day by day: a thin wrapper over `nba-backfill phase3 run --processor upcoming_player_game_context`."""
from nba_backfill.jobs import job_main

if __name__ == "__main__":
    raise SystemExit(job_main("upcoming_player_game_context"))
