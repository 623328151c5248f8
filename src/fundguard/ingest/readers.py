"""Stage one input file (CSV, xlsx or Parquet) into the temporary table ``__raw``.

``__raw`` holds a ``__line`` column (the record's line in the file: the header is line 1 for CSV
and xlsx; Parquet rows are numbered from 1) and every column of the table spec found in the file,
as text (CSV, xlsx) or in the file's native type (Parquet). Structural errors (wrong number of
fields, broken quoting) are returned as rejects with their line, never dropped.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from fundguard.errors import IngestError
from fundguard.ingest.encoding import FileFacts, hash_file, inspect_file, read_header_line, transcode_to_utf8
from fundguard.ingest.tables import TableSpec
from fundguard.store.db import quote

FORMATS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".parquet": "parquet"}


@dataclass
class StructuralReject:
    line: int
    record: str
    message: str


@dataclass
class StagedFile:
    """A file ready to scan: ``source`` is a SQL relation yielding ``__line`` and the spec columns."""

    path: Path
    fmt: str
    facts: FileFacts
    columns: dict[str, str]  # spec column -> source type
    ignored: list[str]
    source: str
    structural: list[StructuralReject] = field(default_factory=list)
    cleanup: tempfile.TemporaryDirectory | None = None

    def collect_structural(self, con: duckdb.DuckDBPyConnection) -> list[StructuralReject]:
        """After a full scan of a CSV: its structural rejects, and line numbers corrected around them."""
        if self.fmt != "csv":
            return []
        self.structural = [
            StructuralReject(line=int(r[0]), record=r[1] or "", message=_explain(r[2] or ""))
            for r in con.execute(
                "SELECT line, any_value(csv_line), min(error_type || ': ' || error_message) FROM __rej_errors "
                "GROUP BY line ORDER BY line").fetchall()
        ]
        if self.structural:
            lines = sorted(r.line for r in self.structural)
            thresholds = [line - j for j, line in enumerate(lines, start=1)]
            con.execute("CREATE OR REPLACE TEMP TABLE __thr AS SELECT unnest(?::BIGINT[]) AS t", [thresholds])
            # Accepted row k sits at line k + 1 + #{j : r_j - j <= k}; see docs/data-inputs.md.
            self.source = self.source.replace(
                "__rn + 1 AS __line", "__rn + 1 + (SELECT count(*) FROM __thr WHERE t <= __rn) AS __line", 1)
        return self.structural


def normalise(name: object) -> str:
    return str(name or "").strip().lstrip("\ufeff").strip().lower()


def _match_header(path: Path, spec: TableSpec, header: list[str]) -> tuple[list[str | None], list[str]]:
    """Map each file column to a spec column (None = ignored) and fail on missing required ones."""
    known = set(spec.columns)
    mapped: list[str | None] = []
    seen: set[str] = set()
    ignored: list[str] = []
    for raw in header:
        name = normalise(raw)
        if name in known and name not in seen:
            mapped.append(name)
            seen.add(name)
        else:
            mapped.append(None)
            if name:
                ignored.append(name if name not in seen else f"{name}(重复列)")
    missing = [c for c in spec.required if c not in seen]
    if missing:
        raise IngestError(
            f"文件 {path.name} 缺少必需列：{', '.join(missing)}（表 {spec.name} {spec.title}）", code="FG101")
    return mapped, ignored


def stage(con: duckdb.DuckDBPyConnection, spec: TableSpec, path: Path, *, chunk_rows: int = 100_000,
          facts: FileFacts | None = None) -> StagedFile:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise IngestError(f"文件 {path.name} 的格式不受支持：请使用 csv、xlsx 或 parquet", code="FG102")
    if fmt == "csv":
        return _stage_csv(con, spec, path, facts or inspect_file(path))
    if fmt == "parquet":
        return _stage_parquet(con, spec, path, facts or hash_file(path))
    return _stage_xlsx(con, spec, path, facts or hash_file(path), chunk_rows)


def _sniff_delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (",", "\t", "|", ";")}
    return max(counts, key=counts.get) if any(counts.values()) else ","


def _stage_csv(con, spec: TableSpec, path: Path, facts: FileFacts) -> StagedFile:
    source = path
    tmpdir = None
    if facts.encoding == "gb18030":
        tmpdir = tempfile.TemporaryDirectory(prefix="fg-transcode-")
        try:
            source = transcode_to_utf8(path, Path(tmpdir.name) / "utf8.csv", "gb18030")
        except UnicodeDecodeError as exc:
            tmpdir.cleanup()
            raise IngestError(f"文件 {path.name} 既不是 UTF-8 也不是 GB18030/GBK 编码：{exc}", code="FG103")
    header_line = read_header_line(source, "utf-8-sig")
    if not header_line.strip():
        raise IngestError(f"文件 {path.name} 为空或第 1 行没有表头", code="FG104")
    delim = _sniff_delimiter(header_line)
    header = next(csv.reader(io.StringIO(header_line), delimiter=delim))
    mapped, ignored = _match_header(path, spec, header)
    names = [m if m else f"__ignored_{i}" for i, m in enumerate(mapped)]
    col_struct = "{" + ", ".join(f"'{n}': 'VARCHAR'" for n in names) + "}"
    keep = [m for m in mapped if m]
    src = source.as_posix().replace("'", "''")
    con.execute("DROP TABLE IF EXISTS __rej_errors; DROP TABLE IF EXISTS __rej_scans")
    scan = (
        f"read_csv('{src}', delim='{delim}', quote='\"', escape='\"', header=false, skip=1, "
        f"auto_detect=false, columns={col_struct}, store_rejects=true, rejects_table='__rej_errors', "
        f"rejects_scan='__rej_scans', null_padding=false, parallel=true)"
    )
    select = ", ".join(quote(c) for c in keep)
    sql = f"(SELECT __rn + 1 AS __line, {select} FROM (SELECT row_number() OVER () AS __rn, {select} FROM {scan}))"
    return StagedFile(path, "csv", facts, {c: "VARCHAR" for c in keep}, ignored, sql, cleanup=tmpdir)


_CSV_ERRORS = {
    "MISSING COLUMNS": "列数不足", "TOO MANY COLUMNS": "列数过多", "UNQUOTED VALUE": "引号使用错误",
    "INVALID UNICODE": "含无效字符", "LINE SIZE OVER MAXIMUM": "行过长", "CAST": "无法解析",
}


def _explain(error: str) -> str:
    kind, _, detail = error.partition(": ")
    return f"{_CSV_ERRORS.get(kind, kind)}（{detail}）" if detail else _CSV_ERRORS.get(kind, kind)


def _stage_parquet(con, spec: TableSpec, path: Path, facts: FileFacts) -> StagedFile:
    src = path.as_posix().replace("'", "''")
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{src}')").fetchall()
    except duckdb.Error as exc:
        raise IngestError(f"文件 {path.name} 不是有效的 Parquet 文件：{exc}", code="FG105") from exc
    header = [r[0] for r in described]
    types = {r[0]: r[1] for r in described}
    mapped, ignored = _match_header(path, spec, header)
    pairs = [(orig, m) for orig, m in zip(header, mapped) if m]
    select = ", ".join(f"{quote(orig)} AS {quote(m)}" for orig, m in pairs)
    sql = f"(SELECT file_row_number + 1 AS __line, {select} FROM read_parquet('{src}', file_row_number=true))"
    return StagedFile(path, "parquet", facts, {m: types[o] for o, m in pairs}, ignored, sql)


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _stage_xlsx(con, spec: TableSpec, path: Path, facts: FileFacts, chunk_rows: int) -> StagedFile:
    import openpyxl  # imported lazily: only xlsx input needs it

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        raise IngestError(f"文件 {path.name} 不是有效的 xlsx 工作簿：{exc}", code="FG105") from exc
    try:
        ws = wb[spec.name] if spec.name in wb.sheetnames else wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header = next(rows, None)
        if not header:
            raise IngestError(f"文件 {path.name} 为空或第 1 行没有表头", code="FG104")
        mapped, ignored = _match_header(path, spec, list(header))
        keep = [(i, m) for i, m in enumerate(mapped) if m]
        schema = pa.schema([("__line", pa.int64())] + [(m, pa.string()) for _, m in keep])
        cols = ", ".join(f"{quote(m)} VARCHAR" for _, m in keep)
        con.execute(f"CREATE OR REPLACE TEMP TABLE __raw (__line BIGINT, {cols})")
        buf: list[list] = [[] for _ in range(len(keep) + 1)]
        line = 1
        for values in rows:
            line += 1
            if values is None or all(v is None for v in values):
                continue
            buf[0].append(line)
            for k, (i, _) in enumerate(keep, start=1):
                buf[k].append(_cell_text(values[i]) if i < len(values) else None)
            if len(buf[0]) >= chunk_rows:
                _flush(con, schema, buf)
        _flush(con, schema, buf)
    finally:
        wb.close()
    return StagedFile(path, "xlsx", facts, {m: "VARCHAR" for _, m in keep}, ignored, "__raw")


def _flush(con, schema: pa.Schema, buf: list[list]) -> None:
    if not buf[0]:
        return
    chunk = pa.Table.from_arrays([pa.array(col, type=f.type) for col, f in zip(buf, schema)], schema=schema)
    con.register("__chunk", chunk)
    con.execute("INSERT INTO __raw SELECT * FROM __chunk")
    con.unregister("__chunk")
    for col in buf:
        col.clear()
