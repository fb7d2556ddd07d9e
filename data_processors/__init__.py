"""The processors of nba-backfill, listed explicitly (no import magic).

Each processor module exposes `SPEC` (a `nba_backfill.processor.ProcessorSpec`) and a
pure `compute(analysis_date, inputs, run_timestamp=None) -> ProcessorResult`.
"""
from __future__ import annotations

from nba_backfill.processor import ProcessorSpec

#: Phase 4 run order (backfill-engine.md §2); Phase 3 first.
PHASE3 = ("upcoming_player_game_context",)
PHASE4 = (
    "team_defense_zone_analysis",
    "player_shot_zone_analysis",
    "player_composite_factors",
    "player_daily_cache",
    "ml_feature_store",
)


def load_specs() -> tuple[ProcessorSpec, ...]:
    """Every processor spec, Phase 3 then Phase 4 in run order."""
    from data_processors.analytics.upcoming_player_game_context import upcoming_player_game_context_processor as upgc
    from data_processors.precompute.ml_feature_store import ml_feature_store_processor as mlfs
    from data_processors.precompute.player_composite_factors import player_composite_factors_processor as pcf
    from data_processors.precompute.player_daily_cache import player_daily_cache_processor as pdc
    from data_processors.precompute.player_shot_zone_analysis import player_shot_zone_analysis_processor as psza
    from data_processors.precompute.team_defense_zone_analysis import team_defense_zone_analysis_processor as tdza

    return (upgc.SPEC, tdza.SPEC, psza.SPEC, pcf.SPEC, pdc.SPEC, mlfs.SPEC)
