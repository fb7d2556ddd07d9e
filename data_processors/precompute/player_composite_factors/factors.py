"""The composite factor formulas (spec composite §A.5–A.8), vectorized over one row per player.

Pure functions on numpy arrays (pandas Series are accepted too): they take the factor inputs
(context columns, the player's shot-zone row and the opponent's team-defense row) and return
unrounded float64 factors, the labels derived from stored (rounded) values, and the four
context JSON strings. Nothing here knows about tables, windows or outcomes.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from nba_backfill.values import round_half_away

#: Factor input -> (context column, default) of spec §A.5; NULL and NaN take the default.
CONTEXT_DEFAULTS: dict[str, tuple[str, float]] = {
    "days_rest": ("days_rest", 1),
    "games_last_7": ("games_in_last_7_days", 3),
    "minutes_last_7": ("minutes_in_last_7_days", 200),
    "avg_minutes_pg_last_7": ("avg_minutes_per_game_last_7", 30.0),
    "back_to_backs_last_14": ("back_to_backs_last_14_days", 0),
    "player_age": ("player_age", 25),
    "pace_differential": ("pace_differential", 0.0),
    "opponent_pace_last_10": ("opponent_pace_last_10", 100.0),
    "projected_usage_rate": ("projected_usage_rate", 25.0),
    "avg_usage_last_7": ("avg_usage_rate_last_7_games", 25.0),
    "star_teammates_out": ("star_teammates_out", 0),
}
ZONE_USAGE_DEFAULT = 50.0
ZONE_DEFENSE_DEFAULT = 0.0
LEAGUE_AVG_PACE = 100.0

#: zone_used -> (shot-zone usage column, team-defense vs-league column).
ZONE_COLUMNS: dict[str, tuple[str, str]] = {
    "paint": ("paint_rate_last_10", "paint_defense_vs_league_avg"),
    "mid_range": ("mid_range_rate_last_10", "mid_range_defense_vs_league_avg"),
    "perimeter": ("three_pt_rate_last_10", "three_pt_defense_vs_league_avg"),
}

#: Fatigue steps of §A.6 in step order: (label, change); a label is applied where its mask is set.
FATIGUE_PENALTIES: tuple[tuple[str, int], ...] = (
    ("back_to_back: -15", -15),
    ("frequent_games: -10", -10),
    ("heavy_minutes: -10", -10),
    ("high_minutes_per_game: -8", -8),
    ("recent_back_to_backs: -12", -12),
    ("recent_back_to_back: -5", -5),
    ("veteran_age: -10", -10),
    ("age_30_plus: -5", -5),
)
REST_BONUS = ("extra_rest: +5", 5)

WARNINGS: tuple[str, ...] = (
    "EXTREME_FATIGUE: Player showing severe fatigue",
    "EXTREME_MATCHUP: Unusual zone mismatch",
    "EXTREME_ADJUSTMENT: Very large composite adjustment",
)


def floats(values: Any) -> np.ndarray:
    """float64 values with NaN for every NULL (numpy, masked or object columns alike)."""
    if isinstance(values, pd.Series | pd.Index):
        return values.to_numpy(dtype="float64", na_value=np.nan)
    return np.asarray(values, dtype="float64")


def flags(values: Any) -> np.ndarray:
    """A boolean column with NULL as FALSE (what `fillna(False).astype(bool)` gives)."""
    if isinstance(values, pd.Series | pd.Index):
        return values.to_numpy(dtype=bool, na_value=False)
    return np.asarray(pd.array(values, dtype="boolean").to_numpy(dtype=bool, na_value=False))


def factor_inputs(ctx: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """The context inputs actually used: float64 with defaults filled, `back_to_back` as bool."""
    used: dict[str, np.ndarray] = {}
    for name, (column, default) in CONTEXT_DEFAULTS.items():
        x = floats(ctx[column])
        used[name] = np.where(np.isnan(x), float(default), x)
    used["back_to_back"] = flags(ctx["back_to_back"])
    return used


def fatigue_flags(used: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(penalty masks, shape rows × len(FATIGUE_PENALTIES); rest-bonus mask) in step order."""
    b2b = np.asarray(used["back_to_back"], dtype=bool)
    b2b14 = np.asarray(used["back_to_backs_last_14"])
    age = np.asarray(used["player_age"])
    veteran = age >= 35
    penalties = np.column_stack(
        [
            b2b,
            np.asarray(used["games_last_7"]) >= 4,
            np.asarray(used["minutes_last_7"]) > 240,
            np.asarray(used["avg_minutes_pg_last_7"]) > 35,
            b2b14 >= 2,
            b2b14 == 1,
            veteran,
            ~veteran & (age >= 30),
        ]
    )
    bonus = ~b2b & (np.asarray(used["days_rest"]) >= 3)
    return penalties, bonus


