"""normalize_frame: the skipped casts change nothing, and `columns=` restricts the contract columns."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from nba_backfill.frames import NORMALIZED_ATTR, empty_frame, normalize_column, normalize_frame, normalize_inputs, null_column
from nba_backfill.tables import TABLES, Column, TableSpec


def reference_to_list(value: object) -> list:
    if value is None:
        return []
    if isinstance(value, float) and np.isnan(value):
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    if hasattr(value, "tolist"):
        return list(value.tolist())
    return [value]


def reference_normalize_column(series: pd.Series, col: Column) -> pd.Series:
    """The generic cast, as it was before the fast paths."""
    if col.repeated:
        return pd.Series([reference_to_list(v) for v in series], index=series.index, dtype="object")
    base = col.base_type
    if base == "DATE":
        if pd.api.types.is_datetime64_any_dtype(series) and getattr(series.dt, "tz", None) is not None:
            series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        return pd.to_datetime(series, errors="coerce").astype("datetime64[ns]").dt.normalize()
    if base == "TIMESTAMP":
        return pd.to_datetime(series, errors="coerce", utc=True, format="mixed").astype("datetime64[ns, UTC]")
    if base in ("NUMERIC", "FLOAT64", "INT64", "BIGNUMERIC"):
        return pd.to_numeric(series.astype("object").where(series.notna(), None), errors="coerce").astype("float64")
    if base in ("BOOLEAN", "BOOL"):
        return series.astype("object").where(series.notna(), None).astype("boolean")
    out = series.astype("object")
    return out.where(out.notna(), None)


def reference_normalize_frame(df: pd.DataFrame, table: TableSpec) -> pd.DataFrame:
    df = df.reset_index(drop=True)
    n = len(df)
    out = {}
    for col in table.columns:
        source = df[col.name] if col.name in df.columns else pd.Series([None] * n, dtype="object")
        out[col.name] = reference_normalize_column(source, col)
    for extra in df.columns:
        if extra not in out:
            out[extra] = df[extra]
    return pd.DataFrame(out, index=pd.RangeIndex(n))


def variants(col_type: str, rng: np.random.Generator, n: int) -> list[pd.Series]:
    """The same column in the dtypes the warehouse, the loader and JSON vectors produce."""
    nulls = rng.random(n) < 0.2
    base = col_type.split("(")[0]
    if col_type.startswith("ARRAY<"):
        items = [["a", "b"] if i % 4 == 0 else (("c",) if i % 4 == 1 else (np.array(["d"]) if i % 4 == 2 else None)) for i in range(n)]
        return [pd.Series(items, dtype="object"), pd.Series([[] if m else ["x"] for m in nulls], dtype="object"),
                pd.Series([np.nan] * n, dtype="object")]
    if base in ("NUMERIC", "FLOAT64", "INT64"):
        floats = np.where(nulls, np.nan, np.round(rng.normal(0, 50, n), 3))
        floats[:1] = -0.0
        ints = rng.integers(-100, 100, n)
        return [pd.Series(floats), pd.Series(ints), pd.Series(ints.astype("int32")), pd.Series(floats, dtype="Float64"),
                pd.Series(pd.array(np.where(nulls, None, ints).tolist(), dtype="Int64")), pd.Series(floats.astype("float32")),
                pd.Series([None if m else Decimal(str(v)) for v, m in zip(floats, nulls)], dtype="object"),
                pd.Series([None if m else str(v) for v, m in zip(floats, nulls)], dtype="object"),
                pd.Series(rng.random(n) < 0.5)]
    if base == "DATE":
        stamps = pd.Series(pd.to_datetime("2024-10-22") + pd.to_timedelta(rng.integers(0, 200, n), unit="D")).where(~nulls)
        with_time = stamps + pd.to_timedelta(rng.integers(0, 86_400, n), unit="s")
        return [stamps, stamps.astype("datetime64[us]"), with_time, stamps.dt.tz_localize("UTC"),
                pd.Series([None if m else d.date() for d, m in zip(stamps, nulls)], dtype="object"),
                pd.Series([None if m else d.strftime("%Y-%m-%d") for d, m in zip(stamps, nulls)], dtype="object")]
    if base == "TIMESTAMP":
        stamps = pd.Series(pd.to_datetime(rng.integers(1.70e18, 1.72e18, n), utc=True)).where(~nulls)
        return [stamps, stamps.astype("datetime64[us, UTC]"), stamps.dt.tz_convert("US/Eastern"), stamps.dt.tz_localize(None),
                pd.Series([None if m else s.isoformat() for s, m in zip(stamps, nulls)], dtype="object")]
    if base in ("BOOLEAN", "BOOL"):
        flags = rng.random(n) < 0.5
        return [pd.Series(flags), pd.Series(pd.array(np.where(nulls, None, flags).tolist(), dtype="boolean")),
                pd.Series([None if m else bool(v) for v, m in zip(flags, nulls)], dtype="object")]
    words = np.where(nulls, None, np.array(["BOS", "LAL", "x"], dtype=object)[rng.integers(0, 3, n)])
    return [pd.Series(words, dtype="object"), pd.Series(words, dtype="str"), pd.Series(np.where(nulls, np.nan, words), dtype="object"),
            pd.Series(["a"] * n, dtype="object"), pd.Series(rng.integers(0, 9, n))]


@pytest.mark.parametrize("col_type", ["NUMERIC(5,2)", "FLOAT64", "INT64", "DATE", "TIMESTAMP", "BOOLEAN", "STRING", "JSON", "ARRAY<STRING>"])
def test_normalize_column_matches_generic_cast(col_type: str) -> None:
    col = Column("c", col_type)
    rng = np.random.default_rng(len(col_type))
    for n in (0, 1, 40):
        for series in variants(col_type, rng, n):
            series = series.rename("c")
            series.index = pd.RangeIndex(5, 5 + len(series))
            pd.testing.assert_series_equal(normalize_column(series, col), reference_normalize_column(series, col), check_exact=True)


@pytest.mark.parametrize("col_type", ["NUMERIC(5,2)", "FLOAT64", "INT64", "DATE", "TIMESTAMP", "BOOLEAN", "STRING", "JSON", "ARRAY<STRING>"])
def test_null_column_matches_normalized_nones(col_type: str) -> None:
    col = Column("c", col_type)
    for n in (0, 3):
        pd.testing.assert_series_equal(null_column(col, n), reference_normalize_column(pd.Series([None] * n, dtype="object"), col))


def sample_frame(table: TableSpec, rng: np.random.Generator, n: int) -> pd.DataFrame:
    data = {}
    for i, col in enumerate(table.columns):
        if i % 9 == 4:
            continue  # absent column
        options = variants(col.type, rng, n)
        data[col.name] = options[i % len(options)].to_numpy() if i % 2 else options[i % len(options)]
    frame = pd.DataFrame(data)
    frame["extra_col"] = np.arange(n)
    frame.index = rng.permutation(n) + 10
    return frame


def test_normalize_frame_matches_reference_on_every_contract_type() -> None:
    rng = np.random.default_rng(3)
    for name in ("nba_analytics.player_game_summary", "nba_raw.nbac_schedule", "nba_predictions.ml_feature_store_v2"):
        table = TABLES[name]
        frame = sample_frame(table, rng, 60)
        pd.testing.assert_frame_equal(normalize_frame(frame, table), reference_normalize_frame(frame, table), check_exact=True)
    records = [{"game_date": "2024-12-20", "points": "12", "is_active": True}, {"game_date": None, "player_lookup": "x"}]
    table = TABLES["nba_analytics.player_game_summary"]
    pd.testing.assert_frame_equal(normalize_frame(records, table), reference_normalize_frame(pd.DataFrame(records), table))


def test_columns_restricts_to_requested_contract_columns_plus_extras() -> None:
    table = TABLES["nba_analytics.player_game_summary"]
    rng = np.random.default_rng(5)
    frame = sample_frame(table, rng, 30)
    wanted = ["minutes_played", "player_lookup", "game_date", table.columns[13].name]  # the last is absent from frame
    assert wanted[-1] not in frame.columns and len(set(wanted)) == 4
    got = normalize_frame(frame, table, columns=wanted)
    assert list(got.columns) == wanted + ["extra_col"]
    full = reference_normalize_frame(frame, table)
    pd.testing.assert_frame_equal(got, full[wanted + ["extra_col"]], check_exact=True)
    with pytest.raises(Exception):
        normalize_frame(frame, table, columns=["no_such_column"])


def test_marked_frames_are_not_cast_again() -> None:
    table = TABLES["nba_analytics.player_game_summary"]
    frame = pd.DataFrame({"player_lookup": ["a", "b"], "minutes_played": ["1", "2"]}, index=[7, 3])
    frame.attrs[NORMALIZED_ATTR] = table.name
    same = normalize_frame(frame, table)
    assert list(same.columns) == ["player_lookup", "minutes_played"] and list(same.index) == [0, 1]
    assert same["minutes_played"].tolist() == ["1", "2"]  # trusted as already normalized
    subset = normalize_frame(frame, table, columns=["minutes_played", "game_date"])
    assert list(subset.columns) == ["minutes_played", "game_date"]
    assert subset["game_date"].dtype == "datetime64[ns]" and subset["game_date"].isna().all()
    frame.attrs[NORMALIZED_ATTR] = "another.table"
    assert normalize_frame(frame, table)["minutes_played"].tolist() == [1.0, 2.0]


def test_empty_frame_is_cached_but_independent() -> None:
    table = TABLES["nba_analytics.player_game_summary"]
    first = empty_frame(table)
    pd.testing.assert_frame_equal(first, reference_normalize_frame(pd.DataFrame({n: pd.Series([], dtype="object") for n in table.column_names}), table))
    first["points"] = first["points"].astype("object")
    first.attrs["x"] = 1
    second = empty_frame(table)
    assert second["points"].dtype == "float64" and "x" not in second.attrs
    odd = empty_frame(table, ["game_date", "not_in_contract"])
    assert list(odd.columns) == table.column_names + ["not_in_contract"]


def test_normalize_inputs_with_columns() -> None:
    pgs = "nba_analytics.player_game_summary"
    sched = "nba_raw.nbac_schedule"
    out = normalize_inputs({pgs: [{"player_lookup": "a", "points": 3, "game_date": dt.date(2024, 11, 2)}]}, [sched],
                           columns={pgs: ["player_lookup", "points"], sched: ["game_date", "home_team_tricode"]})
    assert list(out[pgs].columns) == ["player_lookup", "points"] and out[pgs]["points"].tolist() == [3.0]
    assert list(out[sched].columns) == ["game_date", "home_team_tricode"] and len(out[sched]) == 0
    plain = normalize_inputs({}, [sched])
    assert list(plain[sched].columns) == TABLES[sched].column_names


def test_read_declared_on_marked_frames_matches_consolidated_selection() -> None:
    """The no-copy assembly gives the same frame as selecting the declared columns, with a fresh
    RangeIndex, without the loader's mark, and independent of the source frame."""
    from types import SimpleNamespace

    from nba_backfill.frames import read_declared

    table = TABLES["nba_analytics.player_game_summary"]
    rng = np.random.default_rng(8)
    source = reference_normalize_frame(sample_frame(table, rng, 40), table)
    source.index = np.arange(40) * 2 + 5  # a block slice: not a RangeIndex from 0
    source.attrs[NORMALIZED_ATTR] = table.name
    wanted = ("player_lookup", "minutes_played", "game_date", "is_active", table.columns[13].name)
    got = read_declared({table.name: source}, [SimpleNamespace(table=table.name, columns=wanted)])[table.name]
    want = reference_normalize_frame(source.reset_index(drop=True), table)[list(wanted) + ["extra_col"]]
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert got.attrs == {} and NORMALIZED_ATTR in source.attrs
    got.loc[0, "minutes_played"] = -1.0
    assert source["minutes_played"].iloc[0] != -1.0
    unmarked = source.copy()
    unmarked.attrs = {}
    again = read_declared({table.name: unmarked}, [SimpleNamespace(table=table.name, columns=wanted)])[table.name]
    pd.testing.assert_frame_equal(again, want, check_exact=True)
