"""Per-team columns (spec §4.2, §4.5, §5): opponent pace and defense, rest, completeness windows, absent stars."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from data_processors.precompute.conventions import completeness_pct_array, is_ready

from .context import DAY, appearances, dedup

STAR_MIN_GAMES = 5
STAR_MIN_POINTS = 18.0
STAR_MIN_MINUTES = 25.0
REPLACEMENT_USAGE = 20.0
MAX_REDISTRIBUTED = 50.0
MAX_PROJECTED_USAGE = 50.0
TEAM_WINDOW = 10

#: Completeness windows: name -> ("games", N) most recent team games, or ("days", K) games in [D-K, D-1].
WINDOWS = {"l5": ("games", 5), "l10": ("games", 10), "l7d": ("days", 7), "l14d": ("days", 14), "l30d": ("days", 30)}


def offense_pace(offense: pd.DataFrame, teams: Iterable[str]) -> pd.Series:
    """Mean pace over each team's 10 most recent in-season rows with pace (unrounded)."""
    rows = offense[offense["team_abbr"].isin(list(teams)).to_numpy() & offense["pace"].notna().to_numpy()]
    rows = dedup(rows, "team_abbr").sort_values(["team_abbr", "game_date"], ascending=[True, False], kind="mergesort")
    return rows.groupby("team_abbr", sort=False).head(TEAM_WINDOW).groupby("team_abbr")["pace"].mean()


def defense_window(defense: pd.DataFrame, teams: Iterable[str]) -> pd.DataFrame:
    """Per defending team over its 10 most recent in-season rows: mean rating and FT rate allowed."""
    rows = defense[defense["defending_team_abbr"].isin(list(teams)).to_numpy()]
    rows = dedup(rows, "defending_team_abbr")
    rows = rows.sort_values(["defending_team_abbr", "game_date"], ascending=[True, False], kind="mergesort")
    g = rows.groupby("defending_team_abbr", sort=False).head(TEAM_WINDOW).groupby("defending_team_abbr")
    fga, fta = g["opp_fg_attempts"].sum(), g["opp_ft_attempts"].sum()
    return pd.DataFrame({"def_rating": g["defensive_rating"].mean(), "ft_rate": (fta / fga).where(fga > 0)})


def completeness(tg: pd.DataFrame, season_rows: pd.DataFrame, teams: list[str], day: dt.date) -> pd.DataFrame:
    """The five windows over TG(T): expected, actual (games with a boxscore row of T), pct, complete.

    Counted on integer team codes with bincount (a groupby per window was most of the cost);
    count columns keep the dtypes the former left merge / reindex gave (int64, or float64 once a
    NULL was filled), since finalize hashes them.
    """
    index = pd.Index(teams, name="team")
    tg = tg[tg["team"].isin(teams)]
    n_teams, n = len(teams), len(tg)
    have = set(zip(season_rows["game_id"].tolist(), season_rows["team_abbr"].tolist()))
    tg_team, tg_sid = tg["team"].tolist(), tg["sid"].tolist()
    hit = np.fromiter(((s, t) in have for s, t in zip(tg_sid, tg_team)), dtype=bool, count=n)
    hit_float = n == 0 or not hit.all()  # the merge left NaN (then 0) somewhere: float64 hits
    codes = index.get_indexer(pd.Index(tg_team, dtype=object)) if n else np.zeros(0, dtype=np.intp)
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]]) if n else np.zeros(0, dtype=np.intp)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    dates = tg["game_date"].to_numpy(dtype="datetime64[ns]")
    cols: dict[str, Any] = {}
    ready = np.ones(n_teams, dtype=bool)
    complete_all = np.ones(n_teams, dtype=bool)
    for name, (kind, size) in WINDOWS.items():
        in_window = (rank < size) if kind == "games" else (dates >= np.datetime64(pd.Timestamp(day) - size * DAY, "ns"))
        counts = np.bincount(codes[in_window], minlength=n_teams)
        hits = np.bincount(codes[in_window & hit], minlength=n_teams)
        all_there = bool((counts > 0).all())
        expected = counts.astype(np.int64) if all_there else counts.astype(np.float64)
        actual = hits.astype(np.float64 if hit_float or not all_there else np.int64)
        pct = completeness_pct_array(actual, expected)
        is_complete = actual >= expected
        cols[f"{name}_completeness_pct"] = pct
        cols[f"{name}_is_complete"] = is_complete
        ready &= np.array([bool(is_ready(p)) for p in pct.tolist()], dtype=bool)
        complete_all &= is_complete
        if name == "l30d":
            cols["expected_games_count"], cols["actual_games_count"] = expected, actual
            cols["missing_games_count"] = expected - actual
            cols["completeness_percentage"] = pct
    cols["all_windows_complete"] = complete_all
    cols["is_production_ready"] = ready
    windows = [f"{name}_{part}" for name in WINDOWS for part in ("completeness_pct", "is_complete")]
    names = [*windows, "expected_games_count", "actual_games_count", "missing_games_count", "completeness_percentage", "all_windows_complete", "is_production_ready"]
    return pd.DataFrame({c: cols[c] for c in names}, index=index)