def fatigue_score(penalties: np.ndarray, bonus: np.ndarray) -> np.ndarray:
    """100 plus every applied change, clamped once to 0..100 (int64)."""
    changes = np.array([change for _, change in FATIGUE_PENALTIES], dtype="int64")
    raw = 100 + penalties.astype("int64") @ changes + bonus.astype("int64") * REST_BONUS[1]
    return np.clip(raw, 0, 100).astype("int64")


def zone_used(primary: Any) -> np.ndarray:
    """`primary_scoring_zone` when it names a known zone, else `paint` (balanced, NULL, other)."""
    values = np.asarray(primary, dtype=object)
    known = np.zeros(len(values), dtype=bool)
    for zone in ZONE_COLUMNS:
        known |= values == zone
    return np.where(known, values, "paint").astype(object)


def pick_by_zone(columns: Mapping[str, Any], zones: np.ndarray, which: int, default: float) -> np.ndarray:
    """Per row, the usage (which=0) or defense (which=1) column of that row's zone, NULL -> default."""
    conditions = [zones == zone for zone in ZONE_COLUMNS]
    choices = [floats(columns[cols[which]]) for cols in ZONE_COLUMNS.values()]
    picked = np.select(conditions, choices, default=np.nan)
    return np.where(np.isnan(picked), default, picked)


def zone_mismatch(usage: Any, dv: Any, both_present: Any) -> np.ndarray:
    """dv × min(usage/50, 1), ×1.2 when |m| > 5 (unrounded test), clamped to ±10; 0.0 if a row is absent."""
    m = floats(dv) * np.minimum(floats(usage) / 50, 1.0)
    m = np.where(np.abs(m) <= 5.0, m, m * 1.2)
    return np.where(np.asarray(both_present, dtype=bool), np.clip(m, -10.0, 10.0), 0.0)


def pace_score(pace_differential: Any) -> np.ndarray:
    """pace_differential / 2, clamped to ±3."""
    return np.clip(floats(pace_differential) / 2, -3.0, 3.0)


def usage_spike(projected: Any, baseline: Any, stars_out: Any) -> np.ndarray:
    """(p − b) × 0.3, positive spikes boosted ×1.15 (one star out) or ×1.30 (two+), clamped to ±3."""
    b, n = floats(baseline), floats(stars_out)
    s = (floats(projected) - b) * 0.3
    boost = np.where(n >= 2, 1.30, 1.15)
    s = np.where((n > 0) & (s > 0), s * boost, s)
    return np.where(b != 0, np.clip(s, -3.0, 3.0), 0.0)


def total_adjustment(fatigue: np.ndarray, zone: np.ndarray, pace: np.ndarray, usage: np.ndarray) -> np.ndarray:
    """fatigue_adj + zone + pace + usage + the four deferred 0.0s, left to right, unrounded."""
    total = (np.asarray(fatigue) - 100) / 20 + zone + pace + usage
    for _ in range(4):
        total = total + 0.0
    return total


def warning_details(fatigue: np.ndarray, zone_stored: np.ndarray, total_stored: np.ndarray) -> list[str | None]:
    """The §A.7 warnings on stored values, joined with '; ' (None when none applies)."""
    masks = np.column_stack([fatigue < 50, np.abs(zone_stored) > 8.0, np.abs(total_stored) > 12.0])
    return [_WARNING_TEXTS[k] for k in bitmask(masks).tolist()]


