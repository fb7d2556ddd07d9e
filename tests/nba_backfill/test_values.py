"""The vectorized rounding and hashing give exactly what the scalar decimal rule gives (spec §1.7, §1.11)."""
from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import math
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pytest

from nba_backfill.tables import TABLES, Column, TableSpec
from nba_backfill.values import (
    data_hash_column,
    hash_values,
    round_half_away,
    round_half_away_array,
    round_numeric_columns,
    round_series,
    serialize,
    serialize_column,
)

SPEC_TIES = [0.5625, 40.625, 1.75, -1.25, -6.75, 7.424999999999999, 2.675, 1e-10, -1e-10, 0.0, -0.0, 0.5, -0.5, 2.5]


def reference_round(value: object, scale: int) -> float:
    """The spec's rule, verbatim: Decimal(repr(x)).quantize(10**-s, ROUND_HALF_UP); -0 -> 0; NULL -> NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return math.nan
    x = float(value)
    if math.isinf(x):
        return x
    out = float(Decimal(repr(x)).quantize(Decimal(10) ** -scale, rounding=ROUND_HALF_UP))
    return 0.0 if out == 0 else out


def bits(values: np.ndarray) -> np.ndarray:
    """float64 bit patterns, so -0.0 vs 0.0 and every last bit count."""
    return np.ascontiguousarray(values, dtype="float64").view("int64")


def random_values(rng: np.random.Generator, n: int, scale: int) -> list[float]:
    """Floats built to sit on, next to and away from the decimal ties at `scale` (and at other scales)."""
    out: list[float] = []
    for _ in range(n):
        kind = rng.integers(0, 7)
        s = int(rng.integers(0, 8)) if kind == 0 else scale
        mag = 10.0 ** int(rng.integers(0, 9))
        k = float(rng.integers(-int(mag), int(mag) + 1))
        if kind in (0, 1):  # exact decimal ties, e.g. 40.625 at scale 2
            out.append(float(repr((k + 0.5) / 10**s)))
        elif kind == 2:  # one ulp either side of a tie
            tie = (k + 0.5) / 10**s
            out.append(float(np.nextafter(tie, np.inf if rng.random() < 0.5 else -np.inf)))
        elif kind == 3:  # short decimals with a trailing 5 at an arbitrary digit
            digits = int(rng.integers(1, 12))
            out.append(float(f"{k / 10 ** digits:.{digits}f}5"))
        elif kind == 4:  # arithmetic results like -0.25 + 7.199999999999999 - 1.25 + 1.7249999999999999
            a, b, c = rng.normal(0, 50, 3)
            out.append(float(a / (abs(b) + 1) * 100 + c))
        elif kind == 5:  # wide magnitude range, tiny to very large
            out.append(float(rng.choice([-1, 1]) * 10.0 ** rng.uniform(-12, 17)))
        else:
            out.append(float(np.round(rng.normal(0, 1000), int(rng.integers(0, 8)))))
    return out


@pytest.mark.parametrize("scale", [0, 1, 2, 3, 4, 6, 10])
def test_array_rounding_is_bit_identical_to_the_decimal_rule(scale: int) -> None:
    rng = np.random.default_rng(1000 + scale)
    values = random_values(rng, 20_000, scale) + SPEC_TIES + [math.nan, math.inf, -math.inf, 2.0**52 + 1, 123456789012.345]
    expected = np.array([reference_round(v, scale) for v in values])
    got = round_half_away_array(np.array(values), scale)
    assert np.array_equal(bits(got), bits(expected))
    scalar = np.array([math.nan if (r := round_half_away(v, scale)) is None else r for v in values])
    assert np.array_equal(bits(scalar), bits(expected))


def test_spec_examples() -> None:
    got = round_half_away_array([0.5625, 40.625, 1.75, -1.25, -6.75, 7.424999999999999, 2.675], 0)
    assert list(got) == [1.0, 41.0, 2.0, -1.0, -7.0, 7.0, 3.0]
    assert list(round_series(pd.Series([0.5625]), 3)) == [0.563]
    assert list(round_series(pd.Series([40.625, 7.424999999999999, 2.675]), 2)) == [40.63, 7.42, 2.68]
    assert list(round_series(pd.Series([1.75, -1.25, -6.75]), 1)) == [1.8, -1.3, -6.8]


def test_negative_zero_and_nulls() -> None:
    got = round_series(pd.Series([-1e-10, -0.0, None, math.nan, -0.04], dtype="object"), 1)
    assert got.dtype == "float64"
    assert [math.copysign(1, v) for v in got.iloc[[0, 1, 4]]] == [1.0, 1.0, 1.0]
    assert got.iloc[[2, 3]].isna().all()
    assert round_half_away(-0.0001, 2) == 0.0 and math.copysign(1, round_half_away(-0.0001, 2)) == 1.0
    assert round_half_away(None, 2) is None


def test_input_kinds_convert_like_float() -> None:
    values = [Decimal("1.005"), 2, True, "3.14159", None, pd.NA, np.float32(0.1), np.int64(7)]
    expected = np.array([reference_round(None if v is pd.NA else v, 2) for v in values])
    assert np.array_equal(bits(round_series(pd.Series(values, dtype="object"), 2).to_numpy()), bits(expected))
    masked = pd.Series([1.005, None, -2.5], dtype="Float64")
    assert np.array_equal(bits(round_series(masked, 2).to_numpy()), bits(np.array([reference_round(1.005, 2), np.nan, -2.5])))


def test_values_beyond_decimal_precision_fail_like_the_reference() -> None:
    with pytest.raises(decimal.InvalidOperation):
        Decimal(repr(1e30)).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
    with pytest.raises(decimal.InvalidOperation):
        round_half_away_array([1.5, 1e30], 3)


def reference_round_numeric_columns(rows: pd.DataFrame, table: TableSpec) -> pd.DataFrame:
    out = rows.copy()
    for col in table.columns:
        if col.numeric_scale is not None and col.name in out.columns and not col.repeated:
            out[col.name] = pd.Series([reference_round(v, col.numeric_scale) for v in out[col.name]], index=out.index, dtype="float64")
    return out


def test_round_numeric_columns_matches_reference() -> None:
    table = TABLES["nba_precompute.team_defense_zone_analysis"]
    rng = np.random.default_rng(7)
    rows = pd.DataFrame({c.name: random_values(rng, 40, 2) for c in table.columns if c.numeric_scale is not None})
    rows["team_abbr"] = "BOS"
    rows.index = rng.permutation(40) + 100
    pd.testing.assert_frame_equal(round_numeric_columns(rows, table), reference_round_numeric_columns(rows, table), check_exact=True)


# --- serialization and data_hash ------------------------------------------------------------------

TYPES = ["NUMERIC(5,3)", "NUMERIC(6,2)", "NUMERIC(4,1)", "NUMERIC(10,0)", "FLOAT64", "INT64", "BOOLEAN", "BOOL",
         "DATE", "STRING", "JSON", "TIMESTAMP", "ARRAY<STRING>", "ARRAY<FLOAT64>", "ARRAY<INT64>"]


def random_column(rng: np.random.Generator, col_type: str, n: int) -> list[pd.Series]:
    """Several Series of the same logical values in the dtypes processors produce."""
    nulls = rng.random(n) < 0.15
    if col_type.startswith(("NUMERIC", "FLOAT64")):
        floats = np.array(random_values(rng, n, 3))
        floats[rng.random(n) < 0.05] = -0.0
        floats[nulls] = np.nan
        objects = [None if m else (Decimal(repr(float(v))) if i % 3 == 0 else (int(v) if i % 3 == 1 and abs(v) < 1e15 else float(v)))
                   for i, (v, m) in enumerate(zip(floats, nulls))]
        return [pd.Series(floats), pd.Series(objects, dtype="object"), pd.Series(floats, dtype="Float64")]
    if col_type == "INT64":
        ints = rng.integers(-50, 50, n)
        floats = ints.astype("float64")
        floats[nulls] = np.nan
        return [pd.Series(ints), pd.Series(floats), pd.Series(pd.array(np.where(nulls, None, ints).tolist(), dtype="Int64")),
                pd.Series([None if m else int(v) for v, m in zip(ints, nulls)], dtype="object")]
    if col_type in ("BOOLEAN", "BOOL"):
        flags = rng.random(n) < 0.5
        return [pd.Series(flags), pd.Series(pd.array(np.where(nulls, None, flags).tolist(), dtype="boolean")),
                pd.Series([None if m else bool(v) for v, m in zip(flags, nulls)], dtype="object"),
                pd.Series(np.where(nulls, np.nan, flags.astype(float)))]
    if col_type == "DATE":
        days = pd.to_datetime("2024-10-22") + pd.to_timedelta(rng.integers(0, 200, n), unit="D")
        stamps = pd.Series(days).where(~nulls)
        return [stamps, stamps.astype("datetime64[s]"), pd.Series([None if m else d.date() for d, m in zip(days, nulls)], dtype="object"),
                pd.Series([None if m else d.isoformat() for d, m in zip(days, nulls)], dtype="object"),
                pd.Series(days.tz_localize("US/Eastern")).where(~nulls)]
    if col_type in ("STRING", "JSON"):
        words = np.array(["BOS", "paint", "", " a b ", "Ünïcode", "x|y", "1.0"], dtype=object)[rng.integers(0, 7, n)]
        words = np.where(nulls, None, words)
        mixed = [1.5 if i % 11 == 0 else (-0.0 if i % 13 == 0 else w) for i, w in enumerate(words)]
        return [pd.Series(words, dtype="object"), pd.Series(words, dtype="str"), pd.Series(mixed, dtype="object")]
    if col_type == "TIMESTAMP":
        stamps = pd.Series(pd.to_datetime(rng.integers(1.70e18, 1.72e18, n), utc=True)).where(~nulls)
        return [stamps]
    elem = col_type[len("ARRAY<") : -1]
    arrays: list[object] = []
    for i in range(n):
        size = int(rng.integers(0, 5))
        if elem == "STRING":
            items: list[object] = [str(w) for w in rng.choice(["own_data_incomplete", "missing_zone_data", "a,b"], size)]
        elif elem == "INT64":
            items = [int(v) for v in rng.integers(-9, 9, size)]
        else:
            items = random_values(rng, size, 6) + ([None, math.nan, -0.0] if i % 7 == 0 else [])
        arrays.append(None if nulls[i] else (np.array(items, dtype=object) if i % 5 == 0 else (tuple(items) if i % 5 == 1 else items)))
    return [pd.Series(arrays, dtype="object")]


@pytest.mark.parametrize("col_type", TYPES)
def test_serialize_column_matches_scalar_serialize(col_type: str) -> None:
    rng = np.random.default_rng(abs(hash(col_type)) % 2**32)
    for n in (5, 300):  # both the small-frame loop and the vectorized path
        for series in random_column(rng, col_type, n):
            assert serialize_column(series, col_type) == [serialize(v, col_type) for v in series], (col_type, series.dtype)


def test_fixed_point_text_examples() -> None:
    assert serialize_column(pd.Series([0.4, -1.0, 15.0, -0.0, -0.0004, 0.5625, None]), "NUMERIC(5,3)")[:1] == ["0.400"]
    assert serialize_column(pd.Series([-1.0, -0.001, 2.675] * 30), "NUMERIC(5,2)")[:3] == ["-1.00", "0.00", "2.68"]
    assert serialize_column(pd.Series([0.1659745]), "FLOAT64") == ["0.165975"]


def reference_data_hash_column(rows: pd.DataFrame, table: TableSpec, fields: list[str]) -> pd.Series:
    types = [table.column(f).type for f in fields]
    records = rows.reindex(columns=fields).itertuples(index=False, name=None)
    return pd.Series([hash_values(r, types) for r in records], index=rows.index, dtype="object")


def test_data_hash_column_matches_row_by_row_hash() -> None:
    rng = np.random.default_rng(42)
    for n in (3, 250):
        columns = {}
        for i, col_type in enumerate(TYPES):
            variants = random_column(rng, col_type, n)
            for j, series in enumerate(variants):
                columns[f"c{i}_{j}"] = (col_type, series)
        table = TableSpec("t.t", tuple(Column(name, col_type) for name, (col_type, _) in columns.items()))
        rows = pd.DataFrame({name: s for name, (_, s) in columns.items()})
        rows.index = rng.permutation(n) * 3
        fields = list(columns)
        rng.shuffle(fields)
        got = data_hash_column(rows, table, fields)
        pd.testing.assert_series_equal(got, reference_data_hash_column(rows, table, fields))


def test_data_hash_worked_example() -> None:
    """Spec §1.11: the BOS row of Example A hashes to 25063b8c208b380e."""
    text = ("BOS|2024-12-20|0.563|37.3|42.3|1.9|-1.75|0.400|20.0|1.0|-1.00|0.343|35.0|0.0|-1.21|112.14|111.0|99.2|15|"
            "paint|mid_range|high|League averages defaulted (0/10 teams qualified)")
    assert hashlib.sha256(text.encode()).hexdigest()[:16] == "25063b8c208b380e"
    parts = text.split("|")
    types = ["STRING", "DATE", "NUMERIC(5,3)", "NUMERIC(5,1)", "NUMERIC(5,1)", "NUMERIC(5,1)", "NUMERIC(5,2)", "NUMERIC(5,3)",
             "NUMERIC(5,1)", "NUMERIC(5,1)", "NUMERIC(5,2)", "NUMERIC(5,3)", "NUMERIC(5,1)", "NUMERIC(5,1)", "NUMERIC(5,2)",
             "NUMERIC(6,2)", "NUMERIC(6,1)", "NUMERIC(5,1)", "INT64", "STRING", "STRING", "STRING", "STRING"]
    values: list[object] = [parts[0], dt.date(2024, 12, 20)] + [float(p) for p in parts[2:18]] + [15] + parts[19:]
    names = [f"f{i}" for i in range(len(types))]
    table = TableSpec("t.t", tuple(Column(n, t) for n, t in zip(names, types)))
    rows = pd.DataFrame([values], columns=names)
    assert list(data_hash_column(rows, table, names)) == ["25063b8c208b380e"]


def test_missing_hash_field_and_no_fields() -> None:
    table = TableSpec("t.t", (Column("a", "STRING"), Column("b", "NUMERIC(5,2)")))
    rows = pd.DataFrame({"a": ["x", None]})
    pd.testing.assert_series_equal(data_hash_column(rows, table, ["a", "b"]), reference_data_hash_column(rows, table, ["a", "b"]))
    assert list(data_hash_column(rows, table, [])) == [hash_values((), ())] * 2


# --- finalize_rows: block rounding, array columns and hashing against the reference rules ---------


@pytest.mark.parametrize("scale", [0, 1, 2, 3, 6, 10])
def test_fixed_text_near_the_exact_integer_limit(scale: int) -> None:
    """Texts of values with many digits, up to 2**51 scaled (where the fast path ends), match serialize."""
    rng = np.random.default_rng(2000 + scale)
    big = rng.integers(2**40, 2**48, 300) * rng.choice([-1, 1], 300)  # many digits, still on the fast path
    ks = np.concatenate([big, rng.integers(2**50, 2**51, 100), np.arange(-150, 150)])
    values = [float(repr(int(k) / 10**scale)) for k in ks] + [(int(k) + 0.5) / 10**scale for k in ks[:100]]
    col_type = f"NUMERIC(38,{scale})"
    assert serialize_column(pd.Series(values), col_type) == [serialize(v, col_type) for v in values]
    objects = pd.Series(values[:120] + [int(k) for k in ks[-40:]], dtype="object")  # plain numbers in an object column
    assert serialize_column(objects, col_type) == [serialize(v, col_type) for v in objects]


@pytest.mark.parametrize("n", [1, 7, 120])
def test_finalize_rows_matches_reference_round_and_row_hash(n: int) -> None:
    from nba_backfill.finalize import finalize_rows

    columns = (Column("key", "STRING"), Column("a", "NUMERIC(5,3)"), Column("b", "NUMERIC(6,1)"), Column("c", "NUMERIC(5,3)"),
               Column("d", "NUMERIC(9,0)"), Column("e", "NUMERIC(6,2)"), Column("f", "NUMERIC(6,2)"), Column("g", "FLOAT64"),
               Column("h", "INT64"), Column("i", "INT64"), Column("j", "BOOLEAN"), Column("k", "ARRAY<FLOAT64>"),
               Column("l", "ARRAY<STRING>"), Column("m", "NUMERIC(5,2)"), Column("data_hash", "STRING"))
    table = TableSpec("t.t", columns)
    rng = np.random.default_rng(300 + n)
    ints = rng.integers(-40, 40, n)
    rows = pd.DataFrame({
        "l": [["x", "a,b"] if i % 3 else None for i in range(n)],
        "key": pd.Series(rng.choice(["BOS", "x|y", "Ünï"], n), dtype="str"),
        "a": random_values(rng, n, 3), "b": random_values(rng, n, 1), "c": random_values(rng, n, 3),
        "d": random_values(rng, n, 0), "e": pd.Series(random_values(rng, n, 2), dtype="object"),  # not float64
        "f": pd.Series(np.where(rng.random(n) < 0.3, None, random_values(rng, n, 2)), dtype="Float64"),
        "g": random_values(rng, n, 6), "h": ints, "i": pd.array(np.where(ints < -30, None, ints).tolist(), dtype="Int64"),
        "j": rng.random(n) < 0.5, "k": [random_values(rng, 3, 6) if i % 4 else None for i in range(n)],
        "data_hash": None,
    }, index=rng.permutation(n) + 10)  # "m" is missing: an all-NULL float column
    fields = ["key", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m"]
    got = finalize_rows(rows, table, fields)
    plain = rows.assign(f=rows["f"].astype("float64"))  # the reference rule takes NULL as None/NaN, not pd.NA
    want = reference_round_numeric_columns(plain.reindex(columns=table.column_names), table).reset_index(drop=True)
    for name in ("k", "l"):
        want[name] = [v if isinstance(v, list) else [] for v in want[name]]
    types = [table.column(f).type for f in fields]
    want["data_hash"] = pd.Series([hash_values(r, types) for r in want[fields].itertuples(index=False, name=None)], dtype="object")
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    for name in ("a", "b", "c", "d", "e", "f", "m"):
        assert np.array_equal(bits(got[name].to_numpy("float64")), bits(want[name].to_numpy("float64")))
