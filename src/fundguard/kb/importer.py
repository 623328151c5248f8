"""Import national knowledge points (两库) into the store, merging sources and applying revisions.

Sources: the national structured JSON list (``two_libraries_all_records.json`` shape), our built-in JSON
(same shape plus a ``params`` object with typed limits) and the per-batch workbooks (``xlsx`` module).
Merging: a record joins the existing point of the same class that shares one of its codes (for 重复收费:
the same ordered pair); its codes are added, missing limits filled, and its provenance recorded.
Revisions: a record whose ``supersedes`` names an earlier point ends that point's validity the day
before the revision takes effect.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb

from fundguard.errors import FundGuardError
from fundguard.kb import derive
from fundguard.kb.records import LIMIT_NAMES, PAIR_CLASSES, KbRecord


class KbImportError(FundGuardError):
    code = "FG300"


@dataclass
class KbImportResult:
    import_id: int
    file: str
    rows_in: int
    points_new: int
    points_merged: int
    rejected: list[tuple[int, str]]
    superseded: int = 0


def _date(value) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def records_from_json(path: Path, data: list, source_kind: str) -> tuple[list[KbRecord], list[tuple[int, str]]]:
    records, rejected = [], []
    for row_no, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            rejected.append((row_no, "不是对象"))
            continue
        rule_class = (item.get("rule_class") or "").strip()
        codes = item.get("med_codes") or ([item["med_code"]] if item.get("med_code") else [])
        codes = [str(c).strip() for c in codes if str(c or "").strip()]
        if not rule_class:
            rejected.append((row_no, "缺少 rule_class"))
            continue
        if not codes:
            rejected.append((row_no, f"{rule_class}「{item.get('item_name') or ''}」没有医保编码，无法用于审核"))
            continue
        if rule_class in PAIR_CLASSES:
            if len(codes) < 2:
                rejected.append((row_no, f"{rule_class} 需要项目A和项目B两个编码"))
                continue
            roles = [(codes[0], "A"), (codes[1], "B")]
        else:
            roles = [(c, "") for c in dict.fromkeys(codes)]
        source = item.get("source") or {}
        batch = item.get("batch") if item.get("batch") is not None else item.get("batch_tag")
        rec = KbRecord(
            rule_class=rule_class, item_name=(item.get("item_name") or "").strip(), codes=roles,
            source_kind=source_kind, file_name=str(source.get("attachment_file") or source.get("file") or path.name),
            source_row=int(source.get("row") or row_no), source_id=item.get("kp_id"), gz_code=item.get("gz_code"),
            level1=item.get("level1"), level2=item.get("level2"), constraint=item.get("constraint"),
            detect_logic=item.get("detect_logic"), batch=None if batch is None else str(batch),
            published_at=_date(item.get("published_at")), supersedes=item.get("supersedes"),
        )
        params = item.get("params") or {}
        unknown = [k for k in params if k not in LIMIT_NAMES]
        if unknown:
            rejected.append((row_no, f"params 中有未知的键：{', '.join(unknown)}"))
            continue
        rec.limits = {k: v for k, v in params.items() if v is not None}
        derive.fill_limits(rec)
        records.append(rec)
    return records, rejected


def read_records(path: Path) -> tuple[list[KbRecord], list[tuple[int, str]], str]:
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise KbImportError(f"知识库文件 {path.name} 不是有效的 JSON：{exc}") from exc
        if isinstance(data, dict) and isinstance(data.get("records"), list):
            data = data["records"]
        if not isinstance(data, list):
            raise KbImportError(f"知识库文件 {path.name} 应为知识点列表（JSON 数组）")
        kind = "builtin" if any(isinstance(r, dict) and "params" in r for r in data) else "json"
        records, rejected = records_from_json(path, data, kind)
        return records, rejected, kind
    if suffix in (".xlsx", ".xls"):
        from fundguard.kb import xlsx

        records, rejected = xlsx.read_workbook(path)
        return records, rejected, "xlsx"
    raise KbImportError(f"不支持的知识库文件格式 {suffix}：请使用 .json 或 .xlsx")


def import_file(con: duckdb.DuckDBPyConnection, path: str | Path) -> KbImportResult:
    path = Path(path)
    if not path.is_file():
        raise KbImportError(f"知识库文件不存在：{path}")
    records, rejected, kind = read_records(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return _store_records(con, records, rejected, kind, path.name, str(path.resolve()), digest)


def import_points(con: duckdb.DuckDBPyConnection, points: list[dict], name: str = "inline") -> KbImportResult:
    """Import knowledge points given as dicts in the JSON shape (golden cases, the API)."""
    records, rejected = records_from_json(Path(name), points, "builtin")
    digest = hashlib.sha256(json.dumps(points, ensure_ascii=False, default=str).encode()).hexdigest()
    return _store_records(con, records, rejected, "builtin", name, name, digest)


def _store_records(con, records, rejected, kind, file_name, file_path, digest) -> KbImportResult:
    import_id = con.execute("SELECT nextval('seq_kb_import')").fetchone()[0]
    store = KbStore.read(con)
    new, merged = store.merge(records, import_id)
    superseded = store.apply_revisions()
    con.execute("BEGIN TRANSACTION")
    try:
        store.write(con)
        con.execute(
            "INSERT INTO kb_imports VALUES (?, ?, ?, ?, ?, now()::TIMESTAMP, ?, ?, ?, ?, ?)",
            [import_id, file_name, file_path, digest, kind, len(records) + len(rejected), new, merged,
             len(rejected), "; ".join(f"第{r}条：{m}" for r, m in rejected[:20])])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return KbImportResult(import_id, file_name, len(records) + len(rejected), new, merged, rejected, superseded)


POINT_COLUMNS = ("kp_id", "rule_class", "gz_code", "level1", "level2", "item_name", "constraint_text",
                 "detect_logic", "batch", "published_at", "effective_from", "effective_to", "supersedes",
                 "superseded_by", *LIMIT_NAMES, "unmapped", "merge_key")


def _limit_value(value):
    if isinstance(value, (list, tuple)):
        return ";".join(str(v) for v in value)
    return value


class KbStore:
    """The knowledge tables held in memory for one import: merge there, then write back in bulk."""

    def __init__(self, points: dict[str, dict], codes: dict[str, dict[str, str]], sources: list[tuple]):
        self.points = points  # kp_id -> column dict
        self.codes = codes  # kp_id -> {code: role}
        self.sources = sources
        self.by_key = {p["merge_key"]: k for k, p in points.items()}
        self.by_code: dict[tuple[str, str], str] = {}
        for kp_id, point in points.items():
            if point["rule_class"] not in PAIR_CLASSES and not point["supersedes"]:
                for code in codes.get(kp_id, {}):
                    self.by_code.setdefault((point["rule_class"], code), kp_id)
        self.by_source_id = {s[5]: s[0] for s in sources if s[5]}

    @classmethod
    def read(cls, con: duckdb.DuckDBPyConnection) -> "KbStore":
        points = {}
        for row in con.execute(f"SELECT {', '.join(POINT_COLUMNS)} FROM kb_points").fetchall():
            points[row[0]] = dict(zip(POINT_COLUMNS, row))
        codes: dict[str, dict[str, str]] = {}
        for kp_id, code, role in con.execute("SELECT kp_id, hilist_code, role FROM kb_point_codes").fetchall():
            codes.setdefault(kp_id, {})[code] = role
        sources = [tuple(r) for r in con.execute("SELECT * FROM kb_point_sources").fetchall()]
        return cls(points, codes, sources)

    def merge(self, records: list[KbRecord], import_id: int) -> tuple[int, int]:
        new = merged = 0
        for rec in records:
            kp_id = self._find(rec)
            if kp_id is None:
                kp_id = "KP" + hashlib.sha1((rec.merge_key + "|" + (rec.supersedes or "")).encode()).hexdigest()[:16]
                self._insert(kp_id, rec)
                new += 1
            else:
                self._merge_into(kp_id, rec)
                merged += 1
            point_codes = self.codes.setdefault(kp_id, {})
            for code, role in rec.codes:
                point_codes.setdefault(code, role)
                if rec.rule_class not in PAIR_CLASSES and not rec.supersedes:
                    self.by_code.setdefault((rec.rule_class, code), kp_id)
            self.by_key.setdefault(rec.merge_key + "|" + (rec.supersedes or ""), kp_id)
            if rec.source_id:
                self.by_source_id.setdefault(rec.source_id, kp_id)
            self.sources.append((kp_id, import_id, rec.source_kind, rec.file_name, rec.source_row, rec.source_id,
                                 rec.batch, rec.published_at,
                                 json.dumps(rec.limits, ensure_ascii=False, default=str)))
        return new, merged

    def _find(self, rec: KbRecord) -> str | None:
        key = rec.merge_key + "|" + (rec.supersedes or "")
        if key in self.by_key:
            return self.by_key[key]
        if rec.supersedes or rec.rule_class in PAIR_CLASSES or rec.rule_class == "手术项目未按规定折价收费":
            # A revision is a point of its own even when it names the codes of the point it replaces.
            return None
        return next((self.by_code[(rec.rule_class, c)] for c in rec.codes_only()
                     if (rec.rule_class, c) in self.by_code), None)

    def _insert(self, kp_id: str, rec: KbRecord) -> None:
        point = dict.fromkeys(POINT_COLUMNS)
        point.update(
            kp_id=kp_id, rule_class=rec.rule_class, gz_code=rec.gz_code, level1=rec.level1, level2=rec.level2,
            item_name=rec.item_name, constraint_text=rec.constraint, detect_logic=rec.detect_logic, batch=rec.batch,
            published_at=rec.published_at, effective_from=rec.published_at if rec.supersedes else None,
            supersedes=rec.supersedes, unmapped=";".join(rec.unmapped) or None,
            merge_key=rec.merge_key + "|" + (rec.supersedes or ""))
        for name in LIMIT_NAMES:
            point[name] = _limit_value(rec.limits.get(name))
        self.points[kp_id] = point
        self.by_key[point["merge_key"]] = kp_id

    def _merge_into(self, kp_id: str, rec: KbRecord) -> None:
        """Fill what the stored point lacks; structured values (workbook, built-in) beat text-derived ones."""
        point = self.points[kp_id]
        for column, value in (("gz_code", rec.gz_code), ("constraint_text", rec.constraint),
                              ("detect_logic", rec.detect_logic), ("level1", rec.level1), ("level2", rec.level2)):
            if not point[column] and value:
                point[column] = value
        structured = rec.source_kind in ("xlsx", "builtin")
        for name in LIMIT_NAMES:
            value = rec.limits.get(name)
            if value is None or name in rec.unmapped:
                continue
            if point[name] is None or structured:
                point[name] = _limit_value(value)
        unmapped = {u for u in (point["unmapped"] or "").split(";") if u}
        unmapped = {u for u in unmapped if point.get(u) is None}
        point["unmapped"] = ";".join(sorted(unmapped)) or None

    def apply_revisions(self) -> int:
        """End each superseded point the day before its revision takes effect. Returns points superseded."""
        superseded = set()
        for kp_id, point in self.points.items():
            old = self.by_source_id.get(point["supersedes"]) if point["supersedes"] else None
            if old and old != kp_id and old in self.points:
                start = point["effective_from"]
                self.points[old]["superseded_by"] = kp_id
                self.points[old]["effective_to"] = (start - dt.timedelta(days=1)) if start else dt.date(1900, 1, 1)
                superseded.add(old)
        return len(superseded)

    def write(self, con: duckdb.DuckDBPyConnection) -> None:
        import pyarrow as pa

        con.execute("DELETE FROM kb_points")
        con.execute("DELETE FROM kb_point_codes")
        con.execute("DELETE FROM kb_point_sources")
        points = pa.Table.from_pylist([{c: p[c] for c in POINT_COLUMNS} for p in self.points.values()]) \
            if self.points else None
        if points is not None:
            con.register("__kb_points", points)
            con.execute(f"INSERT INTO kb_points ({', '.join(POINT_COLUMNS)}) SELECT {', '.join(POINT_COLUMNS)} "
                        "FROM __kb_points")
            con.unregister("__kb_points")
        codes = [(k, c, r) for k, cs in self.codes.items() for c, r in cs.items()]
        if codes:
            con.register("__kb_codes", pa.table({"kp_id": [c[0] for c in codes], "hilist_code": [c[1] for c in codes],
                                                 "role": [c[2] for c in codes]}))
            con.execute("INSERT INTO kb_point_codes SELECT kp_id, hilist_code, role FROM __kb_codes")
            con.unregister("__kb_codes")
        if self.sources:
            names = ["kp_id", "import_id", "source_kind", "file_name", "source_row", "source_id", "batch",
                     "published_at", "fields"]
            con.register("__kb_sources", pa.Table.from_pylist([dict(zip(names, s)) for s in self.sources]))
            con.execute(f"INSERT INTO kb_point_sources SELECT {', '.join(names)} FROM __kb_sources")
            con.unregister("__kb_sources")
