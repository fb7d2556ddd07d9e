"""The four context JSON columns (spec composite §A.8) for every row at once.

Text-identical to the one-row functions of `factors` (the reference form, still used when a
number is not finite so that the same error is raised): numbers are rounded as arrays and
written with repr, which is how json writes a float; labels are memoized per pattern.
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from data_processors.precompute.player_composite_factors.factors import (
    FATIGUE_PENALTIES,
    JSON_COLUMNS,
    LEAGUE_AVG_PACE,
    REST_BONUS,
    bitmask,
    bits,
    fatigue_json,
    pace_json,
    shot_zone_json,
    usage_json,
)
from nba_backfill.values import round_half_away_array


#: The integer fields of the context JSON (written with int(), which truncates).
JSON_INTEGERS = (
    "days_rest", "games_last_7", "minutes_last_7", "back_to_backs_last_14", "player_age", "star_teammates_out",
)


class JsonInputs(NamedTuple):
    """What the four context JSON columns are written from, one value per context row.

    `data` holds shot_found, def_found, shot_primary_scoring_zone and def_weakest_zone; `used`
    the factor inputs; `stored` the rounded zone/pace/usage scores."""

    data: Mapping[str, Any]
    used: Mapping[str, np.ndarray]
    penalties: np.ndarray
    bonus: np.ndarray
    fatigue: np.ndarray
    zones: np.ndarray
    usage_rate: np.ndarray
    dv: np.ndarray
    stored: Mapping[str, np.ndarray]


def context_json_columns(inputs: JsonInputs) -> dict[str, list[str]]:
    """The four context JSON columns, text-identical to the one-row functions of `factors`.

    Numbers are rounded as arrays and written with repr (what json writes for a float); anything
    non-finite takes the one-row path, which raises as before.
    """
    data, used, penalties, bonus, fatigue, zones, usage_rate, dv, stored = inputs
    with np.errstate(over="ignore"):  # an overflow is caught below, as a non-finite number
        diff = used["projected_usage_rate"] - used["avg_usage_last_7"]
    numbers = {
        "avg_minutes": used["avg_minutes_pg_last_7"], "zone_usage": usage_rate, "dv": dv, "zone": stored["zone"],
        "pace_diff": used["pace_differential"], "opp_pace": used["opponent_pace_last_10"], "pace": stored["pace"],
        "projected": used["projected_usage_rate"], "baseline": used["avg_usage_last_7"], "diff": diff,
        "usage": stored["usage"],
    }  # fmt: skip
    floats = np.vstack([np.asarray(v, dtype="float64") for v in numbers.values()])
    whole = np.vstack([np.asarray(used[k], dtype="float64") for k in JSON_INTEGERS])
    if not (np.isfinite(floats).all() and np.isfinite(whole).all()):
        return _json_rows(inputs)
    r = dict(zip(numbers, round_half_away_array(floats.ravel(), 4).reshape(floats.shape).tolist()))
    ints = dict(zip(JSON_INTEGERS, _truncated(whole)))
    return {
        "fatigue_context_json": _fatigue_texts(used["back_to_back"], penalties, bonus, fatigue, r, ints),
        "shot_zone_context_json": _shot_zone_texts(data, zones, r, np.asarray(stored["zone"])),
        "pace_context_json": _pace_texts(used["pace_differential"], r),
        "usage_context_json": _usage_texts(diff, r, ints["star_teammates_out"]),
    }


def _truncated(values: np.ndarray) -> list[list[int]]:
    """int(x) of every finite float (truncation toward zero): through int64 when every value fits."""
    if (np.abs(values) < 2.0**62).all():
        return np.trunc(values).astype("int64").tolist()
    return [[int(x) for x in row] for row in values.tolist()]


_BOOL = {True: "true", False: "false"}


def _json_list(items: Sequence[str]) -> str:
    return json.dumps(list(items), separators=(",", ":"), ensure_ascii=False)


def _fatigue_texts(
    b2b: np.ndarray, penalties: np.ndarray, bonus: np.ndarray, fatigue: np.ndarray,
    r: Mapping[str, list], ints: Mapping[str, list],
) -> list[str]:  # fmt: skip
    labels = [label for label, _ in FATIGUE_PENALTIES]
    patterns = bitmask(penalties).tolist()
    applied = {k: _json_list([lb for lb, hit in zip(labels, bits(k, len(labels))) if hit]) for k in set(patterns)}
    pen = [applied[k] for k in patterns]
    with_bonus = _json_list([REST_BONUS[0]])
    bon = [with_bonus if b else "[]" for b in bonus.tolist()]
    return [
        f'{{"days_rest":{d},"back_to_back":{_BOOL[b]},"games_last_7":{g},"minutes_last_7":{m},'
        f'"avg_minutes_pg_last_7":{a!r},"back_to_backs_last_14":{b14},"player_age":{age},'
        f'"penalties_applied":{p},"bonuses_applied":{bo},"final_score":{fs}}}'
        for d, b, g, m, a, b14, age, p, bo, fs in zip(
            ints["days_rest"], np.asarray(b2b, dtype=bool).tolist(), ints["games_last_7"], ints["minutes_last_7"],
            r["avg_minutes"], ints["back_to_backs_last_14"], ints["player_age"], pen, bon, fatigue.tolist(),
        )
    ]  # fmt: skip


def _shot_zone_texts(data: Mapping[str, Any], zones: np.ndarray, r: Mapping[str, list], final: np.ndarray) -> list[str]:
    memo: dict[Any, str] = {}

    def text(v: Any) -> str:  # a JSON string, or null for anything that is not a str
        v = v if isinstance(v, str) else None
        if v not in memo:
            memo[v] = json.dumps(v, ensure_ascii=False)
        return memo[v]

    kinds = np.select([final > 2.0, final < -2.0], ["favorable", "unfavorable"], "neutral").tolist()
    rows = zip(
        np.asarray(data["shot_found"], dtype=bool).tolist(), np.asarray(data["def_found"], dtype=bool).tolist(),
        np.asarray(data["shot_primary_scoring_zone"], dtype=object).tolist(), zones.tolist(), r["zone_usage"],
        np.asarray(data["def_weakest_zone"], dtype=object).tolist(), r["dv"], kinds, r["zone"],
    )  # fmt: skip
    return [
        f'{{"player_primary_zone":{text(p)},"zone_used":{text(z)},"primary_zone_frequency":{u!r},'
        f'"opponent_weak_zone":{text(w)},"opponent_defense_vs_league":{d!r},"mismatch_type":"{k}",'
        f'"final_score":{fs!r}}}'
        if s and df else
        f'{{"missing_data":true,"player_shot_zone_found":{_BOOL[s]},"opponent_defense_found":{_BOOL[df]}}}'
        for s, df, p, z, u, w, d, k, fs in rows
    ]  # fmt: skip


def _pace_texts(pace_differential: np.ndarray, r: Mapping[str, list]) -> list[str]:
    env = np.select([pace_differential > 2, pace_differential < -2], ["fast", "slow"], "normal").tolist()
    return [
        f'{{"pace_differential":{p!r},"opponent_pace_last_10":{o!r},"league_avg_pace":{LEAGUE_AVG_PACE!r},'
        f'"pace_environment":"{e}","final_score":{fs!r}}}'
        for p, o, e, fs in zip(r["pace_diff"], r["opp_pace"], env, r["pace"])
    ]


def _usage_texts(diff: np.ndarray, r: Mapping[str, list], stars: list[int]) -> list[str]:
    trend = np.select([diff > 2, diff < -2], ["spike", "drop"], "stable").tolist()
    return [
        f'{{"projected_usage_rate":{p!r},"avg_usage_last_7":{b!r},"usage_differential":{d!r},'
        f'"star_teammates_out":{s},"usage_trend":"{t}","final_score":{fs!r}}}'
        for p, b, d, s, t, fs in zip(r["projected"], r["baseline"], r["diff"], stars, trend, r["usage"])
    ]


def _json_rows(inputs: JsonInputs) -> dict[str, list[str]]:
    """The context JSON row by row through the one-row functions (the reference; it raises on
    a non-finite number, which the caller's finite check of the inputs makes rare)."""
    data, used, penalties, bonus, fatigue, zones, usage_rate, dv, stored = inputs
    labels = [label for label, _ in FATIGUE_PENALTIES]
    cols = {k: np.asarray(v).tolist() for k, v in used.items()}
    shot_found, def_found = np.asarray(data["shot_found"]).tolist(), np.asarray(data["def_found"]).tolist()
    primary = [v if isinstance(v, str) else None for v in np.asarray(data["shot_primary_scoring_zone"], dtype=object)]
    weak = [v if isinstance(v, str) else None for v in np.asarray(data["def_weakest_zone"], dtype=object)]
    out: dict[str, list[str]] = {name: [] for name in JSON_COLUMNS}
    for i in range(len(fatigue)):
        u = {k: v[i] for k, v in cols.items()}
        applied = [label for label, hit in zip(labels, penalties[i]) if hit]
        bonuses = [REST_BONUS[0]] if bonus[i] else []
        out["fatigue_context_json"].append(fatigue_json(u, applied, bonuses, int(fatigue[i])))
        out["shot_zone_context_json"].append(shot_zone_json(
            shot_found[i], def_found[i], primary[i], zones[i], float(usage_rate[i]), weak[i], float(dv[i]),
            float(stored["zone"][i]),
        ))  # fmt: skip
        pace, usage = float(stored["pace"][i]), float(stored["usage"][i])
        out["pace_context_json"].append(pace_json(u["pace_differential"], u["opponent_pace_last_10"], pace))
        out["usage_context_json"].append(
            usage_json(u["projected_usage_rate"], u["avg_usage_last_7"], u["star_teammates_out"], usage)
        )
    return out