def bitmask(masks: np.ndarray) -> np.ndarray:
    """Each row of a boolean matrix as one integer (column j is bit j): rows sharing a pattern
    share a memoized label instead of a per-row join."""
    return masks.astype("int64") @ (1 << np.arange(masks.shape[1], dtype="int64"))


def bits(k: int, width: int) -> list[bool]:
    """The `width` low bits of k, bit 0 first (the inverse of `bitmask` for one row)."""
    return [bool(k >> j & 1) for j in range(width)]


#: warning_details of each warning pattern (bit j = WARNINGS[j] applies).
_WARNING_TEXTS = ["; ".join(w for w, hit in zip(WARNINGS, bits(k, len(WARNINGS))) if hit) or None for k in range(8)]


JSON_COLUMNS = ("fatigue_context_json", "shot_zone_context_json", "pace_context_json", "usage_context_json")


# --- context JSON (§A.8): the reference form, one row ------------------------------------------


def _num(value: float) -> float:
    """A JSON number: rounded half away from zero to 4 decimals (repr gives the shortest form)."""
    if not math.isfinite(value):
        raise ValueError(f"non-finite value {value!r} in a context JSON column")
    return round_half_away(value, 4)


def _dumps(obj: dict[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def fatigue_json(used: Mapping[str, Any], penalties: list[str], bonuses: list[str], final: int) -> str:
    """fatigue_context_json from the used inputs of one row."""
    return _dumps(
        {
            "days_rest": int(used["days_rest"]),
            "back_to_back": bool(used["back_to_back"]),
            "games_last_7": int(used["games_last_7"]),
            "minutes_last_7": int(used["minutes_last_7"]),
            "avg_minutes_pg_last_7": _num(used["avg_minutes_pg_last_7"]),
            "back_to_backs_last_14": int(used["back_to_backs_last_14"]),
            "player_age": int(used["player_age"]),
            "penalties_applied": penalties,
            "bonuses_applied": bonuses,
            "final_score": int(final),
        }
    )


def shot_zone_json(
    shot_found: bool,
    defense_found: bool,
    primary: str | None,
    zone: str,
    usage: float,
    weak_zone: str | None,
    dv: float,
    final: float,
) -> str:
    """shot_zone_context_json: the missing-data form, or the matchup with its stored score."""
    if not (shot_found and defense_found):
        return _dumps({"missing_data": True, "player_shot_zone_found": shot_found, "opponent_defense_found": defense_found})
    return _dumps(
        {
            "player_primary_zone": primary,
            "zone_used": zone,
            "primary_zone_frequency": _num(usage),
            "opponent_weak_zone": weak_zone,
            "opponent_defense_vs_league": _num(dv),
            "mismatch_type": _mismatch_type(final),
            "final_score": _num(final),
        }
    )


def pace_json(pace_differential: float, opponent_pace: float, final: float) -> str:
    """pace_context_json; the environment is read from the used pace differential."""
    return _dumps(
        {
            "pace_differential": _num(pace_differential),
            "opponent_pace_last_10": _num(opponent_pace),
            "league_avg_pace": LEAGUE_AVG_PACE,
            "pace_environment": _pace_environment(pace_differential),
            "final_score": _num(final),
        }
    )


def usage_json(projected: float, baseline: float, stars_out: float, final: float) -> str:
    """usage_context_json; the trend is read from the unrounded differential p − b."""
    diff = projected - baseline
    return _dumps(
        {
            "projected_usage_rate": _num(projected),
            "avg_usage_last_7": _num(baseline),
            "usage_differential": _num(diff),
            "star_teammates_out": int(stars_out),
            "usage_trend": _usage_trend(diff),
            "final_score": _num(final),
        }
    )


def _mismatch_type(final: float) -> str:
    return "favorable" if final > 2.0 else "unfavorable" if final < -2.0 else "neutral"


def _pace_environment(pace_differential: float) -> str:
    return "fast" if pace_differential > 2 else "slow" if pace_differential < -2 else "normal"


def _usage_trend(diff: float) -> str:
    return "spike" if diff > 2 else "drop" if diff < -2 else "stable"