def absent_stars(season_rows: pd.DataFrame, tg: pd.DataFrame, teams: list[str]) -> tuple[pd.DataFrame, pd.Series]:
    """Stars of each team who missed its latest game, and whether that game has boxscore rows of the team.

    Returns:
        (out_stars with columns team, player_lookup, usg, mpg; has_data per team: TG(T) not empty and
        player_game_summary holds a row of T in TG(T)₀).
    """
    index = pd.Index(teams, name="team")
    last_game = tg.drop_duplicates("team").set_index("team")["sid"].reindex(index)
    rows_last = season_rows[season_rows["game_id"].isin(last_game.dropna().tolist())]
    present = set(zip(rows_last["game_id"], rows_last["team_abbr"]))
    has_data = pd.Series([isinstance(s, str) and (s, t) in present for t, s in zip(index, last_game)], index=index)

    apps = appearances(season_rows[_with_latest_team(season_rows, teams)])
    stats = apps.groupby(["player_lookup", "team_abbr"]).agg(
        n=("game_date", "size"), pts=("points", "mean"), mpg=("minutes_played", "mean"), usg=("usage_rate", "mean")
    ).reset_index()
    stars = stats[(stats["n"] >= STAR_MIN_GAMES) & (stats["pts"] >= STAR_MIN_POINTS) & (stats["mpg"] >= STAR_MIN_MINUTES)]
    stars = stars.assign(last_sid=stars["team_abbr"].map(last_game))
    last_apps = apps[apps["game_id"].isin(last_game.dropna().tolist()).to_numpy()]
    played = set(zip(last_apps["player_lookup"], last_apps["game_id"], last_apps["team_abbr"]))
    out = [
        isinstance(sid, str) and (p, sid, t) not in played
        for p, t, sid in zip(stars["player_lookup"], stars["team_abbr"], stars["last_sid"])
    ]
    out_stars = stars[np.array(out, dtype=bool)].rename(columns={"team_abbr": "team"})
    return out_stars[["team", "player_lookup", "usg", "mpg"]], has_data


def _with_latest_team(rows: pd.DataFrame, teams: list[str]) -> np.ndarray:
    """Rows of players whose latest row (first of the max game_date) is with a team of `teams`, on that team.

    The mask form of idxmax per player + merge on (player, team): same rows, same order; works on
    integer codes (NULL player or team: code -1, never kept).
    """
    codes, _ = pd.factorize(rows["player_lookup"].to_numpy(dtype=object))
    team_codes, team_names = pd.factorize(rows["team_abbr"].to_numpy(dtype=object))
    if not len(codes) or codes.max() < 0 or not len(team_names):
        return np.zeros(len(codes), dtype=bool)
    stamps = rows["game_date"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    big = np.iinfo(np.int64)
    newest = np.where(stamps == big.min, big.max, -stamps)  # game_date DESC, NaT last (idxmax skips NaT)
    order = np.lexsort((np.arange(len(codes)), newest, codes))
    ordered = codes[order]
    first = order[np.r_[True, ordered[1:] != ordered[:-1]] & (ordered >= 0)]
    latest = np.full(codes.max() + 1, -1, dtype=np.int64)
    latest[codes[first]] = team_codes[first]
    wanted = set(teams)
    team_ok = np.array([isinstance(t, str) and t in wanted for t in team_names], dtype=bool)
    own = latest[np.maximum(codes, 0)]
    return (codes >= 0) & (own >= 0) & (team_codes == own) & team_ok[np.maximum(team_codes, 0)]


def star_columns(placed: pd.DataFrame, out_stars: pd.DataFrame, has_data: pd.Series, base_usage: pd.Series) -> pd.DataFrame:
    """star_teammates_out and projected_usage_rate per placed key (teammates only: p itself never counts)."""
    counts, weights = [], []
    by_team: dict[str, list[tuple[str, float]]] = {}
    for team, player, usg, mpg in zip(out_stars["team"], out_stars["player_lookup"], out_stars["usg"], out_stars["mpg"]):
        w = max(0.0, usg - REPLACEMENT_USAGE) * mpg / 48 if pd.notna(usg) and pd.notna(mpg) else 0.0
        by_team.setdefault(team, []).append((player, w))
    for key, team in zip(placed.index, placed["team"]):
        if not bool(has_data.get(team, False)):
            counts.append(np.nan)
            weights.append(0.0)
            continue
        mates = [w for p, w in by_team.get(team, []) if p != key]
        counts.append(float(len(mates)))
        weights.append(sum(mates))
    w = pd.Series(weights, index=placed.index).clip(upper=MAX_REDISTRIBUTED)
    projected = (base_usage * 100 / (100 - w)).clip(upper=MAX_PROJECTED_USAGE)
    return pd.DataFrame({"star_teammates_out": counts, "projected_usage_rate": projected}, index=placed.index)
