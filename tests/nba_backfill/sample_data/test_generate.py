"""Generator acceptance checks (B.12) on about a month of data; one fast full-season check."""
from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np
import pandas as pd
import pytest

from nba_backfill.errors import UsageError
from nba_backfill.sample_data import TABLE_NAMES, generate_frames, parse_seasons
from nba_backfill.sample_data.league import canonical_key, legacy_key
from nba_backfill.tables import table

D = dt.date


def content_hash(frame: pd.DataFrame, name: str) -> str:
    """SHA-256 of a canonical CSV export sorted by primary key (raw schedule rows: also status, load time)."""
    keys = list(table(name).primary_key) + [c for c in ("game_status", "processed_at") if c in frame.columns]
    text = frame.sort_values(keys, kind="stable").to_csv(index=False)
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture(scope="module")
def early_2021() -> dict[str, pd.DataFrame]:
    return generate_frames(["2021-22"], through=D(2021, 12, 8))


@pytest.fixture(scope="module")
def early_2023() -> dict[str, pd.DataFrame]:
    return generate_frames([2023], through=D(2023, 11, 20))


def test_parse_seasons() -> None:
    assert parse_seasons(["2022-23", 2021, 2021]) == [2021, 2022]
    assert parse_seasons(None) == [2021, 2022, 2023, 2024]
    for bad in (["2020-21"], [2025], ["2021"], ["21-22"], [True], []):
        with pytest.raises(UsageError):
            parse_seasons(bad)


def test_frames_follow_the_contract(early_2021: dict[str, pd.DataFrame]) -> None:
    for name in TABLE_NAMES:
        spec, frame = table(name), early_2021[name]
        assert list(frame.columns) == spec.column_names, name
        for col in spec.columns:
            if col.required and len(frame):
                assert frame[col.name].notna().all(), (name, col.name)
            if col.numeric_scale is not None:
                vals = frame[col.name].dropna().to_numpy()
                assert np.allclose(vals, np.round(vals, col.numeric_scale)), (name, col.name)
            if col.base_type == "TIMESTAMP" and len(frame):
                assert str(frame[col.name].dtype) == "datetime64[ns, UTC]"
    pgs = early_2021["nba_analytics.player_game_summary"]
    assert not pgs.duplicated(["player_lookup", "game_id"]).any()
    day1 = pd.Timestamp(pgs["game_date"].iloc[0]).tz_localize("UTC") + pd.Timedelta(days=1, hours=8)
    assert pgs["processed_at"].iloc[0] == day1


def test_box_score_invariants(early_2021: dict[str, pd.DataFrame]) -> None:
    pgs = early_2021["nba_analytics.player_game_summary"]
    off = early_2021["nba_analytics.team_offense_game_summary"]
    act = pgs[pgs["is_active"]].astype({c: "float64" for c in ("points", "fg_attempts", "fg_makes")})
    assert (act["fg_attempts"] == act["paint_attempts"] + act["mid_range_attempts"] + act["three_pt_attempts"]).all()
    assert (act["fg_makes"] == act["paint_makes"] + act["mid_range_makes"] + act["three_pt_makes"]).all()
    for made, att in (("paint_makes", "paint_attempts"), ("mid_range_makes", "mid_range_attempts"),
                      ("three_pt_makes", "three_pt_attempts"), ("ft_makes", "ft_attempts")):
        assert (act[made] <= act[att]).all()
    pts = 2 * (act["paint_makes"] + act["mid_range_makes"]) + 3 * act["three_pt_makes"] + act["ft_makes"]
    assert (act["points"] == pts).all()
    assert (act["assisted_fg_makes"] + act["unassisted_fg_makes"] == act["fg_makes"]).all()
    team = act.groupby(["game_id", "team_abbr"])
    t = team.agg(minutes=("minutes_played", "sum"), ast=("assists", "sum"), assisted=("assisted_fg_makes", "sum"),
                 pm=("plus_minus", "sum"), starters=("starter_flag", "sum"), pts=("points", "sum"))
    o = off.set_index(["game_id", "team_abbr"]).loc[t.index]
    assert np.allclose(t["minutes"], 240 + 25 * o["overtime_periods"].astype(float))
    assert (t["ast"] == t["assisted"]).all() and (t["starters"] == 5).all()
    assert (t["pm"] == 5 * o["margin_of_victory"]).all() and (t["pts"] == o["points_scored"]).all()
    starters = act[act["starter_flag"]]["minutes_played"]
    assert starters.between(26, 40).all()
    w = (act["usage_rate"] * act["minutes_played"]).groupby([act["game_id"], act["team_abbr"]]).sum() / t["minutes"]
    assert np.allclose(w, 20.0, atol=0.05)
    sums = team[["offensive_rebounds", "defensive_rebounds", "fg_attempts", "fg_makes"]].sum().reset_index()
    pair = sums.merge(sums, on="game_id", suffixes=("", "_o"))
    pair = pair[pair["team_abbr"] != pair["team_abbr_o"]]
    missed = pair["fg_attempts_o"] - pair["fg_makes_o"]
    assert (pair["defensive_rebounds"] + pair["offensive_rebounds_o"] == missed).all()
    dnp = pgs[~pgs["is_active"]]
    assert dnp["minutes_played"].isna().all() and (dnp["player_status"] == "dnp").all()
    assert 9.5 <= len(pgs) / len(off) <= 12.5
    assert (pgs["universal_player_id"] == pgs["player_lookup"] + "_001").all()


