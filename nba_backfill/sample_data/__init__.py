"""Deterministic sample data for offline runs: the spec's real calendars, a synthetic league."""
from __future__ import annotations

from nba_backfill.sample_data.generate import DEFAULT_SEED, TABLE_NAMES, generate_frames, generate_sample_data, parse_seasons

__all__ = ["DEFAULT_SEED", "TABLE_NAMES", "generate_frames", "generate_sample_data", "parse_seasons"]
