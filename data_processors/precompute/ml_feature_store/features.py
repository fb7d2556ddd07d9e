"""The 25 ML features as pure, vectorized formulas with a provenance tag each (spec §C.5–§C.7).

Input is one row per output player holding every value the formulas need (Phase 4 columns
prefixed by their source, Phase 3 aggregates, context fields), as a frame or as a mapping of
equal-length columns (what the processor passes: plain arrays are much cheaper than frames
at a few hundred rows). The processor module does the joins; this module only turns those
inputs into a (n × 25) value matrix and a tag matrix.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

PHASE4, PHASE3, CALCULATED, DEFAULT = "phase4", "phase3", "calculated", "default"
TAG_WEIGHTS = {PHASE4: 100.0, PHASE3: 75.0, CALCULATED: 100.0, DEFAULT: 40.0}

#: Tags as small integer codes internally (a code indexes TAGS); text only at the boundary.
TAGS = np.array([PHASE4, PHASE3, CALCULATED, DEFAULT], dtype=object)
P4, P3, CALC, DFLT = range(4)

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

#: Input columns: a frame, or a mapping of column name -> equal-length array (absent = NULL).
Inputs = pd.DataFrame | Mapping[str, Any]
#: A feature: float64 values and int8 tag codes.
Feature = tuple[np.ndarray, np.ndarray]


def _rows(df: Inputs) -> int:
    if isinstance(df, pd.DataFrame):
        return len(df)
    return len(next(iter(df.values()))) if len(df) else 0


def _num(df: Inputs, col: str) -> np.ndarray:
    """A float64 column (NaN = NULL); an absent column is all NULL."""
    values = df.get(col)
    if values is None:
        return np.full(_rows(df), np.nan)
    if isinstance(values, np.ndarray) and values.dtype == np.float64:
        return values
    return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _texts(df: Inputs, col: str) -> list[Any]:
    """A column's values as Python objects; an absent column is all NULL."""
    values = df.get(col)
    if values is None:
        return [None] * _rows(df)
    return np.asarray(values, dtype=object).tolist()


def _tags(ok: np.ndarray, tag: int) -> np.ndarray:
    return np.where(ok, np.int8(tag), np.int8(DFLT))


def _phase4_lookup(df: Inputs, name: str) -> Feature:
    """Phase 4 value if the row exists and the value is non-NULL, else Phase 3 fallback, else default."""
    col, fallback, default, divisor = PHASE4_LOOKUPS[name]
    p4 = _num(df, col)
    has4 = ~np.isnan(p4)
    value = np.where(has4, p4, default)
    tags = _tags(has4, P4)
    if fallback is not None:
        p3 = _num(df, fallback)
        use3 = ~has4 & ~np.isnan(p3)
        value = np.where(use3, p3, value)
        tags = np.where(use3, np.int8(P3), tags)
    return value / divisor, tags


def _bucket(x: np.ndarray, hi2: float, hi1: float) -> np.ndarray:
    """+2 if x >= hi2, +1 if >= hi1, -2 if <= -hi2, -1 if <= -hi1, else 0 (NaN gives 0)."""
    return np.select([x >= hi2, x >= hi1, x <= -hi2, x <= -hi1], [2.0, 1.0, -2.0, -1.0], 0.0)


def rest_advantage(df: Inputs) -> Feature:
    rest, opp = _num(df, "days_rest"), _num(df, "opponent_days_rest")
    ok = ~np.isnan(rest) & ~np.isnan(opp)
    return np.where(ok, np.clip(rest - opp, -2.0, 2.0), 0.0), _tags(ok, CALC)


def injury_risk(df: Inputs) -> Feature:
    status = _texts(df, "player_status")
    mapped = np.array([INJURY_RISK.get(s.strip().lower(), np.nan) if isinstance(s, str) else np.nan for s in status],
                      dtype="float64")
    ok = ~np.isnan(mapped)
    return np.where(ok, mapped, 0.0), _tags(ok, CALC)


def recent_trend(df: Inputs) -> Feature:
    """Positive when the 3 newest games out-score the 4th and 5th newest (needs 5 games in L)."""
    n, a, b = _num(df, "l_games"), _num(df, "trend_a"), _num(df, "trend_b")
    ok = (np.nan_to_num(n) >= 5) & ~np.isnan(a) & ~np.isnan(b)
    return np.where(ok, _bucket(a - b, 5.0, 2.0), 0.0), _tags(ok, CALC)


