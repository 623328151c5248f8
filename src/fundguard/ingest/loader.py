"""Load national-format files into the analytic store: typed, de-duplicated, every batch recorded.

For each file: scan it once into a compact typed table, reject bad rows with file, line, column and
reason (``load_rejects``), then merge on the natural key. A row whose key is new is inserted; a row
identical to the stored one is left alone; a row that differs replaces the stored one and the old
content is kept in ``load_replacements``. A file whose bytes were already loaded into the same
table is recorded as a skipped batch.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import duckdb

from fundguard.errors import REJECT_REASONS, IngestError
from fundguard.ingest import convert, readers
from fundguard.ingest.tables import ALL_TABLES, TABLES, TableSpec
from fundguard.store.db import quote

# progress(message, fraction): fraction in [0, 1] while a long statement runs, None for a new stage.
Progress = Callable[[str, float | None], None]
_TEMP_TABLES = ("__raw", "__typed", "__dups", "__thr", "__rej_errors", "__rej_scans")


@dataclass
class BatchResult:
    batch_id: int
    table: str
    file: str
    status: str  # ok | skipped | failed
    rows_in: int = 0
    inserted: int = 0
    replaced: int = 0
    unchanged: int = 0
    rejected: int = 0
    encoding: str = ""
    ignored_columns: list[str] = field(default_factory=list)
    message: str = ""
    seconds: float = 0.0


def find_table_files(directory: Path) -> list[tuple[TableSpec, Path]]:
    """Every ``<table>.<ext>`` file in ``directory``, in load order (reference tables first)."""
    if not directory.is_dir():
        raise IngestError(f"目录不存在：{directory}", code="FG106")
    found = []
    for spec in ALL_TABLES:
        for ext in readers.FORMATS:
            candidate = directory / f"{spec.name}{ext}"
            if candidate.exists():
                found.append((spec, candidate))
    return found


def load_dir(con: duckdb.DuckDBPyConnection, directory: Path, *, force: bool = False,
             progress: Progress | None = None, chunk_rows: int = 100_000) -> list[BatchResult]:
    """Load every table file of ``directory``. A file that fails is recorded and the others still load."""
    files = find_table_files(Path(directory))
    if not files:
        names = ", ".join(s.name for s in ALL_TABLES)
        raise IngestError(
            f"目录 {directory} 中没有可识别的数据文件（应命名为 <表名>.csv/.xlsx/.parquet，表名：{names}）", code="FG107")
    results = []
    for spec, path in files:
        try:
            results.append(load_file(con, spec, path, force=force, progress=progress, chunk_rows=chunk_rows))
        except IngestError:
            results.append(_last_batch(con))
    return results


def load_file(con: duckdb.DuckDBPyConnection, spec: TableSpec | str, path: Path, *, force: bool = False,
              progress: Progress | None = None, chunk_rows: int = 100_000) -> BatchResult:
    spec = TABLES[spec] if isinstance(spec, str) else spec
    path = Path(path)
    say = progress or (lambda _msg, _frac=None: None)
    started = dt.datetime.now()
    batch_id = con.execute("SELECT nextval('seq_load_batch')").fetchone()[0]
    con.execute(
        "INSERT INTO load_batches (batch_id, table_name, file_name, file_path, started_at, status) "
        "VALUES (?, ?, ?, ?, ?, 'running')", [batch_id, spec.name, path.name, str(path.resolve()), started])
    result = BatchResult(batch_id=batch_id, table=spec.name, file=path.name, status="running")
    staged = None
    facts = None
    try:
        if not path.is_file():
            raise IngestError(f"文件不存在：{path}", code="FG106")
        say(f"{spec.name}：检查 {path.name}", None)
        csv_like = path.suffix.lower() in (".csv", ".txt")
        facts = readers.inspect_file(path) if csv_like else readers.hash_file(path)
        result.encoding = facts.encoding
        previous = con.execute(
            "SELECT batch_id FROM load_batches WHERE table_name = ? AND file_hash = ? AND status = 'ok' "
            "ORDER BY batch_id LIMIT 1", [spec.name, facts.sha256]).fetchone()
        if previous and not force:
            result.status = "skipped"
            result.message = f"与批次 {previous[0]} 的文件内容完全相同，未重复导入"
        else:
            staged = readers.stage(con, spec, path, chunk_rows=chunk_rows, facts=facts)
            result.ignored_columns = staged.ignored
            with _watch(con, say, f"{spec.name}：读取并校验 {path.name}"):
                _convert(con, spec, staged)
            staged.collect_structural(con)
            if staged.structural:
                con.execute("UPDATE __typed SET __line = __line + "
                            "(SELECT count(*) FROM __thr WHERE t <= __typed.__line - 1)")
            result.rows_in = con.execute("SELECT count(*) FROM __typed").fetchone()[0] + len(staged.structural)
            result.rejected = _record_rejects(con, spec, staged, batch_id)
            with _watch(con, say, f"{spec.name}：合并入库"):
                result.inserted, result.replaced, result.unchanged = _merge(con, spec, staged, batch_id)
            result.status = "ok"
        _finish(con, result, facts, path, started)
    except Exception as exc:
        result.status = "failed"
        result.message = exc.message if isinstance(exc, IngestError) else f"{type(exc).__name__}: {exc}"
        _finish(con, result, facts, path, started)
        raise
    finally:
        for tmp in _TEMP_TABLES:
            con.execute(f"DROP TABLE IF EXISTS {tmp}")
        if staged is not None and staged.cleanup is not None:
            staged.cleanup.cleanup()
    return result


@contextmanager
def _watch(con: duckdb.DuckDBPyConnection, say: Progress, label: str):
    """Report DuckDB's own progress of the running statement every half second."""
    done = threading.Event()

    def poll() -> None:
        while not done.wait(0.5):
            try:
                pct = con.query_progress()
            except duckdb.Error:
                return
            if pct is not None and pct >= 0:
                say(label, min(pct, 100.0) / 100.0)

    say(label, None)
    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        say(label, 1.0)