def test_team_tables_are_consistent(early_2021: dict[str, pd.DataFrame]) -> None:
    off = early_2021["nba_analytics.team_offense_game_summary"]
    de = early_2021["nba_analytics.team_defense_game_summary"]
    sched = early_2021["nba_raw.nbac_schedule"]
    ctx = early_2021["nba_analytics.upcoming_team_game_context"]
    assert (off.groupby("game_id").size() == 2).all() and len(de) == len(off) == len(ctx)
    m = de.merge(off, left_on=["game_id", "opponent_team_abbr"], right_on=["game_id", "team_abbr"])
    assert (m["points_allowed"] == m["points_scored"]).all()
    assert (m["opp_paint_makes"] == m["team_paint_makes"]).all()
    assert (m["defensive_rating"] == m["offensive_rating"]).all()
    assert (m["points_in_paint_allowed"] == 2 * m["team_paint_makes"]).all()
    assert (m["blocks_paint"] <= m["team_paint_attempts"] - m["team_paint_makes"]).all()
    assert (m["steals"] <= m["turnovers"]).all()
    assert de["processed_at"].notna().all()
    final = sched[sched["game_status"] == 3]
    assert not final.duplicated(["game_id", "game_date"]).any() and len(final) == off["game_id"].nunique()
    home = off[off["home_game"]].set_index("nba_game_id")["points_scored"]
    assert (final.set_index("game_id")["home_team_score"] == home.reindex(final["game_id"]).to_numpy()).all()
    assert not sched["is_all_star"].any()
    ppd = sched[sched["game_status_text"] == "PPD"]
    assert len(ppd) >= 1 and (ppd["game_date"] >= pd.Timestamp("2021-10-19")).all()
    spread = ctx.merge(ctx, on="game_id", suffixes=("", "_o"))
    spread = spread[spread["team_abbr"] != spread["team_abbr_o"]]
    assert (spread["game_spread"] == -spread["game_spread_o"]).all()
    assert ctx["game_total"].between(205.5, 245.5).all()


def test_props_2021(early_2021: dict[str, pd.DataFrame]) -> None:
    assert early_2021["nba_raw.odds_api_player_points_props"].empty
    bp = early_2021["nba_raw.bettingpros_player_points_props"]
    sched = early_2021["nba_raw.nbac_schedule"]
    days = set(pd.to_datetime(sched[sched["game_status"] == 3]["game_date"]).dt.date)
    bp_days = set(pd.to_datetime(bp["game_date"]).dt.date)
    assert bp_days == days - {D(2021, 12, 6)}
    assert set(bp["market_type"]) == {"points", "rebounds", "assists", "threes", "blocks", "steals"}
    assert not bp.duplicated(["game_date", "market_type", "offer_id", "book_id", "bet_side", "source_file_path"]).any()
    assert (bp[bp["book_id"] == 0]["is_best_line"] == False).all()  # noqa: E712
    suffix = bp[bp["player_name"].str.contains(r" (?:Jr\.|Sr\.|II|III|IV)$")]
    assert len(suffix) and (suffix["player_lookup"] == suffix["player_name"].map(legacy_key)).all()
    assert (suffix["player_lookup"] != suffix["player_name"].map(canonical_key)).all()
    # every game has at least one active BettingPros points player per team (by canonical key)
    pgs = early_2021["nba_analytics.player_game_summary"]
    pts = bp[(bp["market_type"] == "points") & (bp["bet_side"] == "over") & bp["is_active"]]
    keyed = pts.assign(key=pts["player_name"].map(canonical_key), day=pd.to_datetime(pts["game_date"]))
    joined = pgs.merge(keyed[["key", "day"]].drop_duplicates(), left_on=["player_lookup", "game_date"],
                       right_on=["key", "day"])
    covered = joined.groupby(["game_id"])["team_abbr"].nunique()
    games = pgs[pd.to_datetime(pgs["game_date"]).dt.date != D(2021, 12, 6)]["game_id"].unique()
    assert (covered.reindex(games) == 2).all()
    assert pgs["points_line"].notna().sum() > 0


