"""Per-team columns (spec §4.2, §4.5, §5): opponent pace and defense, rest, completeness windows, absent stars."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import pandas as pd

from data_processors.precompute.conventions import completeness_pct, is_ready

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
    """The five windows over TG(T): expected, actual (games with a boxscore row of T), pct, complete."""
    tg = tg[tg["team"].isin(teams)]
    have = season_rows[["game_id", "team_abbr"]].drop_duplicates().rename(columns={"game_id": "sid", "team_abbr": "team"})
    tg = tg.merge(have.assign(hit=1), on=["sid", "team"], how="left")
    tg["hit"] = tg["hit"].fillna(0)
    rank = tg.groupby("team", sort=False).cumcount()
    out = pd.DataFrame(index=pd.Index(teams, name="team"))
    ready = pd.Series(True, index=out.index)
    complete_all = pd.Series(True, index=out.index)
    for name, (kind, size) in WINDOWS.items():
        in_window = (rank < size) if kind == "games" else (tg["game_date"] >= pd.Timestamp(day) - size * DAY)
        g = tg[in_window.to_numpy()].groupby("team")
        expected = g.size().reindex(out.index).fillna(0)
        actual = g["hit"].sum().reindex(out.index).fillna(0)
        pct = pd.Series([completeness_pct(a, e) for a, e in zip(actual, expected)], index=out.index, dtype="float64")
        out[f"{name}_completeness_pct"] = pct
        out[f"{name}_is_complete"] = actual >= expected
        ready &= pct.map(is_ready).astype(bool)
        complete_all &= out[f"{name}_is_complete"]
        if name == "l30d":
            out["expected_games_count"], out["actual_games_count"] = expected, actual
            out["missing_games_count"] = expected - actual
            out["completeness_percentage"] = pct
    out["all_windows_complete"] = complete_all
    out["is_production_ready"] = ready
    return out


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

    latest_idx = season_rows.groupby("player_lookup")["game_date"].idxmax()
    latest_team = season_rows.loc[latest_idx, ["player_lookup", "team_abbr"]]
    candidates = latest_team[latest_team["team_abbr"].isin(teams)]
    apps = appearances(season_rows.merge(candidates, on=["player_lookup", "team_abbr"]))
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