def _last_batch(con) -> BatchResult:
    row = con.execute(
        "SELECT batch_id, table_name, file_name, status, coalesce(rows_in, 0), message, encoding "
        "FROM load_batches ORDER BY batch_id DESC LIMIT 1").fetchone()
    return BatchResult(batch_id=row[0], table=row[1], file=row[2], status=row[3], rows_in=row[4],
                       message=row[5] or "", encoding=row[6] or "")


def _finish(con, result: BatchResult, facts, path: Path, started: dt.datetime) -> None:
    finished = dt.datetime.now()
    result.seconds = (finished - started).total_seconds()
    con.execute(
        """UPDATE load_batches SET file_hash = ?, file_size = ?, file_format = ?, encoding = ?, finished_at = ?,
           status = ?, rows_in = ?, rows_inserted = ?, rows_replaced = ?, rows_unchanged = ?, rows_rejected = ?,
           ignored_columns = ?, message = ? WHERE batch_id = ?""",
        [facts.sha256 if facts else None, facts.size if facts else None, path.suffix.lower().lstrip("."),
         result.encoding, finished, result.status, result.rows_in, result.inserted, result.replaced,
         result.unchanged, result.rejected, ";".join(result.ignored_columns), result.message, result.batch_id])


def _checks(spec: TableSpec, staged: readers.StagedFile) -> list[tuple[str, str, str]]:
    """(condition over raw ``r_<col>`` and parsed ``p_<col>``, column, reject code) for every check."""
    checks = []
    for col, target in spec.typed_columns:
        if col not in staged.columns:
            if col in spec.key:
                checks.append(("true", col, "R01"))
            continue
        present = convert.present_expr("r_" + col, staged.columns[col])
        if col in spec.key:
            checks.append((f"NOT {present}", col, "R01"))
        elif col in spec.not_empty:
            checks.append((f"NOT {present}", col, "R02"))
        code = convert.reason_for(target)
        if code:
            checks.append((f"{present} AND {quote('p_' + col)} IS NULL", col, code))
    return checks


def _parsed_source(spec: TableSpec, staged: readers.StagedFile, extra: str = "") -> str:
    """The file's rows with every present column both raw (``r_``) and parsed (``p_``)."""
    cols = []
    for c in spec.columns:
        if c in staged.columns:
            cols.append(f"{convert.parse_expr(c, staged.columns[c], spec.type_of(c))} AS {quote('p_' + c)}")
            cols.append(f"{quote(c)} AS {quote('r_' + c)}")
    return f"(SELECT __line, {', '.join(cols)}{extra} FROM {staged.source} src)"


def _convert(con, spec: TableSpec, staged: readers.StagedFile) -> None:
    """``__typed``: the present spec columns typed, ``__bad`` (any check failed) and ``__hash``."""
    present = [c for c in spec.columns if c in staged.columns]
    bad = " OR ".join(f"({cond})" for cond, _, _ in _checks(spec, staged)) or "false"
    typed = ", ".join(f"{quote('p_' + c)} AS {quote(c)}" for c in present)
    hashed = ", ".join(quote("p_" + c) for c in present)
    con.execute(
        f"CREATE TEMP TABLE __typed AS SELECT __line, {typed}, coalesce({bad}, false) AS __bad, "
        f"hash({hashed}) AS __hash FROM {_parsed_source(spec, staged)}")


