"""Value rules of the table contract: half-away-from-zero rounding and the canonical data_hash.

The reference rule (spec §1.7) is decimal: `Decimal(repr(x)).quantize(10**-s, ROUND_HALF_UP)`.
Doing that per value is slow, so every entry point first rounds in binary floating point and
falls back to the exact decimal rule only where binary arithmetic could disagree with it:

- `y = |x| * 10**s` (10**s is exact for s <= 22) differs from the exact `D * 10**s`, where D
  is the shortest repr of x, by less than 1.5 ulp(y) (|D - x| <= ulp(x)/2 and the product
  adds another half ulp). So when the fractional part of y is more than 4 ulp(y) away from
  .5, y and D * 10**s fall on the same side of the tie and round to the same integer k.
- `k / 10**s` is then the correctly rounded value of the decimal k * 10**-s, exactly what
  `float(Decimal)` returns, provided k is exact (|y| < 2**51 guarantees it).
Everything else (near-ties, huge values, inf, scales above 22) takes the decimal path.
`serialize` / `hash_values` stay the scalar reference; `data_hash_column` is their vectorized,
memoized equivalent.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import pandas as pd

from nba_backfill.tables import TableSpec

_MAX_FAST_SCALE = 22  # 10.0**s is exact up to here
_POW10 = tuple(10.0**s for s in range(_MAX_FAST_SCALE + 1))
_FAST_LIMIT = 2.0**51  # below this, floor(y) and k are exact integers in float64
_TIE_ULPS = 4.0  # margin around .5 (the worst binary/decimal gap is < 1.5 ulp)
#: pandas nullable numeric dtypes, whose float64 conversion equals float() of each value
_MASKED = (pd.BooleanDtype, pd.Float32Dtype, pd.Float64Dtype, pd.Int8Dtype, pd.Int16Dtype, pd.Int32Dtype,
           pd.Int64Dtype, pd.UInt8Dtype, pd.UInt16Dtype, pd.UInt32Dtype, pd.UInt64Dtype)


def is_null(value: Any) -> bool:
    """NULL or NaN (or pandas NA/NaT): the contract treats them alike."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    try:
        return bool(pd.isna(value)) if not isinstance(value, (list, tuple, dict)) else False
    except (TypeError, ValueError):
        return False


def _round_exact(x: float, scale: int) -> float:
    """The reference decimal rule for one non-null float (inf passes through)."""
    if math.isinf(x):
        return x
    q = Decimal(repr(x)).quantize(Decimal(10) ** -scale, rounding=ROUND_HALF_UP)
    out = float(q)
    return 0.0 if out == 0 else out


def round_half_away(value: Any, scale: int) -> float | None:
    """Round a float64 half away from zero at `scale` decimals via its shortest repr (spec §1.7)."""
    if is_null(value):
        return None
    x = float(value)
    if 0 <= scale <= _MAX_FAST_SCALE:
        p = _POW10[scale]
        y = abs(x) * p
        if y < _FAST_LIMIT:
            fl = math.floor(y)
            frac = y - fl
            if abs(frac - 0.5) > _TIE_ULPS * math.ulp(y):
                r = (fl + (frac > 0.5)) / p
                return (-r if x < 0 else r) + 0.0
    return _round_exact(x, scale)


