"""Team-level and reference sample tables derived from the player rows and the game plan (pure)."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from nba_backfill.dates import season_label
from nba_backfill.sample_data.league import C_SCHED_ROWS, stream
from nba_backfill.sample_data.season import TEAM_ID, TEAM_NAME, processed

_SUMS = ("points", "fg_attempts", "fg_makes", "three_pt_attempts", "three_pt_makes", "ft_attempts", "ft_makes",
         "offensive_rebounds", "defensive_rebounds", "assists", "turnovers", "personal_fouls", "paint_attempts",
         "paint_makes", "mid_range_attempts", "mid_range_makes", "paint_blocks", "mid_range_blocks",
         "three_pt_blocks", "steals", "minutes_played")


def team_offense(g: pd.DataFrame, pgs: pd.DataFrame) -> pd.DataFrame:
    """team_offense_game_summary: totals = sums of the player rows (B.7)."""
    act = pgs[pgs["is_active"]]
    t = act.groupby(["gi", "team_abbr"], sort=True)[list(_SUMS)].sum().reset_index()
    t = t.merge(g[["gi", "game_id", "nba_id", "_day", "home", "away", "ot"]], on="gi")
    t["opponent_team_abbr"] = np.where(t["team_abbr"] == t["home"], t["away"], t["home"])
    t["home_game"] = t["team_abbr"] == t["home"]
    opp = t.set_index(["gi", "team_abbr"])
    key = pd.MultiIndex.from_arrays([t["gi"], t["opponent_team_abbr"]])
    t["_opp_points"] = opp["points"].reindex(key).to_numpy()
    t["possessions"] = np.round(t["fg_attempts"] - t["offensive_rebounds"] + t["turnovers"] + 0.44 * t["ft_attempts"]).astype(int)
    t["_opp_poss"] = t.set_index(["gi", "team_abbr"])["possessions"].reindex(key).to_numpy()
    minutes = t["minutes_played"].round(1)
    t["pace"] = 48 * ((t["possessions"] + t["_opp_poss"]) / 2) / (minutes / 5)
    t["offensive_rating"] = 100 * t["points"] / t["possessions"]
    t["ts_pct"] = t["points"] / (2 * (t["fg_attempts"] + 0.44 * t["ft_attempts"]))
    t["margin_of_victory"] = (t["points"] - t["_opp_points"]).astype(int)
    t["win_flag"] = t["margin_of_victory"] > 0
    t["overtime_periods"] = t["ot"]
    t["points_scored"] = t["points"]
    t["rebounds"] = t["offensive_rebounds"] + t["defensive_rebounds"]
    t["team_paint_attempts"], t["team_paint_makes"] = t["paint_attempts"], t["paint_makes"]
    t["team_mid_range_attempts"], t["team_mid_range_makes"] = t["mid_range_attempts"], t["mid_range_makes"]
    t["points_in_paint_scored"] = 2 * t["paint_makes"]
    t["nba_game_id"] = t["nba_id"]
    t["season_year"] = int(pgs["season_year"].iloc[0])
    t["game_date"] = t["_day"]
    t["shot_zones_available"] = True
    t["shot_zones_source"] = "nbac_pbp"
    t["primary_source_used"] = "nbac_team_boxscore"
    t["data_quality_tier"] = "high"
    t["processed_with_issues"] = False
    t["processed_at"] = processed(t["game_date"])
    t["created_at"] = t["processed_at"]
    return t


def team_defense(off: pd.DataFrame) -> pd.DataFrame:
    """team_defense_game_summary: the mirror of the opponent's offense row plus own blocks/steals."""
    o = off.set_index(["gi", "team_abbr"])
    d = off[["gi", "game_id", "game_date", "team_abbr", "opponent_team_abbr", "home_game", "win_flag",
             "margin_of_victory", "overtime_periods", "paint_blocks", "mid_range_blocks", "three_pt_blocks", "steals",
             "defensive_rebounds", "personal_fouls", "pace", "processed_at"]].copy()
    key = pd.MultiIndex.from_arrays([d["gi"], d["opponent_team_abbr"]])
    mirror = o.reindex(key)
    d = d.rename(columns={"team_abbr": "defending_team_abbr", "paint_blocks": "blocks_paint",
                          "mid_range_blocks": "blocks_mid_range", "three_pt_blocks": "blocks_three_pt",
                          "personal_fouls": "fouls_committed", "pace": "opponent_pace"})
    for col in ("fg_attempts", "fg_makes", "three_pt_attempts", "three_pt_makes", "ft_attempts", "ft_makes",
                "rebounds", "assists", "paint_attempts", "paint_makes", "mid_range_attempts", "mid_range_makes"):
        d[f"opp_{col}"] = mirror[col].to_numpy()
    d["points_allowed"] = mirror["points"].to_numpy()
    d["turnovers_forced"] = mirror["turnovers"].to_numpy()
    d["points_in_paint_allowed"] = 2 * d["opp_paint_makes"]
    d["mid_range_points_allowed"] = 2 * d["opp_mid_range_makes"]
    d["three_pt_points_allowed"] = 3 * d["opp_three_pt_makes"]
    d["defensive_rating"] = mirror["offensive_rating"].to_numpy()
    d["opponent_ts_pct"] = mirror["ts_pct"].to_numpy()
    d["season_year"] = off["season_year"].to_numpy()
    d["data_quality_tier"] = "high"
    d["primary_source_used"] = "nbac_team_boxscore"
    d["processed_with_issues"] = False
    d["created_at"] = d["processed_at"]
    return d


