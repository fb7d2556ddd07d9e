"""The faster window helpers return exactly what the straightforward pandas versions return (spec §1.5, §1.8)."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from data_processors.precompute import conventions as cv
from nba_backfill.values import round_half_away

DAY = dt.date(2025, 2, 10)


# --- reference implementations: the plain pandas formulations the helpers replaced ---------------

def ref_row_seasons(df: pd.DataFrame) -> pd.Series:
    dates = df["game_date"]
    from_date = pd.Series(np.where(dates.dt.month >= 10, dates.dt.year, dates.dt.year - 1), index=df.index, dtype="float64")
    if "season_year" in df.columns:
        return df["season_year"].astype("float64").fillna(from_date)
    return from_date


def ref_dedup_latest(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    if df.empty:
        return df
    order = df.assign(_p=df["processed_at"].notna(), _g=df["game_id"].notna())
    order = order.sort_values(["_p", "processed_at", "_g", "game_id"], ascending=False, na_position="last", kind="mergesort")
    return order.drop_duplicates(subset=keys + ["game_date"], keep="first").drop(columns=["_p", "_g"]).sort_index()


def ref_in_season(df: pd.DataFrame, day: dt.date, schedule: pd.DataFrame) -> pd.DataFrame:
    start = pd.Timestamp(cv.opening_night(schedule, 2024))
    mask = (ref_row_seasons(df) == 2024) & (df["game_date"] >= start) & (df["game_date"] < pd.Timestamp(day))
    return df[mask]


def ref_history(df: pd.DataFrame, key: str, day: dt.date, schedule: pd.DataFrame) -> pd.DataFrame:
    rows = ref_dedup_latest(ref_in_season(df, day, schedule), [key])
    return rows.sort_values([key, "game_date"], ascending=[True, False], kind="mergesort")


def ref_team_final_dates(schedule: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    fg = cv.final_games(schedule)
    fg = fg[(ref_row_seasons(fg) == 2024) & (fg["game_date"] < pd.Timestamp(day))]
    both = pd.concat(
        [fg[["home_team_tricode", "game_date"]].rename(columns={"home_team_tricode": "team"}),
         fg[["away_team_tricode", "game_date"]].rename(columns={"away_team_tricode": "team"})],
        ignore_index=True,
    ).drop_duplicates()
    return both.sort_values(["team", "game_date"], ascending=[True, False], kind="mergesort").reset_index(drop=True)


def ref_completeness(entity_teams, entity_dates, team_dates, *, day, last_games=None, last_days=None) -> pd.DataFrame:
    if last_games is not None:
        window = team_dates.groupby("team", sort=False).head(last_games)
    else:
        window = team_dates[team_dates["game_date"] >= pd.Timestamp(day - dt.timedelta(days=int(last_days or 0)))]
    wanted = entity_teams[["entity", "team"]].merge(window, on="team", how="left")
    have = entity_dates[["entity", "game_date"]].drop_duplicates().assign(_hit=1)
    joined = wanted.merge(have, on=["entity", "game_date"], how="left")
    grouped = joined.groupby("entity", sort=False)
    out = pd.DataFrame({"expected": grouped["game_date"].count().astype("int64"), "actual": grouped["_hit"].sum().astype("int64")})
    out = out.reindex(entity_teams["entity"]).fillna(0).astype("int64")
    out["missing"] = out["expected"] - out["actual"]
    out["pct"] = [100.0 if e == 0 else round_half_away(min(100.0, a / e * 100), 1) for a, e in zip(out["actual"], out["expected"])]
    return out


# --- synthetic season -------------------------------------------------------------------------

TEAMS = [f"T{i:02d}" for i in range(12)]


def schedule(rng: np.random.Generator) -> pd.DataFrame:
    days = pd.date_range("2024-10-01", "2025-02-20", freq="D")
    rows = []
    for day in days:
        for _ in range(int(rng.integers(0, 4))):
            home, away = rng.choice(TEAMS, 2, replace=False)
            rows.append({"game_date": day, "home_team_tricode": home, "away_team_tricode": away,
                         "game_status": 3 if rng.random() < 0.95 else 1,
                         "is_regular_season": day >= pd.Timestamp("2024-10-22") and rng.random() < 0.97,
                         "is_playoffs": None if rng.random() < 0.1 else False,
                         "season_year": np.nan if rng.random() < 0.2 else 2024.0})
    frame = pd.DataFrame(rows)
    frame["is_regular_season"] = frame["is_regular_season"].astype("boolean")
    frame["is_playoffs"] = frame["is_playoffs"].astype("boolean")
    return frame


def game_rows(rng: np.random.Generator, n: int, *, index: str = "range") -> pd.DataFrame:
    """player_game_summary-like rows with repeated (player, date) pairs, NULL processed_at and game_id, ties."""
    players = np.array([f"p{i:03d}" for i in range(60)] + [None], dtype=object)
    dates = pd.Timestamp("2024-10-10") + pd.to_timedelta(rng.integers(0, 130, n), unit="D")
    stamps = pd.Series(pd.to_datetime(rng.integers(0, 4, n) * 3_600 * 10**9 + 1.73e18, utc=True))
    frame = pd.DataFrame({
        "player_lookup": rng.choice(players, n, p=[0.99 / 60] * 60 + [0.01]),
        "game_date": dates,
        "season_year": np.where(rng.random(n) < 0.1, np.nan, np.where(dates.month >= 10, 2024.0, 2024.0)),
        "processed_at": stamps.where(rng.random(n) > 0.2),
        "game_id": pd.Series(rng.choice(["0022400001", "0022400002", "0022400003"], n), dtype="object").where(rng.random(n) > 0.2, None),
        "is_active": pd.array(np.where(rng.random(n) < 0.1, None, rng.random(n) < 0.8).tolist(), dtype="boolean"),
        "minutes_played": np.where(rng.random(n) < 0.1, np.nan, rng.integers(0, 40, n).astype(float)),
        "team_abbr": rng.choice(TEAMS, n).astype(object),
        "row_no": np.arange(n),
    })
    frame.loc[rng.random(n) < 0.05, "game_date"] = pd.NaT
    if index == "shuffled":
        frame.index = rng.permutation(n) * 2
    elif index == "duplicated":
        frame.index = rng.integers(0, n // 2, n)
    return frame


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("index", ["range", "shuffled", "duplicated"])
def test_dedup_latest_matches_full_sort(seed: int, index: str) -> None:
    rng = np.random.default_rng(seed)
    rows = game_rows(rng, 400, index=index)
    pd.testing.assert_frame_equal(cv.dedup_latest(rows, "player_lookup"), ref_dedup_latest(rows, ["player_lookup"]))
    pd.testing.assert_frame_equal(cv.dedup_latest(rows, ["player_lookup", "team_abbr"]), ref_dedup_latest(rows, ["player_lookup", "team_abbr"]))
    unique = rows.drop_duplicates(["player_lookup", "game_date"])
    pd.testing.assert_frame_equal(cv.dedup_latest(unique, "player_lookup"), ref_dedup_latest(unique, ["player_lookup"]))


@pytest.mark.parametrize("seed", range(6))
def test_history_and_last_n_match_reference(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    sched = schedule(rng)
    rows = game_rows(rng, 600, index="shuffled" if seed % 2 else "range")
    got = cv.history(rows, "player_lookup", DAY, sched)
    pd.testing.assert_frame_equal(got, ref_history(rows, "player_lookup", DAY, sched))
    for n in (1, 5, 10):
        pd.testing.assert_frame_equal(cv.last_n(got, "player_lookup", n), got.groupby("player_lookup", sort=False).head(n))
    pd.testing.assert_frame_equal(cv.last_n(rows, "player_lookup", 2), rows.groupby("player_lookup", sort=False).head(2))
    pd.testing.assert_frame_equal(cv.history(rows.iloc[:0], "player_lookup", DAY, sched), ref_history(rows.iloc[:0], "player_lookup", DAY, sched))


@pytest.mark.parametrize("seed", range(4))
def test_row_seasons_in_season_active_games_match_reference(seed: int) -> None:
    rng = np.random.default_rng(200 + seed)
    rows = game_rows(rng, 300)
    rows.loc[rows.index[:3], "game_date"] = pd.to_datetime(["1969-12-31", "1969-10-01", "2025-09-30"])
    pd.testing.assert_series_equal(cv.row_seasons(rows), ref_row_seasons(rows))
    pd.testing.assert_series_equal(cv.row_seasons(rows.drop(columns="season_year")), ref_row_seasons(rows.drop(columns="season_year")))
    full = rows.assign(season_year=2024.0)
    pd.testing.assert_series_equal(cv.row_seasons(full), ref_row_seasons(full))
    sched = schedule(rng)
    pd.testing.assert_frame_equal(cv.in_season(rows, DAY, sched), ref_in_season(rows, DAY, sched))
    ref_active = rows[rows["is_active"].fillna(False).astype(bool) & (rows["minutes_played"].fillna(0) > 0)]
    pd.testing.assert_frame_equal(cv.active_games(rows), ref_active)
    as_objects = rows.assign(is_active=rows["is_active"].astype("object"))
    pd.testing.assert_frame_equal(cv.active_games(as_objects), as_objects.loc[ref_active.index])
    pd.testing.assert_frame_equal(cv.team_final_dates(sched, DAY), ref_team_final_dates(sched, DAY))


def completeness_inputs(rng: np.random.Generator):
    sched = schedule(rng)
    team_dates = cv.team_final_dates(sched, DAY)
    rows = cv.history(game_rows(rng, 900), "player_lookup", DAY, sched)
    entities = sorted(set(rows["player_lookup"].dropna())) + ["ghost", "ghost2"]
    teams = list(rng.choice(TEAMS + ["XXX"], len(entities)).astype(object))
    teams[-1] = None  # an entity without a team
    entity_teams = pd.DataFrame({"entity": entities, "team": teams})
    entity_teams = pd.concat([entity_teams, entity_teams.iloc[[0]]], ignore_index=True)  # a repeated entity
    entity_dates = rows[["player_lookup", "game_date"]].rename(columns={"player_lookup": "entity"})
    return entity_teams, entity_dates, team_dates


WINDOWS = {"l5": ("games", 5), "l10": ("games", 10), "l0": ("games", 0), "l7d": ("days", 7), "l14d": ("days", 14), "l30d": ("days", 30)}


@pytest.mark.parametrize("seed", range(8))
def test_completeness_windows_match_merge_reference(seed: int) -> None:
    rng = np.random.default_rng(300 + seed)
    entity_teams, entity_dates, team_dates = completeness_inputs(rng)
    got = cv.completeness_windows(entity_teams, entity_dates, team_dates, day=DAY, windows=WINDOWS)
    assert list(got) == list(WINDOWS)
    for name, (kind, size) in WINDOWS.items():
        kwargs = {"last_games": size} if kind == "games" else {"last_days": size}
        expected = ref_completeness(entity_teams, entity_dates, team_dates, day=DAY, **kwargs)
        pd.testing.assert_frame_equal(got[name], expected, check_exact=True)
        pd.testing.assert_frame_equal(cv.completeness(entity_teams, entity_dates, team_dates, day=DAY, **kwargs), expected, check_exact=True)


def test_completeness_edge_inputs() -> None:
    rng = np.random.default_rng(9)
    entity_teams, entity_dates, team_dates = completeness_inputs(rng)
    cases = [
        (entity_teams.iloc[:0], entity_dates, team_dates),
        (entity_teams, entity_dates.iloc[:0], team_dates),
        (entity_teams, entity_dates, team_dates.iloc[:0]),
        (entity_teams.assign(team=None), entity_dates, team_dates),
        (entity_teams, entity_dates, pd.concat([team_dates, pd.DataFrame({"team": [None], "game_date": [pd.Timestamp("2025-02-08")]})])),
        (entity_teams, pd.concat([entity_dates, pd.DataFrame({"entity": ["ghost"], "game_date": [pd.NaT]})]), team_dates),
    ]
    for et, ed, td in cases:
        for kwargs in ({"last_games": 10}, {"last_days": 7}, {}):
            pd.testing.assert_frame_equal(cv.completeness(et, ed, td, day=DAY, **kwargs), ref_completeness(et, ed, td, day=DAY, **kwargs))
    with pytest.raises(ValueError):
        cv.completeness_windows(entity_teams, entity_dates, team_dates, day=DAY, windows={"x": ("weeks", 2)})


def test_completeness_pct_array_matches_scalar() -> None:
    rng = np.random.default_rng(11)
    expected = rng.integers(0, 40, 5_000)
    actual = np.minimum(expected + rng.integers(-3, 3, 5_000), 45).clip(0)
    got = cv.completeness_pct_array(actual, expected)
    want = np.array([cv.completeness_pct(int(a), int(e)) for a, e in zip(actual, expected)])
    assert np.array_equal(got.view("int64"), want.view("int64"))
    assert cv.completeness_pct_array([1, 2, 0], [3, 0, 0]).tolist() == [33.3, 100.0, 100.0]


# --- numpy paths of opening night, history, team dates and finalize ------------------------------

def ref_opening_night(sched: pd.DataFrame, season: int) -> dt.date:
    rs = sched[sched["is_regular_season"].fillna(False).astype(bool)]
    rs = rs[ref_row_seasons(rs) == season] if len(rs) else rs
    if len(rs) and rs["game_date"].notna().any():
        return rs["game_date"].min().date()
    return cv.opening_night(sched.iloc[:0], season)  # the fallback table / 22 Oct


@pytest.mark.parametrize("seed", range(3))
def test_opening_night_matches_frame_rule(seed: int) -> None:
    sched = schedule(np.random.default_rng(500 + seed))
    sched.loc[sched.index[:2], "game_date"] = pd.NaT
    variants = [sched, sched.assign(is_regular_season=sched["is_regular_season"].astype("object")),
                sched.assign(is_regular_season=sched["is_regular_season"].fillna(False).astype(bool)), sched.iloc[:0]]
    for frame in variants:
        for season in (2023, 2024, 2025):
            assert cv.opening_night(frame, season) == ref_opening_night(frame, season)


@pytest.mark.parametrize("seed", range(4))
def test_history_on_text_keys_and_gapped_index_matches_reference(seed: int) -> None:
    rng = np.random.default_rng(600 + seed)
    sched = schedule(rng)
    rows = game_rows(rng, 700)
    rows.index = np.arange(len(rows)) * 3  # monotonic but not a RangeIndex
    text = rows.assign(player_lookup=rows["player_lookup"].astype("str"))
    numbered = rows.assign(player_lookup=rows["player_lookup"].map(lambda p: int(p[1:]) if isinstance(p, str) else None))
    for frame in (rows, text, numbered, rows.drop(columns=["processed_at"])):
        want = ref_history(frame, "player_lookup", DAY, sched) if "processed_at" in frame else None
        got = cv.history(frame, "player_lookup", DAY, sched)
        if want is not None:
            pd.testing.assert_frame_equal(got, want)
        positions = cv.history_positions(frame, "player_lookup", DAY, sched)
        pd.testing.assert_frame_equal(frame.iloc[positions.index].set_axis(got.index), got)
    early = cv.history(rows, "player_lookup", dt.date(2024, 10, 22), sched)  # nothing in season yet
    pd.testing.assert_frame_equal(early, ref_history(rows, "player_lookup", dt.date(2024, 10, 22), sched))


def test_team_final_dates_with_null_and_text_teams_match_reference() -> None:
    sched = schedule(np.random.default_rng(7))
    sched.loc[sched.index[5], "home_team_tricode"] = None
    for frame in (sched, sched.assign(home_team_tricode=sched["home_team_tricode"].astype("str"),
                                      away_team_tricode=sched["away_team_tricode"].astype("str")), sched.iloc[:0]):
        got = cv.team_final_dates(frame, DAY)
        pd.testing.assert_frame_equal(got, ref_team_final_dates(frame, DAY))


def test_completeness_with_text_entities_matches_reference() -> None:
    entity_teams, entity_dates, team_dates = completeness_inputs(np.random.default_rng(12))
    text_dates = entity_dates.assign(entity=entity_dates["entity"].astype("str"))
    text_teams = entity_teams.assign(entity=entity_teams["entity"].astype("str"))
    for et, ed in ((entity_teams, text_dates), (text_teams, text_dates), (text_teams, entity_dates)):
        got = cv.completeness_windows(et, ed, team_dates, day=DAY, windows=WINDOWS)
        for name, (kind, size) in WINDOWS.items():
            kwargs = {"last_games": size} if kind == "games" else {"last_days": size}
            pd.testing.assert_frame_equal(got[name], ref_completeness(et, ed, team_dates, day=DAY, **kwargs), check_exact=True)


def ref_finalize(rows: pd.DataFrame, table, hash_fields) -> pd.DataFrame:
    from nba_backfill.values import data_hash_column, round_numeric_columns

    out = round_numeric_columns(rows.reindex(columns=table.column_names), table)
    for col in table.columns:
        if col.repeated:
            out[col.name] = [v if isinstance(v, list) else [] for v in out[col.name]]
    if "data_hash" in out.columns and len(out):
        out["data_hash"] = data_hash_column(out, table, hash_fields)
    return out.reset_index(drop=True)


@pytest.mark.parametrize("n", [0, 3, 90])
def test_finalize_matches_reindex_round_assign(n: int) -> None:
    from nba_backfill.tables import table

    out_table = table("nba_precompute.team_defense_zone_analysis")
    rng = np.random.default_rng(n)
    rows = pd.DataFrame({
        "team_abbr": pd.Series(rng.choice(TEAMS, n), dtype="str"),
        "analysis_date": [DAY] * n,
        "paint_pct_allowed_last_15": np.where(rng.random(n) < 0.2, np.nan, rng.random(n)),
        "opponent_pace": rng.normal(100, 5, n),
        "games_in_sample": rng.integers(0, 15, n),
        "strongest_zone": pd.Series(rng.choice(["paint", None], n), dtype="object"),
        "data_quality_issues": [["x"] if i % 3 else None for i in range(n)],
        "is_production_ready": rng.random(n) < 0.5,
        "completeness_percentage": rng.random(n) * 100,
        "processed_at": pd.Timestamp("2025-02-10T08:00:00Z"),
    }, index=rng.permutation(n) * 2)
    rows.attrs["note"] = "kept"
    fields = ["team_abbr", "analysis_date", "paint_pct_allowed_last_15", "opponent_pace", "games_in_sample",
              "strongest_zone", "mid_range_pct_allowed_last_15", "completeness_percentage", "data_quality_issues"]
    got = cv.finalize(rows, out_table, fields)
    want = ref_finalize(rows, out_table, fields)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert got.attrs == want.attrs
