"""Backfill ml_feature_store day by day: a thin wrapper over `nba-backfill phase4 run --processor ml_feature_store`."""
from nba_backfill.jobs import job_main

if __name__ == "__main__":
    raise SystemExit(job_main("ml_feature_store"))