def test_odds_api_2023(early_2023: dict[str, pd.DataFrame]) -> None:
    odds = early_2023["nba_raw.odds_api_player_points_props"]
    pgs = early_2023["nba_analytics.player_game_summary"]
    assert len(odds) and (pd.to_datetime(odds["game_date"]) >= pd.Timestamp("2023-05-03")).all()
    assert (odds["game_id"].str.len() == len("20231024_LAL_DEN")).all()
    per_game = odds.groupby("game_id")["player_name"].nunique()
    assert 14 <= per_game.mean() <= 24
    teams = odds.merge(pgs[["player_full_name", "game_id", "team_abbr"]], left_on=["player_name", "game_id"],
                       right_on=["player_full_name", "game_id"], how="left")
    assert set(odds["game_id"]) == set(pgs["game_id"])
    assert (teams.groupby("game_id")["team_abbr"].nunique() >= 1).all()
    assert odds["bookmaker"].isin(["draftkings", "fanduel", "betmgm"]).all()
    assert (odds["minutes_before_tipoff"] == 120).mean() > 0.8


def test_same_seed_same_tables_and_prefix() -> None:
    short = generate_frames([2022], through=D(2022, 10, 26))
    again = generate_frames([2022], through=D(2022, 10, 26))
    other = generate_frames([2022], seed=7, through=D(2022, 10, 26))
    longer = generate_frames([2022], through=D(2022, 11, 3))
    for name in TABLE_NAMES:
        assert content_hash(short[name], name) == content_hash(again[name], name), name
    pgs = "nba_analytics.player_game_summary"
    assert content_hash(short[pgs], pgs) != content_hash(other[pgs], pgs)
    for name in ("nba_raw.nbac_schedule", "nba_analytics.player_game_summary", "nba_raw.bettingpros_player_points_props",
                 "nba_analytics.team_defense_game_summary", "nba_analytics.upcoming_team_game_context"):
        col = table(name).partition
        cut = longer[name][pd.to_datetime(longer[name][col]) <= pd.Timestamp("2022-10-26")]
        assert content_hash(cut, name) == content_hash(short[name], name), name


def test_generate_sample_data_into_duckdb(tmp_path) -> None:
    warehouse = pytest.importorskip("nba_backfill.warehouse", reason="warehouse backend not available yet")
    if not hasattr(warehouse, "connect"):
        pytest.skip("nba_backfill.warehouse.connect is not available yet")
    from nba_backfill.sample_data import generate_sample_data

    wh = warehouse.connect(f"duckdb:///{tmp_path / 'sample.duckdb'}")
    try:
        counts = generate_sample_data(wh, ["2021-22"], through=D(2021, 10, 24))
        again = generate_sample_data(wh, [2021], through=D(2021, 10, 24))
        assert counts == again and counts["nba_analytics.player_game_summary"] > 0
        got = wh.query("SELECT COUNT(*) AS n FROM nba_analytics.player_game_summary WHERE game_date BETWEEN @a AND @b",
                       {"a": D(2021, 10, 1), "b": D(2022, 9, 30)})
        assert int(got["n"].iloc[0]) == counts["nba_analytics.player_game_summary"]
    finally:
        wh.close()


@pytest.mark.slow
def test_full_season_2021_acceptance() -> None:
    f = generate_frames([2021])
    sched = f["nba_raw.nbac_schedule"]
    final = sched[sched["game_status"] == 3]
    assert 1300 <= len(final) <= 1340 and 210 <= final["game_date"].nunique() <= 216
    assert pd.to_datetime(final["game_date"]).min() == pd.Timestamp("2021-10-19")
    assert 20_000 <= len(f["nba_analytics.player_game_summary"]) <= 35_000
    assert len(f["nba_analytics.team_offense_game_summary"]) == 2 * len(final)
    bp = f["nba_raw.bettingpros_player_points_props"]
    pts_days = set(pd.to_datetime(bp[bp["market_type"] == "points"]["game_date"]).dt.date)
    days = set(pd.to_datetime(final["game_date"]).dt.date)
    assert len(pts_days & days) >= 0.99 * (len(days) - 1) and D(2021, 12, 6) not in pts_days
    assert 0.8 * 380_000 <= len(bp) <= 1.2 * 380_000
    off = f["nba_analytics.team_offense_game_summary"]
    assert 108 <= off["points_scored"].mean() <= 118 and 0.53 <= off[off["home_game"]]["win_flag"].mean() <= 0.58
