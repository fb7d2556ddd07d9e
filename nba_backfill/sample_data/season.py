"""One season's sample tables as frames: box scores, team summaries, schedule, context, props (pure)."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from nba_backfill.sample_data.boxscores import Game
from nba_backfill.sample_data.calendar import TEAMS, TRICODES, season_calendar
from nba_backfill.sample_data.league import C_BP, C_ODDS, League, stream, strip_accents
from nba_backfill.sample_data.props import DayRng, bettingpros_rows, bp_team_codes, half_line, odds_api_rows, utc

ET = ZoneInfo("America/New_York")
TEAM_ID = {t[0]: t[1] for t in TEAMS}
TEAM_NAME = {t[0]: t[3] for t in TEAMS}
_BP_PER_TEAM = {2021: (3, 4, 0.25), 2022: (4, 5, 0.75), 2023: (6, 6, 0.0), 2024: (6, 6, 0.0)}


def processed(days: pd.Series) -> pd.Series:
    """processed_at = game date + 1 day, 08:00 UTC (never the wall clock)."""
    return pd.to_datetime(days).dt.tz_localize("UTC") + pd.Timedelta(days=1, hours=8)


def game_frame(games: list[Game]) -> pd.DataFrame:
    g = pd.DataFrame({
        "gi": np.arange(len(games)), "_day": [x.day for x in games], "nba_id": [x.nba_id for x in games],
        "away": [x.away for x in games], "home": [x.home for x in games], "kind": [x.kind for x in games],
        "round": [x.playoff_round for x in games], "ot": [x.ot for x in games], "tip": [x.tip for x in games],
    })
    g["game_id"] = [x.game_id for x in games]
    g["tip_utc"] = [utc(x.day, x.tip, ET) for x in games]
    return g


def player_rows(league: League, season: int, g: pd.DataFrame, cols: dict[str, np.ndarray]) -> pd.DataFrame:
    """player_game_summary rows (contract columns plus internal `_` columns)."""
    p = league.players
    df = pd.DataFrame(cols)
    pid = df["pid"].to_numpy()
    keys = np.array(p.key, dtype=object)
    gi = df["gi"].to_numpy()
    df["player_lookup"] = keys[pid]
    df["universal_player_id"] = df["player_lookup"] + "_001"
    df["player_full_name"] = np.array(p.name, dtype=object)[pid]
    df["game_id"] = g["game_id"].to_numpy()[gi]
    df["game_date"] = g["_day"].to_numpy()[gi]
    codes = np.array(TRICODES, dtype=object)
    df["team_abbr"] = codes[df["team"].to_numpy()]
    df["opponent_team_abbr"] = codes[df["opp"].to_numpy()]
    df["season_year"] = season
    df["starter_flag"] = df["starter"]
    df["is_active"] = df["active"]
    df["player_status"] = np.where(df["active"], "active", "dnp")
    team_pts = df.groupby(["gi", "team"])["points"].transform("sum")
    df["win_flag"] = team_pts.to_numpy() > (df.groupby("gi")["points"].transform("sum") - team_pts).to_numpy()
    df["data_quality_tier"] = "high"
    df["primary_source_used"] = "nbac_gamebook"
    df["shot_zones_estimated"] = False
    df["processed_with_issues"] = False
    df["processed_at"] = processed(df["game_date"])
    df["created_at"] = df["processed_at"]
    return df


def candidates(league: League, season: int, seed: int, g: pd.DataFrame, pgs: pd.DataFrame) -> pd.DataFrame:
    """Players books price, per game: the expected rotation, with latent means and source flags."""
    rng = DayRng(seed, season, C_BP * 10 + 1)
    c = pgs[pgs["active"] | pgs["scratch"]][["gi", "team", "opp", "pid", "exp_min", "exp_use", "starter"]].copy()
    c["_ord"] = [d.toordinal() for d in g["_day"].to_numpy()[c["gi"].to_numpy()]]
    w = c["exp_min"] * c["exp_use"]
    team_pts = 110.0 + 1.6 * (season - 2021)
    c["_latent"] = (w / w.groupby([c["gi"], c["team"]]).transform("sum") * team_pts).to_numpy() + rng.normal(c["_ord"].to_numpy(), 1.5)
    c["_line"] = half_line(c["_latent"].to_numpy() + rng.normal(c["_ord"].to_numpy(), 1.5), rng, c["_ord"].to_numpy())
    c = c.sort_values(["gi", "team", "_latent", "pid"], ascending=[True, True, False, True], kind="stable")
    rank = c.groupby(["gi", "team"]).cumcount().to_numpy()
    lo, hi, share = _BP_PER_TEAM[season]
    team_first = rank == 0
    k_team = np.where(rng.random(c["_ord"].to_numpy()[team_first]) < share, hi, lo)
    k = k_team[np.cumsum(team_first) - 1]
    c["_bp"] = rank < k
    c["_top"] = rank == 0
    c = c.reset_index(drop=True)
    # ~1 BettingPros-only player per game on Odds API dates
    bp_idx = np.flatnonzero(c["_bp"].to_numpy())
    pick = pd.Series(rng.random(c["_ord"].to_numpy()[bp_idx]), index=c["gi"].to_numpy()[bp_idx])
    only_bp = bp_idx[(pick.groupby(level=0).transform("max") == pick).to_numpy()]
    c["_odds"] = True
    c.loc[only_bp, "_odds"] = False
    return _decorate(league, season, seed, g, c)


def _decorate(league: League, season: int, seed: int, g: pd.DataFrame, c: pd.DataFrame) -> pd.DataFrame:
    p, sl = league.players, league.seasons[season]
    rng = DayRng(seed, season, C_BP * 10 + 2)
    gi, pid = c["gi"].to_numpy(), c["pid"].to_numpy()
    for col, src in (("_day", "_day"), ("game_id", "game_id"), ("_home", "home"), ("_away", "away"), ("_tip_utc", "tip_utc")):
        c[col] = g[src].to_numpy()[gi]
    c["_event"] = season * 100000 + gi + 1
    c["_exp_min"] = c["exp_min"]
    c["_pid"], c["_gi"] = pid, gi
    names = np.array(p.name, dtype=object)
    c["_name"] = names[pid]
    c["_plain_name"] = [strip_accents(x) for x in c["_name"]]
    c["_odds_plain"] = np.array(p.odds_plain)[pid]
    c["_key"] = np.array(p.key, dtype=object)[pid]
    c["_bp_key"] = np.array(p.bp_key, dtype=object)[pid]
    rates = np.array(p.rates)[pid]
    c["_reb"], c["_ast"], c["_stl"], c["_blk"] = rates[:, 2], rates[:, 3], rates[:, 4], rates[:, 5]
    c["_position"] = np.array(["G", "F", "C"], dtype=object)[np.array(p.kind)[pid]]
    c["_zone"] = 0
    later_flag = {q: bool(stream(seed, season, C_BP, 3, q).random() < 0.3) for q in sorted(sl.traded)}
    later = np.array([sl.traded[q][1] if later_flag.get(q) and d < sl.traded[q][0] else ""
                      for q, d in zip(pid, c["_day"])], dtype=object)
    team = np.array(TRICODES, dtype=object)[c["team"].to_numpy()]
    c["_bp_team"] = bp_team_codes(team, later, c["_ord"].to_numpy(), rng)
    return c


def all_star_candidates(league: League, season: int, seed: int) -> pd.DataFrame:
    """~10 players on the Friday, ~20 on the Sunday; one bp_event_id per All-Star game."""
    cal, sl = season_calendar(season), league.seasons[season]
    rng = stream(seed, season, C_BP, 4)
    rows = []
    for j, (day, n_games) in enumerate(cal.all_star):
        on = sorted({s.pid: s.team for s in sl.stints if s.start <= day <= s.end}.items())
        ranked = sorted(on, key=lambda x: (-sl.talent[x[0]], x[0]))
        chosen = ranked[40:50] if j == 0 else ranked[:20]  # young players Friday, stars Sunday
        for i, (pid, team) in enumerate(chosen):
            rows.append({"gi": 90000 + 10 * j + i % n_games, "team": TRICODES.index(team), "opp": 0, "pid": pid,
                         "exp_min": 20.0, "exp_use": 1.0, "starter": True, "_day": day, "_ord": day.toordinal(),
                         "_latent": 12.0 + 14.0 * sl.talent[pid] + rng.normal(0, 1.5)})
    c = pd.DataFrame(rows)
    c["_line"] = c["_latent"]
    c["_bp"], c["_top"], c["_odds"] = True, True, False
    g = pd.DataFrame({"_day": c["_day"], "game_id": "", "home": "", "away": "", "tip_utc": pd.NaT})
    gi = c["gi"].to_numpy()
    c["gi"] = np.arange(len(c))
    out = _decorate(league, season, seed, g.reset_index(drop=True), c)
    out["_event"] = season * 100000 + gi
    out["_gi"] = -1
    return out


def prop_tables(league: League, season: int, seed: int, g: pd.DataFrame, pgs: pd.DataFrame,
                through: dt.date | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Odds API and BettingPros frames; All-Star BettingPros rows included."""
    cand = candidates(league, season, seed, g, pgs)
    star = all_star_candidates(league, season, seed)
    if through is not None:
        star = star[star["_day"] <= through]
    odds = odds_api_rows(cand, DayRng(seed, season, C_ODDS))
    both = pd.concat([cand, star], ignore_index=True).sort_values("_ord", kind="stable").reset_index(drop=True)
    bp = bettingpros_rows(both, season, DayRng(seed, season, C_BP))
    return odds, bp
