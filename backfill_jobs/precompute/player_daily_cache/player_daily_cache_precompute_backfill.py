"""Backfill player_daily_cache day by day: a thin wrapper over `nba-backfill phase4 run --processor player_daily_cache`."""
from nba_backfill.jobs import job_main

if __name__ == "__main__":
    raise SystemExit(job_main("player_daily_cache"))