def schedule(g: pd.DataFrame, off: pd.DataFrame, season: int, seed: int) -> pd.DataFrame:
    """nbac_schedule: one final row per game, plus stale 'Scheduled' and (2021-22) 'PPD' rows."""
    pts = off.set_index(["gi", "team_abbr"])["points"]
    s = g[g["gi"].isin(off["gi"])].copy()
    s["home_team_score"] = pts.reindex(pd.MultiIndex.from_arrays([s["gi"], s["home"]])).to_numpy().astype(int)
    s["away_team_score"] = pts.reindex(pd.MultiIndex.from_arrays([s["gi"], s["away"]])).to_numpy().astype(int)
    s["winning_team_tricode"] = np.where(s["home_team_score"] > s["away_team_score"], s["home"], s["away"])
    s["game_status"], s["game_status_text"] = 3, "Final"
    s["processed_at"] = processed(s["_day"])
    rng = stream(seed, season, C_SCHED_ROWS)
    n = len(g)
    u = rng.random(n)[s["gi"].to_numpy()]  # drawn over the full plan: prefix consistent
    stale = s[u < 0.005].copy()
    stale["game_status"], stale["game_status_text"] = 1, "Scheduled"
    stale[["home_team_score", "away_team_score"]] = 0
    stale["winning_team_tricode"] = None
    stale["processed_at"] = processed(stale["_day"]) - pd.Timedelta(days=2)
    parts = [s, stale]
    if season == 2021:
        opening = g["_day"].min()
        regular = np.flatnonzero((g["kind"] == "R").to_numpy() & (g["_day"] > opening + dt.timedelta(days=10)).to_numpy())
        chosen = np.sort(rng.choice(regular, 30, replace=False))
        back = rng.integers(3, 40, 30)
        ppd = s[s["gi"].isin(chosen)].copy()
        shift = pd.Series(back, index=chosen).reindex(ppd["gi"]).to_numpy()
        ppd["_day"] = [max(opening, d - dt.timedelta(days=int(b))) for d, b in zip(ppd["_day"], shift)]
        ppd["game_status"], ppd["game_status_text"] = 1, "PPD"
        ppd[["home_team_score", "away_team_score"]] = 0
        ppd["winning_team_tricode"] = None
        ppd["processed_at"] = processed(ppd["_day"]) - pd.Timedelta(days=1)
        parts.append(ppd)
    out = pd.concat(parts, ignore_index=True)
    out["home_team_score"] = out["home_team_score"].where(out["game_status"] == 3, None)
    out["away_team_score"] = out["away_team_score"].where(out["game_status"] == 3, None)
    out["game_id"] = out["nba_id"]
    out["game_date"] = out["_day"]
    out["game_code"] = [f"{d:%Y%m%d}/{a}{h}" for d, a, h in zip(out["_day"], out["away"], out["home"])]
    out["season"], out["season_nba_format"], out["season_year"] = str(season), season_label(season), season
    out["game_date_est"] = out["tip_utc"]
    out["home_team_id"], out["away_team_id"] = out["home"].map(TEAM_ID), out["away"].map(TEAM_ID)
    out["home_team_name"], out["away_team_name"] = out["home"].map(TEAM_NAME), out["away"].map(TEAM_NAME)
    out["home_team_tricode"], out["away_team_tricode"] = out["home"], out["away"]
    out["is_regular_season"] = out["kind"] == "R"
    out["is_playoffs"] = out["kind"] != "R"
    out["is_all_star"] = False
    out["is_emirates_cup"] = False
    out["playoff_round"] = out["round"]
    out["is_primetime"] = (out["tip"] >= 20.0) & (out["gi"] % 7 == 0)
    out["day_of_week"] = [d.strftime("%A") for d in out["_day"]]
    out["is_weekend"] = [d.weekday() >= 5 for d in out["_day"]]
    out["is_christmas"] = [(d.month, d.day) == (12, 25) for d in out["_day"]]
    out["data_source"] = "api_stats"
    out["source_file_path"] = [f"nba-com/schedule/{season}-{(season + 1) % 100:02d}/{d:%Y%m%d}/schedule.json"
                               for d in out["_day"]]
    out["created_at"] = out["processed_at"]
    out["scrape_timestamp"] = out["processed_at"]
    return out.sort_values(["game_date", "game_id", "game_status"], kind="stable").reset_index(drop=True)
