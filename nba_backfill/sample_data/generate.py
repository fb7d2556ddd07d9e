"""Entry points of the sample-data generator: pure `generate_frames` and the warehouse loader."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from nba_backfill.dates import parse_season_label, season_label
from nba_backfill.errors import UsageError
from nba_backfill.sample_data.boxscores import simulate_season
from nba_backfill.sample_data.calendar import SEASONS, TRICODES
from nba_backfill.sample_data.league import C_SCHED_ROWS, League, build_league, stream
from nba_backfill.sample_data.props import validation
from nba_backfill.sample_data.season import game_frame, player_rows, processed, prop_tables
from nba_backfill.sample_data.teams import schedule, team_defense, team_offense
from nba_backfill.tables import TableSpec, table
from nba_backfill.values import round_series

DEFAULT_SEED = 20211019
SCHEDULE = "nba_raw.nbac_schedule"
ODDS = "nba_raw.odds_api_player_points_props"
BP = "nba_raw.bettingpros_player_points_props"
PGS = "nba_analytics.player_game_summary"
OFFENSE = "nba_analytics.team_offense_game_summary"
DEFENSE = "nba_analytics.team_defense_game_summary"
CONTEXT = "nba_analytics.upcoming_team_game_context"
REGISTRY = "nba_reference.nba_players_registry"
PLAYER_LIST = "nba_raw.nbac_player_list_current"
TABLE_NAMES = (SCHEDULE, ODDS, BP, PGS, OFFENSE, DEFENSE, CONTEXT, REGISTRY, PLAYER_LIST)


def parse_seasons(seasons: Iterable[Any] | None) -> list[int]:
    """Season years from ints 2021..2024 or labels like '2021-22'; UsageError otherwise."""
    if seasons is None:
        return list(SEASONS)
    out = set()
    for s in seasons:
        year = parse_season_label(s) if isinstance(s, str) else s
        if isinstance(year, bool) or not isinstance(year, (int, np.integer)) or int(year) not in SEASONS:
            raise UsageError(f"unsupported season {s!r}: expected one of 2021-22, 2022-23, 2023-24, 2024-25")
        out.add(int(year))
    if not out:
        raise UsageError("no season given: expected one of 2021-22, 2022-23, 2023-24, 2024-25")
    return sorted(out)


def conform(rows: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """Exactly the contract columns, typed and NUMERIC-rounded; absent columns are NULL (arrays [])."""
    n = len(rows)
    out: dict[str, Any] = {}
    for col in spec.columns:
        src = rows[col.name] if col.name in rows.columns else pd.Series([None] * n, index=rows.index, dtype="object")
        base = col.base_type
        if col.repeated:
            out[col.name] = pd.Series([[] for _ in range(n)], index=rows.index, dtype="object")
        elif base == "NUMERIC":
            out[col.name] = round_series(pd.to_numeric(src, errors="coerce").astype("float64"), col.numeric_scale or 0)
        elif base == "FLOAT64":
            out[col.name] = pd.to_numeric(src, errors="coerce").astype("float64")
        elif base == "INT64":
            out[col.name] = pd.to_numeric(src, errors="coerce").astype("Int64")
        elif base in ("BOOLEAN", "BOOL"):
            out[col.name] = src.astype("object").where(src.notna(), None).astype("boolean")
        elif base == "DATE":
            out[col.name] = pd.to_datetime(src).astype("datetime64[ns]")
        elif base == "TIMESTAMP":
            out[col.name] = pd.to_datetime(src, utc=True).astype("datetime64[ns, UTC]")
        else:
            obj = src.astype("object")
            out[col.name] = obj.where(obj.notna(), None)
    return pd.DataFrame(out, index=rows.index).reset_index(drop=True)


def _attach_lines(pgs: pd.DataFrame, odds: pd.DataFrame, bp: pd.DataFrame) -> pd.DataFrame:
    """points_line and friends on player-games with props (B.6 item 10)."""
    picks = []
    if not odds.empty:
        pre = odds[(odds["minutes_before_tipoff"] >= 0)]
        for book, rank in (("draftkings", 0), ("fanduel", 4)):
            b = pre[pre["bookmaker"] == book].sort_values("minutes_before_tipoff", kind="stable")
            cur = b.groupby(["_gi", "_pid"])["points_line"].first()
            opn = b.groupby(["_gi", "_pid"])["points_line"].last()
            picks.append(pd.DataFrame({"line": cur, "open": opn, "src": book, "rank": rank}))
    if not bp.empty:
        pts = bp[(bp["market_type"] == "points") & (bp["bet_side"] == "over") & (bp["_gi"] >= 0)]
        pts = pts.sort_values("scrape", kind="stable")
        for book_id, src, rank in ((12, "draftkings", 1), (10, "fanduel", 2), (0, "consensus", 3)):
            b = pts[pts["book_id"] == book_id]
            last = b.groupby(["_gi", "_pid"]).last()
            opn = last["opening_line"].where(last["opening_line"].notna(), last["points_line"])
            picks.append(pd.DataFrame({"line": last["points_line"], "open": opn, "src": src, "rank": rank}))
    if not picks:
        return pgs
    best = pd.concat(picks).reset_index().sort_values(["_gi", "_pid", "rank"], kind="stable")
    best = best.groupby(["_gi", "_pid"]).first()
    key = pd.MultiIndex.from_arrays([pgs["gi"], pgs["pid"]])
    m = best.reindex(key)
    pgs["points_line"] = m["line"].to_numpy()
    pgs["opening_line"] = m["open"].to_numpy()
    pgs["line_movement"] = pgs["points_line"] - pgs["opening_line"]
    pgs["points_line_source"] = m["src"].to_numpy()
    pgs["opening_line_source"] = m["src"].to_numpy()
    diff = pgs["points"] - pgs["points_line"]
    pgs["margin"] = diff
    pgs["over_under_result"] = np.where(diff > 0, "OVER", np.where(diff < 0, "UNDER", None))
    pgs.loc[diff.isna(), "over_under_result"] = None
    return pgs


def team_context(g: pd.DataFrame, off: pd.DataFrame, pgs: pd.DataFrame, league: League, season: int,
                 seed: int) -> pd.DataFrame:
    """upcoming_team_game_context from the schedule and results before each game (B.7)."""
    rng = stream(seed, season, C_SCHED_ROWS, 1)
    n = len(g)
    noise_spread, noise_total = rng.normal(0, 2.0, n), rng.normal(0, 6.0, n)
    moves = rng.choice([0.0, 0.0, 0.5, -0.5, 1.0, -1.0], (n, 2))
    strength = league.seasons[season].strength
    c = off.sort_values(["team_abbr", "game_date", "gi"], kind="stable").reset_index(drop=True)
    ords = np.array([d.toordinal() for d in c["game_date"]])
    team = c["team_abbr"].to_numpy()
    first = np.r_[True, team[1:] != team[:-1]]
    c["days_since_last_game"] = pd.array(np.where(first, -1, ords - np.r_[0, ords[:-1]]), dtype="Int64")
    c.loc[first, "days_since_last_game"] = pd.NA
    c["team_days_rest"] = c["days_since_last_game"] - 1
    c["is_back_to_back"] = (c["days_since_last_game"] == 1).fillna(False).astype(bool)
    c["team_back_to_back"] = c["is_back_to_back"]
    c["game_number_in_season"] = c.groupby("team_abbr").cumcount() + 1
    g7, g14 = np.zeros(len(c), int), np.zeros(len(c), int)
    for t in TRICODES:
        idx = np.flatnonzero(team == t)
        o = ords[idx]
        g7[idx] = np.searchsorted(o, o) - np.searchsorted(o, o - 7)
        g14[idx] = np.searchsorted(o, o) - np.searchsorted(o, o - 14)
    c["games_in_last_7_days"], c["games_in_last_14_days"] = g7, g14
    win = c["win_flag"].to_numpy()
    ws, ls, lm, lr = (np.zeros(len(c), int) for _ in range(4))
    lr = np.full(len(c), None, dtype=object)
    lmv = np.full(len(c), np.nan)
    for i in range(len(c)):
        if first[i]:
            continue
        ws[i] = ws[i - 1] + 1 if win[i - 1] else 0
        ls[i] = 0 if win[i - 1] else ls[i - 1] + 1
        lmv[i] = c["margin_of_victory"].iat[i - 1]
        lr[i] = "W" if win[i - 1] else "L"
    c["team_win_streak_entering"], c["team_loss_streak_entering"] = ws, ls
    c["last_game_margin"], c["last_game_result"] = lmv, lr
    gi = c["gi"].to_numpy()
    home = c["home_game"].to_numpy()
    opp = c["opponent_team_abbr"].to_numpy()
    edge = np.array([strength[t] - strength[o] for t, o in zip(team, opp)]) * 30 + np.where(home, 2.5, -2.5)
    home_spread = np.where(home, -edge, edge) + noise_spread[gi]  # home team's view
    home_spread = np.clip(np.round(home_spread * 2) / 2, -18, 18)
    c["game_spread"] = np.where(home, home_spread, -home_spread)
    c["game_total"] = np.clip(np.floor(224 + 3 * (season - 2021) + noise_total[gi]) + 0.5, 205.5, 245.5)
    c["game_spread_source"] = c["game_total_source"] = "draftkings"
    c["spread_movement"] = np.where(home, moves[gi, 0], -moves[gi, 0])
    c["total_movement"] = moves[gi, 1]
    c["betting_lines_updated_at"] = g["tip_utc"].to_numpy()[gi] - pd.Timedelta(hours=2)
    played = set(zip(pgs["gi"].to_numpy().tolist(), pgs["pid"].to_numpy().tolist()))
    sl = league.seasons[season]
    out_count = []
    for t, d, i in zip(team, c["game_date"], gi):
        roster = [s.pid for s in sl.stints if s.team == t and s.start <= d <= s.end and not s.hardship]
        usual = sorted(roster, key=lambda p: -sl.talent[p])[:5]
        out_count.append(sum((int(i), p) not in played for p in usual))
    c["starters_out_count"] = out_count
    c["questionable_players_count"] = 0
    c["travel_miles"] = 0
    c["is_production_ready"] = True
    c["game_id"] = c["nba_game_id"]
    return c


def registry_tables(league: League, season: int, pgs: pd.DataFrame, through: dt.date | None,
                    seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """nba_players_registry (per player, team) and nbac_player_list_current (per player) rows."""
    p, sl = league.players, league.seasons[season]
    stints = [s for s in sl.stints if through is None or s.start <= through]
    pairs = sorted({(s.pid, s.team) for s in stints})
    rng = stream(seed, season, C_SCHED_ROWS, 2)
    no_uid = rng.random(len(pairs)) < 0.01
    stats = pgs.groupby(["pid", "team_abbr"]).agg(
        total=("is_active", "size"), games=("is_active", "sum"))
    act = pgs[pgs["is_active"]].groupby(["pid", "team_abbr"])["game_date"].agg(["min", "max"])
    reg = pd.DataFrame(pairs, columns=["pid", "team_abbr"])
    key = pd.MultiIndex.from_arrays([reg["pid"], reg["team_abbr"]])
    reg["games_played"] = stats["games"].reindex(key).fillna(0).astype(int).to_numpy()
    reg["total_appearances"] = stats["total"].reindex(key).fillna(0).astype(int).to_numpy()
    reg["inactive_appearances"] = reg["total_appearances"] - reg["games_played"]
    reg["dnp_appearances"] = reg["inactive_appearances"]
    reg["first_game_date"] = act["min"].reindex(key).to_numpy()
    reg["last_game_date"] = act["max"].reindex(key).to_numpy()
    reg["player_lookup"] = [p.key[i] for i in reg["pid"]]
    reg["player_name"] = [p.name[i] for i in reg["pid"]]
    reg["universal_player_id"] = np.where(no_uid, None, reg["player_lookup"] + "_001")
    reg["season"] = season_label(season)
    reg["position"] = [("G", "F", "C")[p.kind[i]] for i in reg["pid"]]
    reg["source_priority"], reg["confidence_score"], reg["created_by"] = "nba_gamebook", 1.0, "sample-generator"
    reg["last_processor"] = "sample-generator"
    stamp = pd.Timestamp(dt.datetime(season, 10, 1, 8), tz="UTC")
    last_day = pgs["game_date"].max() if len(pgs) else dt.date(season, 10, 1)
    reg["created_at"] = stamp
    reg["processed_at"] = processed(pd.Series([last_day] * len(reg)))
    end_team = {s.pid: s.team for s in sorted(stints, key=lambda s: (s.start, s.end))}
    pl = pd.DataFrame({"pid": sorted(end_team)})
    pl = pl[[not p.no_birth[i] or i % 2 == 0 for i in pl["pid"]]].reset_index(drop=True)
    pl["player_lookup"] = [p.key[i] for i in pl["pid"]]
    pl["player_id"] = pl["pid"] + 1_600_000
    pl["player_full_name"] = [p.name[i] for i in pl["pid"]]
    pl["team_abbr"] = [end_team[i] for i in pl["pid"]]
    pl["birth_date"] = [None if p.no_birth[i] else p.birth[i] for i in pl["pid"]]
    pl["position"] = [("G", "F", "C")[p.kind[i]] for i in pl["pid"]]
    pl["season_year"], pl["is_active"], pl["roster_status"] = season, True, "active"
    pl["processed_at"] = stamp
    return reg, pl


def season_frames(league: League, season: int, seed: int, through: dt.date | None) -> dict[str, pd.DataFrame]:
    """Every sample table of one season, before contract conformance."""
    games, cols = simulate_season(league, season, seed, through)
    g = game_frame(games)
    if not cols:
        return {}
    pgs = player_rows(league, season, g, cols)
    odds, bp = prop_tables(league, season, seed, g, pgs, through)
    pgs = _attach_lines(pgs, odds, bp)
    off = team_offense(g, pgs)
    de = team_defense(off)
    sched = schedule(g, off, season, seed)
    ctx = team_context(g, off, pgs, league, season, seed)
    reg, pl = registry_tables(league, season, pgs, through, seed)
    if not bp.empty:
        bp["team_source"], bp["has_team_issues"], bp["validated_team"] = "bettingpros", True, None
        bp["validation_confidence"], bp["validation_notes"] = validation(bp["_day"])
        bp["validation_method"] = "bettingpros_freshness_based"
        bp["game_date"] = bp["_day"]
        day = pd.to_datetime(bp["_day"])
        local = (day + pd.to_timedelta(bp["_update_h"], unit="h")).dt.tz_localize("America/New_York")
        bp["bookmaker_last_update"] = local.dt.tz_convert("UTC").dt.floor("s")
        opening = (day - pd.to_timedelta(bp["_open_prev"].astype(int), unit="D")
                   + pd.to_timedelta(bp["_open_h"], unit="h")).dt.tz_localize("America/New_York")
        bp["opening_timestamp"] = opening.dt.tz_convert("UTC").dt.floor("s").where(bp["opening_line"].notna())
        bp["source_file_path"] = "bettingpros/player-props/" + bp["_day"].astype(str) + "/scrape-" + bp["scrape"].astype(str) + ".json"
        bp["processed_at"] = processed(bp["_day"])
        bp["created_at"] = bp["processed_at"]
    if not odds.empty:
        odds["processed_at"] = processed(odds["_day"])
    return {SCHEDULE: sched, ODDS: odds, BP: bp, PGS: pgs, OFFENSE: off, DEFENSE: de, CONTEXT: ctx,
            REGISTRY: reg, PLAYER_LIST: pl}


def generate_frames(seasons: Sequence[Any] | None = None, seed: int = DEFAULT_SEED,
                    through: dt.date | None = None) -> dict[str, pd.DataFrame]:
    """"dataset.table" -> contract-conformant rows for the chosen seasons, up to `through`."""
    years = parse_seasons(seasons)
    league = build_league(seed)
    parts: dict[str, list[pd.DataFrame]] = {name: [] for name in TABLE_NAMES}
    for season in years:
        if through is not None and through < dt.date(season, 10, 1):
            continue
        for name, frame in season_frames(league, season, seed, through).items():
            parts[name].append(conform(frame, table(name)))
    out = {}
    for name in TABLE_NAMES:
        frames = [f for f in parts[name] if len(f)]
        out[name] = pd.concat(frames, ignore_index=True) if frames else conform(pd.DataFrame(), table(name))
    return out


def generate_sample_data(warehouse: Any, seasons: Sequence[Any] | None = None, seed: int = DEFAULT_SEED,
                         through: dt.date | None = None) -> dict[str, int]:
    """Create missing tables, replace the chosen seasons' rows, and return row counts per table."""
    years = parse_seasons(seasons)
    frames = generate_frames(years, seed, through)
    specs = [table(name) for name in TABLE_NAMES]
    warehouse.create_tables(specs)
    for year in years:
        start, end = dt.date(year, 10, 1), dt.date(year + 1, 9, 30)
        for spec in specs:
            if spec.name == REGISTRY:
                warehouse.execute(f"DELETE FROM {spec.name} WHERE season = @season", {"season": season_label(year)})
            elif spec.name == PLAYER_LIST:
                warehouse.execute(f"DELETE FROM {spec.name} WHERE season_year = @season", {"season": year})
            else:
                warehouse.execute(f"DELETE FROM {spec.name} WHERE {spec.partition} BETWEEN @start AND @end",
                                  {"start": start, "end": end})
    counts = {}
    for spec in specs:
        frame = frames[spec.name]
        if len(frame):
            warehouse.append(spec, frame)
        counts[spec.name] = len(frame)
    return counts