def _fast_k(x: np.ndarray, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """|x| rounded half away at `scale` as integer-valued floats, and where that is not proven exact."""
    if not 0 <= scale <= _MAX_FAST_SCALE:
        return np.zeros(len(x)), np.ones(len(x), dtype=bool)
    with np.errstate(invalid="ignore", over="ignore"):
        y = np.abs(x) * _POW10[scale]
        fl = np.floor(y)
        frac = y - fl
        safe = (y < _FAST_LIMIT) & (np.abs(frac - 0.5) > _TIE_ULPS * np.spacing(y))
    return fl + (frac > 0.5), ~safe


def round_half_away_array(values: Any, scale: int) -> np.ndarray:
    """round_half_away over an array-like of numbers: float64 result, NaN for NULL (bit-identical)."""
    x = _as_float_array(values)
    k, slow = _fast_k(x, scale)
    with np.errstate(invalid="ignore"):
        r = k / _POW10[scale] if 0 <= scale <= _MAX_FAST_SCALE else k
        out = np.where(x < 0, -r, r) + 0.0
    slow &= ~np.isnan(x)
    for i in np.flatnonzero(slow):
        out[i] = _round_exact(float(x[i]), scale)
    out[np.isnan(x)] = np.nan
    return out


def _as_float_array(values: Any) -> np.ndarray:
    """float64 copy of numbers as `float(v)` would give them, NaN for NULL (objects one by one)."""
    if isinstance(values, pd.Series | pd.Index):
        dtype = values.dtype
        if isinstance(dtype, np.dtype) and dtype.kind in "fiub":
            return values.to_numpy(dtype="float64", copy=True)
        if isinstance(dtype, _MASKED):
            return values.to_numpy(dtype="float64", na_value=np.nan)
        values = values.to_numpy(dtype=object)
    arr = np.asarray(values)
    if arr.dtype.kind in "fiub":
        return arr.astype("float64")
    return np.array([np.nan if is_null(v) else float(v) for v in arr.ravel()], dtype="float64")


def round_series(series: pd.Series, scale: int) -> pd.Series:
    """round_half_away over a Series (object-free float64 result, NaN for NULL)."""
    return pd.Series(round_half_away_array(series, scale), index=series.index, dtype="float64")


def round_numeric_columns(rows: pd.DataFrame, table: TableSpec) -> pd.DataFrame:
    """Round every NUMERIC column of `rows` to its contract scale (a copy)."""
    if not rows.columns.is_unique:
        out = rows.copy()
        for col in table.columns:
            scale = col.numeric_scale
            if scale is not None and col.name in out.columns and not col.repeated:
                out[col.name] = round_series(out[col.name], scale)
        return out
    present = set(rows.columns)
    rounded = {
        col.name: round_half_away_array(rows[col.name], col.numeric_scale)
        for col in table.columns
        if col.numeric_scale is not None and col.name in present and not col.repeated
    }
    return rows.assign(**rounded) if rounded else rows.copy()


def _fmt_fixed(value: Any, scale: int) -> str:
    q = Decimal(repr(float(value))).quantize(Decimal(10) ** -scale, rounding=ROUND_HALF_UP)
    if q == 0:
        q = abs(q)
    return f"{q:.{scale}f}"


def serialize(value: Any, col_type: str) -> str:
    """Canonical text of one value for data_hash (spec §1.11), by contract type (the reference)."""
    if isinstance(value, (list, tuple)) or (hasattr(value, "tolist") and not isinstance(value, str) and col_type.startswith("ARRAY<")):
        elem_type = col_type[len("ARRAY<") : -1] if col_type.startswith("ARRAY<") else col_type
        items = list(value.tolist() if hasattr(value, "tolist") else value)
        return ",".join(serialize(v, elem_type) for v in items)
    if is_null(value):
        return ""
    base = col_type.split("(")[0]
    if base == "NUMERIC":
        scale = int(col_type.split(",")[1].rstrip(")").strip())
        return _fmt_fixed(value, scale)
    if base == "FLOAT64":
        return _fmt_fixed(value, 6)
    if base in ("BOOL", "BOOLEAN"):
        return "true" if bool(value) else "false"
    if base == "INT64":
        return str(int(value))
    if base == "DATE":
        if isinstance(value, (dt.datetime, pd.Timestamp)):
            return value.date().isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        return str(value)[:10]
    return str(value)


def hash_values(values: Sequence[Any], types: Sequence[str]) -> str:
    """First 16 hex chars of SHA-256 over the '|'-joined canonical values (the reference)."""
    text = "|".join(serialize(v, t) for v, t in zip(values, types, strict=True))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# --- vectorized serialization (identical text to `serialize`, value by value) ---------------

_FAST_NUMBER = (float, int, np.floating, np.integer)


def _fixed_scale(col_type: str) -> int | None:
    base = col_type.split("(")[0]
    if base == "NUMERIC":
        return int(col_type.split(",")[1].rstrip(")").strip())
    return 6 if base == "FLOAT64" else None


def _fixed_text(x: float, scale: int) -> str:
    """`_fmt_fixed` of one float ("" for NaN) by the binary shortcut where it is proven exact."""
    if x != x:
        return ""
    if 0 <= scale <= _MAX_FAST_SCALE:
        y = abs(x) * _POW10[scale]
        if y < _FAST_LIMIT:
            fl = math.floor(y)
            frac = y - fl
            if abs(frac - 0.5) > _TIE_ULPS * math.ulp(y):
                k = fl + (frac > 0.5)
                return _int_texts([-k if x < 0 else k], scale)[0]
    return _fmt_fixed(x, scale)


_SMALL = 64  # below this many values a Python loop beats the fixed cost of the numpy path


def _fixed_texts(x: np.ndarray, scale: int) -> np.ndarray:
    """Texts of `_fmt_fixed` for float64 values ("" for NaN), each distinct value formatted once."""
    if len(x) < _SMALL:
        return np.array([_fixed_text(v, scale) for v in x.tolist()], dtype=object)
    out = np.full(len(x), "", dtype=object)
    k, slow = _fast_k(x, scale)
    nan = np.isnan(x)
    fast = ~slow & ~nan
    if fast.any():
        signed = np.where(x[fast] < 0, -k[fast], k[fast]).astype("int64")
        inverse, uniq = pd.factorize(signed)  # hashing: several times faster than np.unique's sort
        out[fast] = np.array(_scaled_texts(uniq, scale), dtype=object)[inverse]
    for i in np.flatnonzero(slow & ~nan):
        out[i] = _fmt_fixed(x[i], scale)
    return out


def _int_texts(ks: list[int], scale: int) -> list[str]:
    """Each k * 10**-scale written with exactly `scale` decimals (k == 0 has no sign)."""
    if scale == 0:
        return [str(k) for k in ks]
    p, w = 10**scale, scale
    return [f"-{-k // p}.{-k % p:0{w}d}" if k < 0 else f"{k // p}.{k % p:0{w}d}" for k in ks]


def _scaled_texts(ks: np.ndarray, scale: int) -> list[str]:
    """`_int_texts` of int64 values |k| < 2**51, through C float formatting: k / 10**s is the float
    nearest k * 10**-s, less than a quarter step 10**-s away, so '%.sf' prints exactly k * 10**-s
    (and 0 as unsigned 0.000)."""
    if scale == 0:
        return list(map(str, ks.tolist()))
    return list(map(f"%.{scale}f".__mod__, (ks / _POW10[scale]).tolist()))


def _number_texts(values: np.ndarray, col_type: str, scale: int) -> list[str]:
    """Fixed-point texts of an object column: plain numbers vectorized, anything else by `serialize`."""
    if set(map(type, values)) <= {float, int}:  # plain numbers: float(v) of each, in one cast
        return _fixed_texts(values.astype("float64"), scale).tolist()
    x = np.full(len(values), np.nan)
    other: list[int] = []
    for i, v in enumerate(values):
        if isinstance(v, _FAST_NUMBER):
            x[i] = float(v)
        elif v is not None:
            other.append(i)
    out = _fixed_texts(x, scale)
    for i in other:
        out[i] = serialize(values[i], col_type)
    return out.tolist()


def _memo_texts(values: Iterable[Any], col_type: str, memo_types: tuple[type, ...] | None = None) -> list[str]:
    """`serialize` per value, memoized on (type, value, tzinfo) where equal keys give equal text.

    INT64/BOOL text depends only on int()/bool() of the value, so any hashable value may be
    memoized; DATE text only for date-like values (a float's str differs for 0.0 and -0.0).
    """
    memo: dict[Any, str] = {}
    out: list[str] = []
    for v in values:
        if memo_types is not None and not isinstance(v, memo_types):
            out.append(serialize(v, col_type))
            continue
        try:
            key = (type(v), v, getattr(v, "tzinfo", None)) if memo_types else (type(v), v)
            text = memo.get(key)
            if text is None:
                text = memo[key] = serialize(v, col_type)
        except TypeError:  # unhashable
            text = serialize(v, col_type)
        out.append(text)
    return out


def _plain_texts(values: list[Any], col_type: str) -> list[str]:
    """INT64/BOOL texts of plain Python numbers (numpy `tolist()`), each distinct value serialized once.

    Equal numbers give equal text here (0.0 and -0.0 too: int() and bool() ignore the sign).
    """
    memo: dict[Any, str] = {}
    out: list[str] = []
    for v in values:
        text = memo.get(v)
        if text is None:
            text = memo[v] = serialize(v, col_type)
        out.append(text)
    return out


def _date_texts(values: np.ndarray) -> list[str] | None:
    """ISO dates of naive datetime64 values ("" for NaT), as Timestamp.date().isoformat() writes
    them, or None outside years 1000-9999 (where the two could disagree on padding)."""
    days = values.astype("datetime64[D]")
    valid = ~np.isnat(days)
    years = days[valid].astype("datetime64[Y]").astype("int64") + 1970
    if len(years) and (years.min() < 1000 or years.max() > 9999):
        return None
    texts = np.datetime_as_string(days, unit="D").astype(object)
    texts[~valid] = ""
    return texts.tolist()


_SIGNED_MASKED = (pd.Int8Dtype, pd.Int16Dtype, pd.Int32Dtype, pd.Int64Dtype)


def _factorized_texts(series: pd.Series, col_type: str) -> list[str]:
    """INT64/BOOL texts of a numeric column: each distinct value serialized once (NULL -> "")."""
    if col_type.split("(")[0] == "INT64" and isinstance(series.dtype, _SIGNED_MASKED):
        missing = series.isna().to_numpy()  # signed integers: the text is str(int(v))
        inverse, uniq = pd.factorize(series.to_numpy(dtype="int64", na_value=0))
        texts = np.array(list(map(str, uniq.tolist())) + [""], dtype=object)
        return texts[np.where(missing, len(uniq), inverse)].tolist()
    codes, uniques = pd.factorize(series)
    texts = np.array([serialize(v, col_type) for v in uniques] + [""], dtype=object)
    return texts[codes].tolist()  # code -1 (NULL) picks the trailing ""


def _array_texts(values: Sequence[Any], col_type: str) -> list[str]:
    """ARRAY column: all elements serialized together by element type, then joined per row with ','."""
    elem_type = col_type[len("ARRAY<") : -1]
    flat: list[Any] = []
    spans: list[tuple[int, int] | str] = []
    for v in values:
        if isinstance(v, (list, tuple)):
            items = v
        elif hasattr(v, "tolist") and not isinstance(v, str):
            items = v.tolist()
        else:
            spans.append(serialize(v, col_type))
            continue
        start = len(flat)
        flat.extend(items)
        spans.append((start, len(flat)))
    kinds, scale = set(map(type, flat)), _fixed_scale(elem_type)
    if kinds <= {str} and elem_type in ("STRING", "JSON"):  # every element is its own text
        texts = flat
    elif kinds <= {float, int} and scale is not None:  # plain numbers: float(v) of each, in one cast
        texts = _fixed_texts(np.array(flat, dtype="float64"), scale).tolist() if flat else []
    else:
        texts = serialize_column(pd.Series(flat, dtype=object), elem_type) if flat else []
    return [s if isinstance(s, str) else ",".join(texts[s[0] : s[1]]) for s in spans]


def serialize_column(values: pd.Series | Sequence[Any], col_type: str) -> list[str]:
    """`serialize(v, col_type)` for every value of a column, vectorized per type (identical text)."""
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    if col_type.startswith("ARRAY<"):
        return _array_texts(list(series), col_type)
    scale = _fixed_scale(col_type)
    dtype = series.dtype
    if scale is not None:
        if isinstance(dtype, _MASKED) or (isinstance(dtype, np.dtype) and dtype.kind in "fiub"):
            return _fixed_texts(_as_float_array(series), scale).tolist()
        return _number_texts(series.to_numpy(dtype=object), col_type, scale)
    base = col_type.split("(")[0]
    if base in ("INT64", "BOOL", "BOOLEAN"):
        if isinstance(dtype, np.dtype) and dtype.kind in "iu" and base == "INT64":  # str(int(v)) per distinct value
            inverse, uniq = pd.factorize(series.to_numpy())
            return np.array(list(map(str, uniq.tolist())), dtype=object)[inverse].tolist()
        if isinstance(dtype, np.dtype) and dtype.kind in "fiub":
            return _plain_texts(series.to_numpy().tolist(), col_type)
        if dtype != object and isinstance(dtype, _MASKED):
            return _factorized_texts(series, col_type)
        return _memo_texts(series.to_numpy(dtype=object) if dtype == object else series, col_type)
    if base == "DATE":
        if isinstance(dtype, np.dtype) and dtype.kind == "M":
            texts = _date_texts(series.to_numpy())
            if texts is not None:
                return texts
        return _memo_texts(series.to_numpy(dtype=object) if dtype == object else series, col_type, (dt.date,))
    if base in ("STRING", "JSON"):  # to_numpy gives the same objects as iteration, much faster
        objects = series.to_numpy(dtype=object)
        if set(map(type, objects)) <= {str}:  # every value is its own text
            return objects.tolist()
        return [v if type(v) is str else "" if v is None else serialize(v, col_type) for v in objects]
    return [serialize(v, col_type) for v in series]


def data_hash_column(rows: pd.DataFrame, table: TableSpec, fields: Iterable[str]) -> pd.Series:
    """data_hash for every row of `rows` (already rounded) over `fields` in order."""
    fields = list(fields)
    if not rows.columns.is_unique:
        frame = rows.reindex(columns=fields)  # raises like before on duplicate labels
        columns = {name: col for name, col in frame.items()}
    else:
        present = set(rows.columns.tolist())
        columns = {f: rows[f] for f in fields if f in present}
    return pd.Series(data_hashes(columns, table, fields, len(rows)), index=rows.index, dtype="object")


def data_hashes(columns: Mapping[str, pd.Series | np.ndarray], table: TableSpec, fields: Sequence[str], n: int) -> list[str]:
    """data_hash of n rows given as columns (Series or numpy arrays of length n; a missing field is NULL).

    Fixed-point fields with a numeric dtype are serialized together per scale: one vectorized
    pass instead of a Python loop per small column (same text value by value). A float64 array
    of a fixed-point field joins its scale's batch without a pandas round trip; an object array
    holds the lists of an ARRAY field.
    """
    types = [table.column(f).type for f in fields]
    texts: list[list[str] | None] = [None] * len(fields)
    batches: dict[int, list[tuple[int, np.ndarray]]] = {}
    for i, (field, col_type) in enumerate(zip(fields, types, strict=True)):
        values = columns.get(field)
        scale = None if col_type.startswith("ARRAY<") else _fixed_scale(col_type)
        if values is None:
            if scale is None:  # what a reindexed (all-NaN float) column serializes to
                texts[i] = serialize_column(pd.Series(np.full(n, np.nan)), col_type)
                continue
            batches.setdefault(scale, []).append((i, np.full(n, np.nan)))
        elif isinstance(values, np.ndarray):
            if scale is not None and values.dtype.kind in "fiub":
                batches.setdefault(scale, []).append((i, values.astype("float64", copy=False)))
            elif col_type.startswith("ARRAY<") and values.dtype == object:
                texts[i] = _array_texts(values.tolist(), col_type)
            else:
                texts[i] = serialize_column(pd.Series(values, dtype=values.dtype), col_type)
        elif scale is not None and (isinstance(values.dtype, _MASKED) or (isinstance(values.dtype, np.dtype) and values.dtype.kind in "fiub")):
            batches.setdefault(scale, []).append((i, _as_float_array(values)))
        else:
            texts[i] = serialize_column(values, col_type)
    for scale, parts in batches.items():
        flat = _fixed_texts(np.concatenate([x for _, x in parts]), scale).tolist()
        for j, (i, _) in enumerate(parts):
            texts[i] = flat[j * n : (j + 1) * n]
    joined = ["|".join(row) for row in zip(*texts, strict=True)] if texts else [""] * n
    return [hashlib.sha256(t.encode("utf-8")).hexdigest()[:16] for t in joined]
