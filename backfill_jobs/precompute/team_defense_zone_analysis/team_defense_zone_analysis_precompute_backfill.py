"""Backfill team_defense_zone_analysis day by day: a thin wrapper over `nba-backfill phase4 run --processor team_defense_zone_analysis`."""
from nba_backfill.jobs import job_main

if __name__ == "__main__":
    raise SystemExit(job_main("team_defense_zone_analysis"))
