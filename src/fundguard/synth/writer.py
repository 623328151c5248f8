"""Arrow conversions (decimals from integer cents, naive timestamps, dates) and incremental table writers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

AMT = pa.decimal128(18, 2)
PRICE = pa.decimal128(18, 6)
QTY = pa.decimal128(18, 4)
RATIO = pa.decimal128(9, 4)
TS = pa.timestamp("s")
DATE = pa.date32()
STR = pa.string()


def dec(x: np.ndarray, typ: pa.DataType = AMT, mul: int = 1) -> pa.Array:
    """Decimal array from integers already scaled to the type's scale (times ``mul``)."""
    x = np.ascontiguousarray(np.asarray(x, dtype=np.int64) * mul)
    a = np.empty((len(x), 2), dtype=np.int64)
    a[:, 0] = x
    a[:, 1] = -(x < 0).astype(np.int64)
    return pa.Array.from_buffers(typ, len(x), [None, pa.py_buffer(a)])


class Clock:
    def __init__(self, year: int) -> None:
        self.y0 = dt.date(year, 1, 1)
        self.base_s = int((dt.datetime(year, 1, 1) - dt.datetime(1970, 1, 1)).total_seconds())
        self.base_d = (self.y0 - dt.date(1970, 1, 1)).days

    def ts(self, secs: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
        return pa.array(np.asarray(secs, np.int64) + self.base_s, TS, mask=mask)

    def date(self, days: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
        return pa.array((np.asarray(days, np.int64) + self.base_d).astype(np.int32), DATE, mask=mask)


def sid(prefix: str, seq: np.ndarray, width: int) -> pa.Array:
    s = pc.utf8_lpad(pa.array(np.asarray(seq, np.int64)).cast(STR), width, "0")
    return pc.binary_join_element_wise(prefix, s, "")


def strs(values, idx: np.ndarray | None = None) -> pa.Array:
    """String column; with idx, values is a small dictionary taken by index (-1 gives null)."""
    if idx is None:
        return pa.array(values, STR)
    idx = np.asarray(idx)
    d = pa.array(list(values) if not isinstance(values, pa.Array) else values, STR) if not isinstance(values, pa.Array) else values
    if (idx < 0).any():
        return d.take(pa.array(idx, mask=idx < 0))
    return d.take(pa.array(idx))


def const(v: str, n: int) -> pa.Array:
    return pa.array([v], STR).take(pa.array(np.zeros(n, np.int64)))


class Sink:
    """One writer per table; tables are written in row groups as chunks arrive."""

    def __init__(self, out_dir: Path, fmt: str) -> None:
        self.dir = Path(out_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.fmt = fmt
        self.writers: dict[str, object] = {}
        self.schemas: dict[str, pa.Schema] = {}
        self.rows: dict[str, int] = {}

    def path(self, name: str) -> Path:
        return self.dir / f"{name}.{self.fmt}"

    def write(self, name: str, table: pa.Table) -> None:
        if name not in self.writers:
            self.schemas[name] = table.schema
            p = self.path(name)
            if p.exists():
                p.unlink()
            if self.fmt == "parquet":
                self.writers[name] = pq.ParquetWriter(p, table.schema, compression="zstd", compression_level=1,
                                                      store_decimal_as_integer=True, write_statistics=True)
            else:
                self.writers[name] = pcsv.CSVWriter(p, table.schema,
                                                    write_options=pcsv.WriteOptions(include_header=True, quoting_style="needed"))
            self.rows[name] = 0
        table = table.cast(self.schemas[name])
        if self.fmt == "parquet":
            self.writers[name].write_table(table, row_group_size=1 << 20)
        else:
            self.writers[name].write_table(table)
        self.rows[name] += table.num_rows

    def close(self) -> None:
        for w in self.writers.values():
            w.close()
        self.writers.clear()