def minutes_change(df: Inputs) -> Feature:
    recent = _num(df, "dc_minutes_avg_last_10")
    recent = np.where(np.isnan(recent), _num(df, "l_minutes_mean"), recent)
    season = _num(df, "p3_minutes_season")
    ok = ~np.isnan(recent) & ~np.isnan(season) & (recent != 0) & (season != 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = (recent - season) / np.where(ok, season, 1.0)
    return np.where(ok, _bucket(pct, 0.20, 0.10), 0.0), _tags(ok, CALC)


def _context_flag(df: Inputs, col: str) -> Feature:
    """A context boolean as 1.0/0.0 tagged phase3; NULL gives 0.0 tagged default."""
    raw = df.get(col)
    if raw is None:
        n = _rows(df)
        return np.zeros(n), np.full(n, np.int8(DFLT))
    if isinstance(raw, pd.arrays.BooleanArray):
        flag = raw
    elif isinstance(raw, pd.Series):
        flag = raw.astype("boolean").array
    else:
        flag = pd.array(raw, dtype="boolean")
    ok = ~flag.isna()
    value = flag.to_numpy(dtype=bool, na_value=False).astype("float64")
    return value, _tags(ok, P3)


def home_away(df: Inputs) -> Feature:
    return _context_flag(df, "home_game")


def back_to_back(df: Inputs) -> Feature:
    return _context_flag(df, "back_to_back")


def playoff_game(df: Inputs) -> Feature:
    phase = _texts(df, "season_phase")
    ok = np.array([isinstance(s, str) for s in phase], dtype=bool)
    value = np.array([isinstance(s, str) and s.strip().lower() == "playoffs" for s in phase], dtype="float64")
    return value, _tags(ok, P3)


def pct_free_throw(df: Inputs) -> Feature:
    n, pts, ft = _num(df, "l_games"), _num(df, "l_points_sum"), _num(df, "l_ft_sum")
    ok = (np.nan_to_num(n) >= 5) & (np.nan_to_num(pts) > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.clip(np.nan_to_num(ft) / np.where(ok, pts, 1.0), 0.0, 0.5)
    return np.where(ok, share, 0.15), _tags(ok, CALC)


def team_win_pct(df: Inputs) -> Feature:
    games, wins = np.nan_to_num(_num(df, "team_games")), np.nan_to_num(_num(df, "team_wins"))
    ok = games >= 5
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = wins / np.where(ok, games, 1.0)
    return np.where(ok, pct, 0.5), _tags(ok, CALC)


_CALCULATED: dict[str, Callable[[Inputs], Feature]] = {
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


def feature_matrix(df: Inputs) -> tuple[np.ndarray, np.ndarray]:
    """All 25 features in `FEATURE_NAMES` order: (n × 25 float64 values, n × 25 int8 tag codes)."""
    n = _rows(df)
    values = np.empty((n, len(FEATURE_NAMES)), dtype="float64")
    codes = np.empty((n, len(FEATURE_NAMES)), dtype="int8")
    for i, name in enumerate(FEATURE_NAMES):
        fn = _CALCULATED.get(name)
        values[:, i], codes[:, i] = fn(df) if fn is not None else _phase4_lookup(df, name)
    return values, codes


def compute_features(df: Inputs) -> tuple[np.ndarray, np.ndarray]:
    """All 25 features in `FEATURE_NAMES` order: (n × 25 float64 values, n × 25 tags)."""
    values, codes = feature_matrix(df)
    return values, TAGS[codes]


def quality_from_codes(codes: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """feature_quality_score (unrounded) and data_source per row, from the tag-code matrix (§C.7).

    The score is the mean tag weight; the weights are whole numbers, so summing counts times
    weights gives exactly the row sum of the weights.
    """
    n_feat = codes.shape[1] if codes.ndim == 2 else len(FEATURE_NAMES)
    if not codes.size:
        return np.empty(0), []
    counts = [(codes == c).sum(axis=1) for c in range(len(TAGS))]
    weights = sum(counts[c] * TAG_WEIGHTS[TAGS[c]] for c in range(len(TAGS)))
    score = weights / n_feat
    s4, s3 = counts[P4] / n_feat, counts[P3] / n_feat
    source = np.select([s4 >= 0.90, s4 >= 0.50, s3 >= 0.50], ["phase4", "phase4_partial", "phase3"], "mixed")
    return score, [str(s) for s in source]


def quality_and_source(tags: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """feature_quality_score (unrounded) and data_source per row, from the tag matrix (§C.7)."""
    tags = np.asarray(tags, dtype=object)
    codes = np.full(tags.shape, -1, dtype="int8")
    for c, tag in enumerate(TAGS):
        codes[tags == tag] = c
    if (codes < 0).any():
        raise KeyError(tags[codes < 0].flat[0])
    return quality_from_codes(codes)
