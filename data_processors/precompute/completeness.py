"""Schedule-based completeness of an entity's Phase 3 rows (spec phase4-zone-analysis.md §1.8)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike
import pandas as pd

from nba_backfill.values import round_half_away, round_half_away_array


def completeness_pct(actual: float, expected: float) -> float:
    """100.0 when nothing was due, else min(100, actual/expected*100) rounded to 1 decimal."""
    if expected == 0:
        return 100.0
    return round_half_away(min(100.0, actual / expected * 100), 1)


def completeness_pct_array(actual: ArrayLike, expected: ArrayLike) -> np.ndarray:
    """completeness_pct element-wise (float64, bit-identical to the scalar rule)."""
    a = np.asarray(actual, dtype="float64")
    e = np.asarray(expected, dtype="float64")
    due = e != 0
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.minimum(100.0, np.where(due, a, 0.0) / np.where(due, e, 1.0) * 100)
    return np.where(due, round_half_away_array(ratio, 1), 100.0)


#: A completeness window: ("games", N) = the team's N most recent final-game dates before D;
#: ("days", K) = the team's final-game dates in [D - K, D - 1].
Window = tuple[str, int]


def completeness(
    entity_teams: pd.DataFrame,
    entity_dates: pd.DataFrame,
    team_dates: pd.DataFrame,
    *,
    day: dt.date,
    last_games: int | None = None,
    last_days: int | None = None,
) -> pd.DataFrame:
    """Schedule-based completeness per entity (spec §1.8).

    Args:
        entity_teams: columns `entity`, `team` (one row per entity).
        entity_dates: columns `entity`, `game_date`: dates on which the entity has an in-season row.
        team_dates: `team_final_dates` output.
        last_games / last_days: the window, N most recent team dates or dates in [D-K, D-1].

    Returns:
        Frame indexed by entity with expected, actual, missing, pct.
    """
    window: Window = ("games", last_games) if last_games is not None else ("days", int(last_days or 0))
    return completeness_windows(entity_teams, entity_dates, team_dates, day=day, windows={"w": window})["w"]


def completeness_windows(
    entity_teams: pd.DataFrame,
    entity_dates: pd.DataFrame,
    team_dates: pd.DataFrame,
    *,
    day: dt.date,
    windows: Mapping[str, Window],
) -> dict[str, pd.DataFrame]:
    """`completeness` for several windows at once, e.g. {"l5": ("games", 5), "l7d": ("days", 7)}.

    The (entity, team date, has row) pairs are built once with integer codes; each window is
    then a mask and a bincount. Returns one frame per window name, as `completeness` would.
    """
    tdate = team_dates["game_date"]
    tdates, edates = tdate.to_numpy(), entity_dates["game_date"].to_numpy()
    td_teams = _objects(team_dates["team"])
    if pd.isna(td_teams).any() or _has_null_dates(tdates) or _has_null_dates(edates):
        return {name: _completeness_merge(entity_teams, entity_dates, team_dates, day, w) for name, w in windows.items()}
    n_ent, n_td = len(entity_teams), len(team_dates)
    # team codes shared by entity_teams and team_dates (an entity without team matches nothing)
    teams, _ = pd.factorize(np.concatenate([_objects(entity_teams["team"]), td_teams]))
    ent_team, td_team = teams[:n_ent], teams[n_ent:]
    per_team = np.bincount(td_team, minlength=teams.max() + 1 if len(teams) else 0)
    by_team = np.argsort(td_team, kind="stable")  # team_dates rows grouped by team, order kept
    first = np.cumsum(per_team) - per_team
    rank = np.empty(n_td, dtype="int64")  # position of each team date within its team (head(n))
    rank[by_team] = np.arange(n_td) - np.repeat(first, per_team)
    has_team = ent_team >= 0
    reps = np.where(has_team, per_team[np.where(has_team, ent_team, 0)] if len(per_team) else 0, 0)
    pair_entity = np.repeat(np.arange(n_ent), reps)
    offset = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
    pair_td = by_team[np.repeat(first[np.where(has_team, ent_team, 0)] if len(first) else 0, reps) + offset]
    pair_date = tdates[pair_td]
    insides: dict[str, np.ndarray] = {}
    for name, (kind, size) in windows.items():
        if kind == "games":
            insides[name] = rank[pair_td] < size
        elif kind == "days":
            insides[name] = pair_date >= np.datetime64(pd.Timestamp(day - dt.timedelta(days=int(size))))
        else:
            raise ValueError(f"unknown completeness window kind {kind!r}")
    counted = np.logical_or.reduce(list(insides.values())) if insides else np.zeros(len(pair_td), dtype=bool)
    # does the entity have a row on that date? Only pairs some window counts need the answer, so
    # only entity rows on or after the earliest such date are coded (not the whole season).
    dated = entity_dates["entity"]
    if counted.any() and edates.dtype == tdates.dtype and edates.dtype.kind == "M":
        recent = edates >= pair_date[counted].min()
        if not recent.all():
            dated, edates = dated.array[recent], edates[recent]
    entities = entity_teams["entity"]
    ents = _entity_codes(entities, dated)
    dates, _ = pd.factorize(np.concatenate([tdates, edates]))
    n_dates = dates.max() + 1 if len(dates) else 1
    have = ents[n_ent:].astype("int64") * n_dates + dates[n_td:]
    wanted = ents[pair_entity[counted]].astype("int64") * n_dates + dates[pair_td[counted]]
    hit = np.zeros(len(pair_td), dtype=bool)
    hit[counted] = _member(wanted, have, (n_ent + 1) * n_dates)
    result: dict[str, pd.DataFrame] = {}
    for name, inside in insides.items():
        expected = _per_entity(ents[:n_ent], pair_entity, inside, n_ent)
        actual = _per_entity(ents[:n_ent], pair_entity, inside & hit, n_ent)
        result[name] = _completeness_frame(entities, expected, actual)
    return result


def _member(wanted: np.ndarray, have: np.ndarray, bound: int) -> np.ndarray:
    """np.isin(wanted, have) for (entity, date) codes below `bound`, by a lookup table when small.

    A negative code belongs to a NULL or unknown entity, which counts 0 whatever the answer.
    """
    if bound > 4 * (len(wanted) + len(have)) + 100_000:
        return np.isin(wanted, have)
    table = np.zeros(bound, dtype=bool)
    table[have[have >= 0]] = True
    return table[np.where(wanted >= 0, wanted, 0)] & (wanted >= 0)


def _has_null_dates(values: np.ndarray) -> bool:
    """NULL among dates: NaT of datetime64 values checked on numpy, anything else through pandas."""
    if values.dtype.kind == "M":
        return bool(np.isnat(values).any())
    return bool(pd.isna(values).any())


def _objects(values: pd.Series) -> np.ndarray:
    return values.to_numpy(dtype=object)


def _entity_codes(entities: pd.Series, dated: pd.Series | pd.api.extensions.ExtensionArray) -> np.ndarray:
    """Codes of `entities` (factorized; NULL -1) followed by codes of `dated` in that numbering.

    A dated entity absent from `entities` (or NULL) gets -1, which only ever meets NULL entities,
    and those count 0. Factorizing the long column on its own avoids converting text to objects.
    """
    dated_codes, dated_uniques = pd.factorize(dated)
    # one factorization of own values then the dated ones: own codes come first, unchanged
    both, _ = pd.factorize(np.concatenate([_objects(entities), np.asarray(dated_uniques, dtype=object)]))
    own = both[: len(entities)]
    n_own = own.max() + 1 if len(own) else 0
    mapping = np.where(both[len(entities) :] < n_own, both[len(entities) :], -1)
    mapped = np.where(dated_codes >= 0, mapping[dated_codes] if len(mapping) else -1, -1)
    return np.concatenate([own, mapped]).astype("intp")


def _per_entity(entity_codes: np.ndarray, pair_entity: np.ndarray, mask: np.ndarray, n_ent: int) -> np.ndarray:
    """Count of masked pairs per entity value (rows sharing an entity share its total; NULL -> 0)."""
    per_row = np.bincount(pair_entity[mask], minlength=n_ent)
    valid = entity_codes >= 0
    per_code = np.bincount(entity_codes[valid], weights=per_row[valid], minlength=entity_codes.max() + 1 if n_ent else 0)
    return np.where(valid, per_code[np.where(valid, entity_codes, 0)] if len(per_code) else 0, 0).astype("int64")


def _completeness_frame(entities: pd.Series, expected: np.ndarray, actual: np.ndarray) -> pd.DataFrame:
    """One constructor call from one dict (adding columns one by one costs more than the counting)."""
    pct = completeness_pct_array(actual, expected) if len(expected) else np.zeros(0)
    columns = {"expected": expected, "actual": actual, "missing": expected - actual, "pct": pct}
    return pd.DataFrame(columns, index=pd.Index(entities), copy=False)


def _completeness_merge(
    entity_teams: pd.DataFrame, entity_dates: pd.DataFrame, team_dates: pd.DataFrame, day: dt.date, window: Window
) -> pd.DataFrame:
    """The merge-based reference, for inputs with NULL teams or dates (pandas joins NULL keys)."""
    kind, size = window
    if kind == "games":
        window_dates = team_dates.groupby("team", sort=False).head(size)
    else:
        lo = pd.Timestamp(day - dt.timedelta(days=int(size)))
        window_dates = team_dates[team_dates["game_date"] >= lo]
    wanted = entity_teams[["entity", "team"]].merge(window_dates, on="team", how="left")
    have = entity_dates[["entity", "game_date"]].drop_duplicates().assign(_hit=1)
    joined = wanted.merge(have, on=["entity", "game_date"], how="left")
    grouped = joined.groupby("entity", sort=False)
    out = pd.DataFrame(
        {
            "expected": grouped["game_date"].count().astype("int64"),
            "actual": grouped["_hit"].sum().astype("int64"),
        }
    )
    out = out.reindex(entity_teams["entity"]).fillna(0).astype("int64")
    out["missing"] = out["expected"] - out["actual"]
    out["pct"] = [completeness_pct(a, e) for a, e in zip(out["actual"], out["expected"])]
    return out
