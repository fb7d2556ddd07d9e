"""nba-backfill: backfill Phase 3 context and Phase 4 precompute tables."""
__version__ = "0.1.0"
