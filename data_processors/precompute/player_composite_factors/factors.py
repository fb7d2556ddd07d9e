"""The composite factor formulas (spec composite §A.5–A.8), vectorized over one row per player.

Pure functions: they take the per-player frame of factor inputs (context columns merged
with the player's shot-zone row and the opponent's team-defense row) and return
unrounded float64 factors, the labels derived from stored (rounded) values, and the
four context JSON strings. Nothing here knows about tables, windows or outcomes.
"""
from __future__ import annotations

import json
import math
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


def factor_inputs(ctx: pd.DataFrame) -> pd.DataFrame:
    """The context inputs actually used: float64 with defaults filled, `back_to_back` as bool."""
    used = pd.DataFrame(index=ctx.index)
    for name, (column, default) in CONTEXT_DEFAULTS.items():
        used[name] = ctx[column].astype("float64").fillna(float(default))
    used["back_to_back"] = ctx["back_to_back"].fillna(False).astype(bool)
    return used


def fatigue_flags(used: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(penalty masks, shape rows × len(FATIGUE_PENALTIES); rest-bonus mask) in step order."""
    b2b = used["back_to_back"].to_numpy(bool)
    b2b14 = used["back_to_backs_last_14"].to_numpy()
    age = used["player_age"].to_numpy()
    veteran = age >= 35
    penalties = np.column_stack(
        [
            b2b,
            used["games_last_7"].to_numpy() >= 4,
            used["minutes_last_7"].to_numpy() > 240,
            used["avg_minutes_pg_last_7"].to_numpy() > 35,
            b2b14 >= 2,
            b2b14 == 1,
            veteran,
            ~veteran & (age >= 30),
        ]
    )
    bonus = ~b2b & (used["days_rest"].to_numpy() >= 3)
    return penalties, bonus


def fatigue_score(penalties: np.ndarray, bonus: np.ndarray) -> np.ndarray:
    """100 plus every applied change, clamped once to 0..100 (int64)."""
    changes = np.array([change for _, change in FATIGUE_PENALTIES], dtype="int64")
    raw = 100 + penalties.astype("int64") @ changes + bonus.astype("int64") * REST_BONUS[1]
    return np.clip(raw, 0, 100).astype("int64")


def zone_used(primary: pd.Series) -> pd.Series:
    """`primary_scoring_zone` when it names a known zone, else `paint` (balanced, NULL, other)."""
    return primary.where(primary.isin(list(ZONE_COLUMNS)), "paint").astype("object")


def pick_by_zone(frame: pd.DataFrame, zones: pd.Series, which: int, default: float) -> pd.Series:
    """Per row, the usage (which=0) or defense (which=1) column of that row's zone, NULL -> default."""
    conditions = [zones.to_numpy() == zone for zone in ZONE_COLUMNS]
    choices = [frame[cols[which]].to_numpy("float64") for cols in ZONE_COLUMNS.values()]
    picked = np.select(conditions, choices, default=np.nan)
    return pd.Series(picked, index=frame.index).fillna(default)


def zone_mismatch(usage: pd.Series, dv: pd.Series, both_present: pd.Series) -> pd.Series:
    """dv × min(usage/50, 1), ×1.2 when |m| > 5 (unrounded test), clamped to ±10; 0.0 if a row is absent."""
    m = dv * np.minimum(usage / 50, 1.0)
    m = m.where(m.abs() <= 5.0, m * 1.2)
    return m.clip(-10.0, 10.0).where(both_present.to_numpy(bool), 0.0)


def pace_score(pace_differential: pd.Series) -> pd.Series:
    """pace_differential / 2, clamped to ±3."""
    return (pace_differential / 2).clip(-3.0, 3.0)


def usage_spike(projected: pd.Series, baseline: pd.Series, stars_out: pd.Series) -> pd.Series:
    """(p − b) × 0.3, positive spikes boosted ×1.15 (one star out) or ×1.30 (two+), clamped to ±3."""
    s = (projected - baseline) * 0.3
    boost = np.where(stars_out >= 2, 1.30, 1.15)
    s = s.where(~((stars_out > 0) & (s > 0)), s * boost)
    return s.clip(-3.0, 3.0).where(baseline != 0, 0.0)


def total_adjustment(fatigue: np.ndarray, zone: pd.Series, pace: pd.Series, usage: pd.Series) -> pd.Series:
    """fatigue_adj + zone + pace + usage + the four deferred 0.0s, left to right, unrounded."""
    total = pd.Series((fatigue - 100) / 20, index=zone.index, dtype="float64") + zone + pace + usage
    for _ in range(4):
        total = total + 0.0
    return total


def warning_details(fatigue: np.ndarray, zone_stored: pd.Series, total_stored: pd.Series) -> list[str | None]:
    """The §A.7 warnings on stored values, joined with '; ' (None when none applies)."""
    masks = np.column_stack([fatigue < 50, zone_stored.abs().to_numpy() > 8.0, total_stored.abs().to_numpy() > 12.0])
    return ["; ".join(w for w, hit in zip(WARNINGS, row) if hit) or None for row in masks]


JSON_COLUMNS = ("fatigue_context_json", "shot_zone_context_json", "pace_context_json", "usage_context_json")


# --- context JSON (§A.8) ---------------------------------------------------------------------


def _num(value: float) -> float:
    """A JSON number: rounded half away from zero to 4 decimals (repr gives the shortest form)."""
    if not math.isfinite(value):
        raise ValueError(f"non-finite value {value!r} in a context JSON column")
    return round_half_away(value, 4)


def _dumps(obj: dict[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def fatigue_json(used: dict[str, Any], penalties: list[str], bonuses: list[str], final: int) -> str:
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
    kind = "favorable" if final > 2.0 else "unfavorable" if final < -2.0 else "neutral"
    return _dumps(
        {
            "player_primary_zone": primary,
            "zone_used": zone,
            "primary_zone_frequency": _num(usage),
            "opponent_weak_zone": weak_zone,
            "opponent_defense_vs_league": _num(dv),
            "mismatch_type": kind,
            "final_score": _num(final),
        }
    )


def pace_json(pace_differential: float, opponent_pace: float, final: float) -> str:
    """pace_context_json; the environment is read from the used pace differential."""
    env = "fast" if pace_differential > 2 else "slow" if pace_differential < -2 else "normal"
    return _dumps(
        {
            "pace_differential": _num(pace_differential),
            "opponent_pace_last_10": _num(opponent_pace),
            "league_avg_pace": LEAGUE_AVG_PACE,
            "pace_environment": env,
            "final_score": _num(final),
        }
    )


def usage_json(projected: float, baseline: float, stars_out: float, final: float) -> str:
    """usage_context_json; the trend is read from the unrounded differential p − b."""
    diff = projected - baseline
    trend = "spike" if diff > 2 else "drop" if diff < -2 else "stable"
    return _dumps(
        {
            "projected_usage_rate": _num(projected),
            "avg_usage_last_7": _num(baseline),
            "usage_differential": _num(diff),
            "star_teammates_out": int(stars_out),
            "usage_trend": trend,
            "final_score": _num(final),
        }
    )


def context_json_columns(
    data: pd.DataFrame,
    used: pd.DataFrame,
    penalties: np.ndarray,
    bonus: np.ndarray,
    fatigue: np.ndarray,
    zones: pd.Series,
    usage_rate: pd.Series,
    dv: pd.Series,
    stored: pd.DataFrame,
) -> dict[str, list[str]]:
    """The four context JSON columns of the output rows (a short per-row loop; `data` holds the
    joined shot_*/def_* upstream columns, `stored` the rounded zone/pace/usage scores)."""
    labels = [label for label, _ in FATIGUE_PENALTIES]
    shot_found, def_found = data["shot_found"].tolist(), data["def_found"].tolist()
    primary, weak = _strings(data["shot_primary_scoring_zone"]), _strings(data["def_weakest_zone"])
    zone_list, usage_list, dv_list = zones.tolist(), usage_rate.tolist(), dv.tolist()
    zone_final, pace_final, usage_final = stored["zone"].tolist(), stored["pace"].tolist(), stored["usage"].tolist()
    out: dict[str, list[str]] = {name: [] for name in JSON_COLUMNS}
    for i, u in enumerate(used.to_dict("records")):
        applied = [label for label, hit in zip(labels, penalties[i]) if hit]
        bonuses = [REST_BONUS[0]] if bonus[i] else []
        out["fatigue_context_json"].append(fatigue_json(u, applied, bonuses, int(fatigue[i])))
        out["shot_zone_context_json"].append(
            shot_zone_json(
                shot_found[i], def_found[i], primary[i], zone_list[i], usage_list[i], weak[i], dv_list[i], zone_final[i]
            )
        )
        out["pace_context_json"].append(pace_json(u["pace_differential"], u["opponent_pace_last_10"], pace_final[i]))
        out["usage_context_json"].append(
            usage_json(u["projected_usage_rate"], u["avg_usage_last_7"], u["star_teammates_out"], usage_final[i])
        )
    return out


def _strings(values: pd.Series) -> list[str | None]:
    """A string column as a list with every missing marker (None, NaN, NA) as None."""
    return [v if isinstance(v, str) else None for v in values.tolist()]