def _record_rejects(con, spec: TableSpec, staged: readers.StagedFile, batch_id: int) -> int:
    """Write one reject row per bad value, per in-file duplicate key and per broken line; count rows."""
    file_name = staged.path.name
    bad_rows = con.execute("SELECT count(*) FROM __typed WHERE __bad").fetchone()[0]
    if bad_rows:
        items = [
            f"CASE WHEN {cond} THEN {{'col': '{col}', 'code': '{code}', 'val': "
            f"{('CAST(' + quote('r_' + col) + ' AS VARCHAR)') if col in staged.columns else 'NULL'}}} END"
            for cond, col, code in _checks(spec, staged)
        ]
        reasons = "map {" + ", ".join(f"'{k}': '{v}'" for k, v in REJECT_REASONS.items()) + "}"
        source = _parsed_source(spec, staged, extra=", to_json(src)::VARCHAR AS __raw_json")
        con.execute(
            f"""INSERT INTO load_rejects
                SELECT ?, ?, ?, __line, e.col, e.val, e.code, {reasons}[e.code] || coalesce('：' || e.val, ''),
                       __raw_json
                FROM (SELECT __line, __raw_json,
                             unnest(list_filter([{', '.join(items)}], lambda x: x IS NOT NULL)) AS e
                      FROM {source} WHERE __line IN (SELECT __line FROM __typed WHERE __bad))""",
            [batch_id, spec.name, file_name])
    # Duplicate natural keys inside the file: the first occurrence loads, the others are rejected.
    key = ", ".join(quote(k) for k in spec.key)
    con.execute(f"""CREATE TEMP TABLE __dups AS SELECT {key}, min(__line) AS __first FROM __typed
                    WHERE NOT __bad GROUP BY {key} HAVING count(*) > 1""")
    dup_rows = 0
    if con.execute("SELECT count(*) FROM __dups").fetchone()[0]:
        on = " AND ".join(f"t.{quote(k)} = d.{quote(k)}" for k in spec.key)
        key_text = " || '/' || ".join(f"CAST(t.{quote(k)} AS VARCHAR)" for k in spec.key)
        con.execute(
            f"""INSERT INTO load_rejects
                SELECT ?, ?, ?, t.__line, '{'+'.join(spec.key)}', {key_text}, 'R05',
                       '{REJECT_REASONS['R05']}：' || {key_text} || '（首次出现于第 ' || d.__first || ' 行）',
                       (SELECT to_json(src)::VARCHAR FROM {staged.source} src WHERE src.__line = t.__line)
                FROM __typed t JOIN __dups d ON {on} WHERE NOT t.__bad AND t.__line <> d.__first""",
            [batch_id, spec.name, file_name])
        con.execute(f"UPDATE __typed t SET __bad = true FROM __dups d WHERE {on} AND t.__line <> d.__first")
        dup_rows = con.execute("SELECT count(*) FROM __typed WHERE __bad").fetchone()[0] - bad_rows
    if staged.structural:
        con.executemany(
            "INSERT INTO load_rejects VALUES (?, ?, ?, ?, NULL, ?, 'R06', ?, NULL)",
            [[batch_id, spec.name, file_name, r.line, r.record, f"{REJECT_REASONS['R06']}：{r.message}"]
             for r in staged.structural])
    return bad_rows + dup_rows + len(staged.structural)


def _merge(con, spec: TableSpec, staged: readers.StagedFile, batch_id: int) -> tuple[int, int, int]:
    """Merge the good rows of ``__typed`` on the natural key. Returns (inserted, replaced, unchanged)."""
    present = [c for c in spec.columns if c in staged.columns]
    cols = ", ".join(quote(c) for c in present)
    on = " AND ".join(f"t.{quote(k)} = v.{quote(k)}" for k in spec.key)
    good = con.execute("SELECT count(*) FROM __typed WHERE NOT __bad").fetchone()[0]
    con.execute("BEGIN TRANSACTION")
    try:
        replaced = 0
        if con.execute(f"SELECT count(*) FROM {spec.name}").fetchone()[0]:
            # Rows already stored: identical → unchanged; different content → replaced, old row kept.
            stored_hash = f"hash({', '.join('t.' + quote(c) for c in present)})"
            key_json = "to_json({" + ", ".join(f"'{k}': t.{quote(k)}" for k in spec.key) + "})::VARCHAR"
            changed = " || ".join(
                f"CASE WHEN t.{quote(c)} IS DISTINCT FROM v.{quote(c)} THEN '{c};' ELSE '' END" for c in present)
            con.execute(
                f"""INSERT INTO load_replacements
                    SELECT ?, '{spec.name}', {key_json}, t._batch_id, t._src_line, v.__line,
                           rtrim({changed}, ';'), to_json(t)::VARCHAR
                    FROM {spec.name} t JOIN __typed v ON {on}
                    WHERE NOT v.__bad AND {stored_hash} <> v.__hash""", [batch_id])
            replaced = con.execute(
                "SELECT count(*) FROM load_replacements WHERE batch_id = ?", [batch_id]).fetchone()[0]
            if replaced:
                con.execute(f"""DELETE FROM {spec.name} t USING __typed v
                                WHERE {on} AND NOT v.__bad AND {stored_hash} <> v.__hash""")
            con.execute(f"UPDATE __typed v SET __bad = true FROM {spec.name} t WHERE {on} AND NOT v.__bad")
        to_insert = con.execute("SELECT count(*) FROM __typed WHERE NOT __bad").fetchone()[0]
        con.execute(
            f"INSERT INTO {spec.name} ({cols}, _batch_id, _src_line, _row_hash) "
            f"SELECT {cols}, ?, __line, __hash FROM __typed WHERE NOT __bad", [batch_id])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return to_insert - replaced, replaced, good - to_insert
