"""The 25 ML features as pure, vectorized formulas with a provenance tag each (spec §C.5–§C.7).

Input is one row per output player holding every value the formulas need (Phase 4 columns
prefixed by their source, Phase 3 aggregates, context fields). The processor module does the
joins; this module only turns those inputs into a (n × 25) value matrix and a tag matrix.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

PHASE4, PHASE3, CALCULATED, DEFAULT = "phase4", "phase3", "calculated", "default"
TAG_WEIGHTS = {PHASE4: 100.0, PHASE3: 75.0, CALCULATED: 100.0, DEFAULT: 40.0}

FEATURE_NAMES: tuple[str, ...] = (
    "points_avg_last_5",
    "points_avg_last_10",
    "points_avg_season",
    "points_std_last_10",
    "games_in_last_7_days",
    "fatigue_score",
    "shot_zone_mismatch_score",
    "pace_score",
    "usage_spike_score",
    "rest_advantage",
    "injury_risk",
    "recent_trend",
    "minutes_change",
    "opponent_def_rating",
    "opponent_pace",
    "home_away",
    "back_to_back",
    "playoff_game",
    "pct_paint",
    "pct_mid_range",
    "pct_three",
    "pct_free_throw",
    "team_pace",
    "team_off_rating",
    "team_win_pct",
)

#: Feature -> (Phase 4 input column, Phase 3 fallback column or None, default, divisor).
PHASE4_LOOKUPS: dict[str, tuple[str, str | None, float, float]] = {
    "points_avg_last_5": ("dc_points_avg_last_5", "p3_last5", 10.0, 1.0),
    "points_avg_last_10": ("dc_points_avg_last_10", "p3_last10", 10.0, 1.0),
    "points_avg_season": ("dc_points_avg_season", "p3_season", 10.0, 1.0),
    "points_std_last_10": ("dc_points_std_last_10", None, 5.0, 1.0),
    "games_in_last_7_days": ("dc_games_in_last_7_days", None, 3.0, 1.0),
    "fatigue_score": ("cf_fatigue_score", None, 50.0, 1.0),
    "shot_zone_mismatch_score": ("cf_shot_zone_mismatch_score", None, 0.0, 1.0),
    "pace_score": ("cf_pace_score", None, 0.0, 1.0),
    "usage_spike_score": ("cf_usage_spike_score", None, 0.0, 1.0),
    "opponent_def_rating": ("td_defensive_rating_last_15", None, 112.0, 1.0),
    "opponent_pace": ("td_opponent_pace", None, 100.0, 1.0),
    "pct_paint": ("sz_paint_rate_last_10", None, 30.0, 100.0),
    "pct_mid_range": ("sz_mid_range_rate_last_10", None, 20.0, 100.0),
    "pct_three": ("sz_three_pt_rate_last_10", None, 35.0, 100.0),
    "team_pace": ("dc_team_pace_last_10", None, 100.0, 1.0),
    "team_off_rating": ("dc_team_off_rating_last_10", None, 112.0, 1.0),
}

INJURY_RISK = {"available": 0.0, "probable": 1.0, "questionable": 2.0, "doubtful": 3.0, "out": 3.0}

Feature = tuple[np.ndarray, np.ndarray]


def _num(df: pd.DataFrame, col: str) -> np.ndarray:
    """A float64 column (NaN = NULL); an absent column is all NULL."""
    if col not in df.columns:
        return np.full(len(df), np.nan)
    return pd.to_numeric(df[col], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _tags(ok: np.ndarray, tag: str) -> np.ndarray:
    return np.where(ok, tag, DEFAULT).astype(object)


def _phase4_lookup(df: pd.DataFrame, name: str) -> Feature:
    """Phase 4 value if the row exists and the value is non-NULL, else Phase 3 fallback, else default."""
    col, fallback, default, divisor = PHASE4_LOOKUPS[name]
    p4 = _num(df, col)
    has4 = ~np.isnan(p4)
    value = np.where(has4, p4, default)
    tags = np.where(has4, PHASE4, DEFAULT).astype(object)
    if fallback is not None:
        p3 = _num(df, fallback)
        use3 = ~has4 & ~np.isnan(p3)
        value = np.where(use3, p3, value)
        tags = np.where(use3, PHASE3, tags).astype(object)
    return value / divisor, tags


def _bucket(x: np.ndarray, hi2: float, hi1: float) -> np.ndarray:
    """+2 if x >= hi2, +1 if >= hi1, -2 if <= -hi2, -1 if <= -hi1, else 0 (NaN gives 0)."""
    return np.select([x >= hi2, x >= hi1, x <= -hi2, x <= -hi1], [2.0, 1.0, -2.0, -1.0], 0.0)


def rest_advantage(df: pd.DataFrame) -> Feature:
    rest, opp = _num(df, "days_rest"), _num(df, "opponent_days_rest")
    ok = ~np.isnan(rest) & ~np.isnan(opp)
    return np.where(ok, np.clip(rest - opp, -2.0, 2.0), 0.0), _tags(ok, CALCULATED)


def injury_risk(df: pd.DataFrame) -> Feature:
    status = df["player_status"] if "player_status" in df.columns else pd.Series([None] * len(df), index=df.index)
    text = status.map(lambda s: s.strip().lower() if isinstance(s, str) else None)
    mapped = pd.to_numeric(text.map(INJURY_RISK), errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    ok = ~np.isnan(mapped)
    return np.where(ok, mapped, 0.0), _tags(ok, CALCULATED)


def recent_trend(df: pd.DataFrame) -> Feature:
    """Positive when the 3 newest games out-score the 4th and 5th newest (needs 5 games in L)."""
    n, a, b = _num(df, "l_games"), _num(df, "trend_a"), _num(df, "trend_b")
    ok = (np.nan_to_num(n) >= 5) & ~np.isnan(a) & ~np.isnan(b)
    return np.where(ok, _bucket(a - b, 5.0, 2.0), 0.0), _tags(ok, CALCULATED)


def minutes_change(df: pd.DataFrame) -> Feature:
    recent = _num(df, "dc_minutes_avg_last_10")
    recent = np.where(np.isnan(recent), _num(df, "l_minutes_mean"), recent)
    season = _num(df, "p3_minutes_season")
    ok = ~np.isnan(recent) & ~np.isnan(season) & (recent != 0) & (season != 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = (recent - season) / np.where(ok, season, 1.0)
    return np.where(ok, _bucket(pct, 0.20, 0.10), 0.0), _tags(ok, CALCULATED)


def _context_flag(df: pd.DataFrame, col: str) -> Feature:
    """A context boolean as 1.0/0.0 tagged phase3; NULL gives 0.0 tagged default."""
    flag = df[col].astype("boolean") if col in df.columns else pd.Series(pd.NA, index=df.index, dtype="boolean")
    ok = flag.notna().to_numpy()
    value = flag.fillna(False).astype(bool).to_numpy().astype("float64")
    return value, _tags(ok, PHASE3)


def home_away(df: pd.DataFrame) -> Feature:
    return _context_flag(df, "home_game")


def back_to_back(df: pd.DataFrame) -> Feature:
    return _context_flag(df, "back_to_back")


def playoff_game(df: pd.DataFrame) -> Feature:
    phase = df["season_phase"] if "season_phase" in df.columns else pd.Series([None] * len(df), index=df.index)
    ok = phase.map(lambda s: isinstance(s, str)).to_numpy(dtype=bool)
    value = phase.map(lambda s: isinstance(s, str) and s.strip().lower() == "playoffs").to_numpy(dtype="float64")
    return value, _tags(ok, PHASE3)


def pct_free_throw(df: pd.DataFrame) -> Feature:
    n, pts, ft = _num(df, "l_games"), _num(df, "l_points_sum"), _num(df, "l_ft_sum")
    ok = (np.nan_to_num(n) >= 5) & (np.nan_to_num(pts) > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.clip(np.nan_to_num(ft) / np.where(ok, pts, 1.0), 0.0, 0.5)
    return np.where(ok, share, 0.15), _tags(ok, CALCULATED)


def team_win_pct(df: pd.DataFrame) -> Feature:
    games, wins = np.nan_to_num(_num(df, "team_games")), np.nan_to_num(_num(df, "team_wins"))
    ok = games >= 5
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = wins / np.where(ok, games, 1.0)
    return np.where(ok, pct, 0.5), _tags(ok, CALCULATED)


_CALCULATED: dict[str, Callable[[pd.DataFrame], Feature]] = {
    "rest_advantage": rest_advantage,
    "injury_risk": injury_risk,
    "recent_trend": recent_trend,
    "minutes_change": minutes_change,
    "home_away": home_away,
    "back_to_back": back_to_back,
    "playoff_game": playoff_game,
    "pct_free_throw": pct_free_throw,
    "team_win_pct": team_win_pct,
}


def compute_features(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """All 25 features in `FEATURE_NAMES` order: (n × 25 float64 values, n × 25 tags)."""
    values = np.empty((len(df), len(FEATURE_NAMES)), dtype="float64")
    tags = np.empty((len(df), len(FEATURE_NAMES)), dtype=object)
    for i, name in enumerate(FEATURE_NAMES):
        fn = _CALCULATED.get(name)
        values[:, i], tags[:, i] = fn(df) if fn is not None else _phase4_lookup(df, name)
    return values, tags


def quality_and_source(tags: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """feature_quality_score (unrounded) and data_source per row, from the tag matrix (§C.7)."""
    n_feat = tags.shape[1] if tags.ndim == 2 else len(FEATURE_NAMES)
    weights = np.vectorize(TAG_WEIGHTS.__getitem__, otypes=["float64"])(tags) if tags.size else np.empty(tags.shape)
    score = weights.sum(axis=1) / n_feat if tags.size else np.empty(0)
    s4 = (tags == PHASE4).sum(axis=1) / n_feat if tags.size else np.empty(0)
    s3 = (tags == PHASE3).sum(axis=1) / n_feat if tags.size else np.empty(0)
    source = np.select([s4 >= 0.90, s4 >= 0.50, s3 >= 0.50], ["phase4", "phase4_partial", "phase3"], "mixed")
    return score, [str(s) for s in source]
