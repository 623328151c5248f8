"""Import national knowledge points (两库) into the store, merging sources and applying revisions.

Sources: the national structured JSON list (``two_libraries_all_records.json`` shape), our built-in JSON
(same shape plus a ``params`` object with typed limits) and the per-batch workbooks (``xlsx`` module).

Every source row is kept in ``kb_point_sources`` with the whole normalised record (``fields``), and the
points are rebuilt from all sources on every import, so the result does not depend on the import order:

- Points: records of one class that share a national code are one point (重复收费: the same ordered pair
  A→B; 手术折价: the same code and incision group). A record with ``supersedes`` (a revision) is a point of
  its own. kp_id = hash of the merge key (class and the smallest code, or pair / code+group, or the
  superseded point), so the same sources give the same ids.
- Values: national JSON text first (newest published first); limits from structured sources (workbook
  cells, our ``params``) before limits derived from text. A revision inherits a structured limit of the
  point it supersedes unless its own text states a different value than the predecessor's text.
- Revisions: the superseded point ends the day before the revision's ``published_at``.
- Re-importing identical rows changes nothing (the import is still recorded in ``kb_imports``); a row
  whose content changed replaces the earlier version of that row.
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

SURGERY_CLASS = "手术项目未按规定折价收费"
KIND_RANK = {"builtin": 0, "xlsx": 1, "json": 2}  # order of preference for structured limits
TEXT_RANK = {"json": 0, "builtin": 1, "xlsx": 2}  # order of preference for names and texts
FIELDS_VERSION = 2


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
    unchanged: int = 0  # rows already stored with the same content
    message: str = ""


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
            published_at=_date(item.get("published_at")), supersedes=item.get("supersedes") or None,
        )
        params = item.get("params") or {}
        unknown = [k for k in params if k not in LIMIT_NAMES]
        if unknown:
            rejected.append((row_no, f"params 中有未知的键：{', '.join(unknown)}"))
            continue
        rec.limits = {k: v for k, v in params.items() if v is not None}
        rec.structured = set(rec.limits)
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
    elif suffix in (".xlsx", ".xlsm"):
        from fundguard.kb import xlsx

        records, rejected = xlsx.read_workbook(path)
        kind = "xlsx"
    else:
        raise KbImportError(f"不支持的知识库文件格式 {suffix}：请使用 .json 或 .xlsx")
    for rec in records:
        derive.fill_limits(rec)
    return records, rejected, kind


def import_file(con: duckdb.DuckDBPyConnection, path: str | Path) -> KbImportResult:
    return import_files(con, [path])[0]


def import_files(con: duckdb.DuckDBPyConnection, paths: list[str | Path]) -> list[KbImportResult]:
    """Import several files in one pass: each is recorded in kb_imports, the points are rebuilt once."""
    batches = []
    for path in map(Path, paths):
        if not path.is_file():
            raise KbImportError(f"知识库文件不存在：{path}")
        records, rejected, kind = read_records(path)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        batches.append((records, rejected, kind, path.name, str(path.resolve()), digest))
    return _store_batches(con, batches)


def import_points(con: duckdb.DuckDBPyConnection, points: list[dict], name: str = "inline") -> KbImportResult:
    """Import knowledge points given as dicts in the JSON shape (golden cases, the API)."""
    records, rejected = records_from_json(Path(name), points, "builtin")
    for rec in records:
        derive.fill_limits(rec)
    digest = hashlib.sha256(json.dumps(points, ensure_ascii=False, default=str).encode()).hexdigest()
    return _store_batches(con, [(records, rejected, "builtin", name, name, digest)])[0]


def _store_batches(con, batches) -> list[KbImportResult]:
    store = KbStore.read(con)
    known = set(store.point_ids)
    staged = []
    for records, rejected, kind, file_name, file_path, digest in batches:
        import_id = con.execute("SELECT nextval('seq_kb_import')").fetchone()[0]
        added, unchanged = store.add(records, import_id)
        staged.append((import_id, added, unchanged, records, rejected, kind, file_name, file_path, digest))
    changed = any(s[1] for s in staged)
    if changed:
        store.build()
    superseded = sum(1 for p in store.points.values() if p["superseded_by"]) if changed else store.superseded_count
    results = []
    con.execute("BEGIN TRANSACTION")
    try:
        if changed:
            store.write(con)
        for import_id, added, unchanged, records, rejected, kind, file_name, file_path, digest in staged:
            ids = {s.kp_id for s in added}
            new, merged = len(ids - known), len(ids & known)
            known |= ids
            if records and not added:
                message = f"文件内容与已导入的 {len(records)} 条知识点来源相同，知识库未改变"
            else:
                message = "; ".join(f"第{r}条：{m}" for r, m in rejected[:20])
            con.execute(
                "INSERT INTO kb_imports VALUES (?, ?, ?, ?, ?, now()::TIMESTAMP, ?, ?, ?, ?, ?)",
                [import_id, file_name, file_path, digest, kind, len(records) + len(rejected), new, merged,
                 len(rejected), message])
            results.append(KbImportResult(import_id, file_name, len(records) + len(rejected), new, merged, rejected,
                                          superseded, unchanged, message))
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return results


POINT_COLUMNS = ("kp_id", "rule_class", "gz_code", "level1", "level2", "item_name", "constraint_text",
                 "detect_logic", "batch", "published_at", "effective_from", "effective_to", "supersedes",
                 "superseded_by", *LIMIT_NAMES, "unmapped", "merge_key")
SOURCE_COLUMNS = ("kp_id", "import_id", "source_kind", "file_name", "source_row", "source_id", "batch",
                  "published_at", "fields")


def _limit_value(value):
    if isinstance(value, (list, tuple)):
        return ";".join(str(v) for v in value)
    return value


def record_fields(rec: KbRecord) -> str:
    """The whole normalised record as stored in kb_point_sources.fields (stable JSON)."""
    body = {"v": FIELDS_VERSION, "rule_class": rec.rule_class, "item_name": rec.item_name,
            "codes": [list(c) for c in rec.codes], "gz_code": rec.gz_code, "level1": rec.level1,
            "level2": rec.level2, "constraint": rec.constraint, "detect_logic": rec.detect_logic,
            "supersedes": rec.supersedes, "limits": {k: _limit_value(v) for k, v in rec.limits.items()},
            "structured": sorted(rec.structured), "unmapped": list(rec.unmapped)}
    return json.dumps(body, ensure_ascii=False, sort_keys=True, default=str)


@dataclass
class Source:
    rec: KbRecord
    import_id: int
    fields: str
    kp_id: str | None = None

    @property
    def identity(self) -> tuple:
        r = self.rec
        return (r.source_kind, r.file_name, int(r.source_row or 0), r.source_id or "")

    def structured(self) -> dict:
        return {k: v for k, v in self.rec.limits.items() if k in self.rec.structured}

    def derived(self) -> dict:
        return {k: v for k, v in self.rec.limits.items() if k not in self.rec.structured}


def _record_from_row(row: dict) -> KbRecord | None:
    try:
        body = json.loads(row["fields"] or "{}")
    except json.JSONDecodeError:
        return None
    if not isinstance(body, dict) or body.get("v") != FIELDS_VERSION:
        return None
    rec = KbRecord(rule_class=body["rule_class"], item_name=body.get("item_name") or "",
                   codes=[(c, r) for c, r in body.get("codes") or []], source_kind=row["source_kind"],
                   file_name=row["file_name"], source_row=row["source_row"], source_id=row["source_id"],
                   gz_code=body.get("gz_code"), level1=body.get("level1"), level2=body.get("level2"),
                   constraint=body.get("constraint"), detect_logic=body.get("detect_logic"), batch=row["batch"],
                   published_at=_date(row["published_at"]), supersedes=body.get("supersedes"),
                   limits=dict(body.get("limits") or {}), unmapped=list(body.get("unmapped") or []),
                   structured=set(body.get("structured") or []))
    return rec


def _legacy_record(row: dict, point: dict | None, codes: dict[str, str]) -> KbRecord | None:
    """A source stored by an earlier version (fields = its limits only): rebuilt from its point."""
    if point is None:
        return None
    try:
        limits = json.loads(row["fields"] or "{}")
    except json.JSONDecodeError:
        limits = {}
    limits = {k: v for k, v in (limits if isinstance(limits, dict) else {}).items() if k in LIMIT_NAMES}
    return KbRecord(rule_class=point["rule_class"], item_name=point["item_name"] or "",
                    codes=sorted(codes.items()), source_kind=row["source_kind"], file_name=row["file_name"],
                    source_row=row["source_row"], source_id=row["source_id"], gz_code=point["gz_code"],
                    level1=point["level1"], level2=point["level2"], constraint=point["constraint_text"],
                    detect_logic=point["detect_logic"], batch=row["batch"], published_at=_date(row["published_at"]),
                    supersedes=point["supersedes"], limits=limits,
                    structured=set(limits) if row["source_kind"] in ("xlsx", "builtin") else set())


class KbStore:
    """All knowledge sources held in memory for one import: add the new ones, rebuild, write back."""

    def __init__(self, sources: list[Source], point_ids: set[str] | None = None, superseded_count: int = 0):
        self.sources: dict[tuple, Source] = {}
        for s in sources:
            self.sources[s.identity] = s
        self.point_ids = point_ids or set()
        self.superseded_count = superseded_count
        self.points: dict[str, dict] = {}
        self.codes: dict[str, dict[str, str]] = {}
        self.rows: list[tuple] = []

    @classmethod
    def read(cls, con: duckdb.DuckDBPyConnection) -> KbStore:
        points = {r[0]: dict(zip(POINT_COLUMNS, r))
                  for r in con.execute(f"SELECT {', '.join(POINT_COLUMNS)} FROM kb_points").fetchall()}
        codes: dict[str, dict[str, str]] = {}
        for kp_id, code, role in con.execute("SELECT kp_id, hilist_code, role FROM kb_point_codes").fetchall():
            codes.setdefault(kp_id, {})[code] = role or ""
        sources = []
        for values in con.execute(f"SELECT {', '.join(SOURCE_COLUMNS)} FROM kb_point_sources").fetchall():
            row = dict(zip(SOURCE_COLUMNS, values))
            if '"inherited_from"' in (row["fields"] or ""):
                continue  # provenance copied onto a revision; regenerated by build()
            rec = _record_from_row(row) or _legacy_record(row, points.get(row["kp_id"]), codes.get(row["kp_id"], {}))
            if rec is not None:
                sources.append(Source(rec, row["import_id"], row["fields"] or "", row["kp_id"]))
        superseded = sum(1 for p in points.values() if p["superseded_by"])
        return cls(sources, set(points), superseded)

    def add(self, records: list[KbRecord], import_id: int) -> tuple[list[Source], int]:
        """Add or replace source rows; identical rows already stored are left as they are."""
        added, unchanged = [], 0
        for rec in records:
            source = Source(rec, import_id, record_fields(rec))
            old = self.sources.get(source.identity)
            if old is not None and old.fields == source.fields:
                unchanged += 1
                continue
            self.sources[source.identity] = source
            added.append(source)
        return added, unchanged

    # -- rebuild -------------------------------------------------------------------------------------
    def build(self) -> None:
        groups = self._group(sorted(self.sources.values(), key=lambda s: s.identity))
        self.points, self.codes, self.rows = {}, {}, []
        by_source_id: dict[str, str] = {}
        members: dict[str, list[Source]] = {}
        for key, sources in groups.items():
            kp_id = "KP" + hashlib.sha1(key.encode()).hexdigest()[:16]
            members[kp_id] = sources
            self.points[kp_id] = self._point(kp_id, key, sources)
            self.codes[kp_id] = {}
            for s in sources:
                s.kp_id = kp_id
                for code, role in s.rec.codes:
                    self.codes[kp_id].setdefault(code, role)
                if s.rec.source_id:
                    by_source_id.setdefault(s.rec.source_id, kp_id)
        inherited = self._apply_revisions(members, by_source_id)
        for kp_id, point in self.points.items():
            point["unmapped"] = ";".join(derive.missing(point["rule_class"], point)) or None
        for s in sorted(self.sources.values(), key=lambda s: s.identity):
            r = s.rec
            self.rows.append((s.kp_id, s.import_id, r.source_kind, r.file_name, r.source_row, r.source_id, r.batch,
                              r.published_at, s.fields))
        self.rows.extend(inherited)

    @staticmethod
    def _group(sources: list[Source]) -> dict[str, list[Source]]:
        groups: dict[str, list[Source]] = {}
        plain: list[Source] = []
        for s in sources:
            r = s.rec
            codes = sorted(c for c, _ in r.codes)
            if r.supersedes:  # a revision is a point of its own, even with the codes of the point it replaces
                groups.setdefault(f"{r.rule_class}|supersedes={r.supersedes}", []).append(s)
            elif r.rule_class in PAIR_CLASSES:
                a = ",".join(sorted(c for c, role in r.codes if role == "A"))
                b = ",".join(sorted(c for c, role in r.codes if role == "B"))
                groups.setdefault(f"{r.rule_class}|{a}|{b}", []).append(s)
            elif r.rule_class == SURGERY_CLASS:
                groups.setdefault(f"{r.rule_class}|{codes[0]}|{r.limits.get('group_name') or ''}", []).append(s)
            else:
                plain.append(s)
        # Union-find over (class, code): records sharing any code are one point.
        parent = list(range(len(plain)))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        owner: dict[tuple[str, str], int] = {}
        for i, s in enumerate(plain):
            for code, _ in s.rec.codes:
                j = owner.setdefault((s.rec.rule_class, code), i)
                parent[find(i)] = find(j)
        clusters: dict[int, list[Source]] = {}
        for i, s in enumerate(plain):
            clusters.setdefault(find(i), []).append(s)
        for cluster in clusters.values():
            low = min(c for s in cluster for c, _ in s.rec.codes)
            groups[f"{cluster[0].rec.rule_class}|{low}"] = cluster
        return groups

    @staticmethod
    def _resolve(sources: list[Source]) -> tuple[dict, dict, dict]:
        """(limits, structured limits, derived limits) of one point from its sources."""
        by_kind = sorted(sources, key=lambda s: (KIND_RANK.get(s.rec.source_kind, 9), _newest(s), s.identity))
        by_text = sorted(sources, key=lambda s: (TEXT_RANK.get(s.rec.source_kind, 9), _newest(s), s.identity))
        structured: dict = {}
        derived: dict = {}
        for s in by_kind:
            for k, v in s.structured().items():
                structured.setdefault(k, v)
        for s in by_text:
            for k, v in s.derived().items():
                derived.setdefault(k, v)
        limits = {**derived, **structured}
        return limits, structured, derived

    def _point(self, kp_id: str, key: str, sources: list[Source]) -> dict:
        by_text = sorted(sources, key=lambda s: (TEXT_RANK.get(s.rec.source_kind, 9), _newest(s), s.identity))

        def first(attr: str):
            return next((getattr(s.rec, attr) for s in by_text if getattr(s.rec, attr) not in (None, "")), None)

        limits, _, _ = self._resolve(sources)
        supersedes = first("supersedes")
        published = first("published_at")
        point = dict.fromkeys(POINT_COLUMNS)
        point.update(kp_id=kp_id, rule_class=sources[0].rec.rule_class, gz_code=first("gz_code"),
                     level1=first("level1"), level2=first("level2"), item_name=first("item_name"),
                     constraint_text=first("constraint"), detect_logic=first("detect_logic"), batch=first("batch"),
                     published_at=published, effective_from=published if supersedes else None,
                     supersedes=supersedes, merge_key=key)
        for name in LIMIT_NAMES:
            point[name] = _limit_value(limits.get(name))
        return point

    def _apply_revisions(self, members: dict[str, list[Source]], by_source_id: dict[str, str]) -> list[tuple]:
        """End superseded points; let each revision inherit structured limits its text does not contradict."""
        inherited_rows: list[tuple] = []
        in_force: dict[str, dict] = {}  # kp_id -> structured limits (own and inherited) of that point

        def structured(kp_id: str) -> dict:
            if kp_id not in in_force:
                in_force[kp_id] = dict(self._resolve(members[kp_id])[1])
            return in_force[kp_id]

        def depth(kp_id: str) -> int:
            n, seen = 0, {kp_id}
            while (old := by_source_id.get(self.points[kp_id]["supersedes"] or "")) and old not in seen:
                seen.add(old)
                kp_id, n = old, n + 1
            return n

        revisions = [k for k, p in self.points.items() if p["supersedes"]]
        for kp_id in sorted(revisions, key=lambda k: (depth(k), k)):
            point = self.points[kp_id]
            old = by_source_id.get(point["supersedes"])
            if not old or old == kp_id:
                continue
            start = point["effective_from"]
            self.points[old]["superseded_by"] = kp_id
            self.points[old]["effective_to"] = (start - dt.timedelta(days=1)) if start else dt.date(1900, 1, 1)
            own = structured(kp_id)
            own_derived = self._resolve(members[kp_id])[2]
            old_derived = self._resolve(members[old])[2]
            taken = {}
            for name, value in structured(old).items():
                if name in own or value is None:
                    continue
                if own_derived.get(name) is None or own_derived.get(name) == old_derived.get(name):
                    point[name] = _limit_value(value)
                    own[name] = taken[name] = value
            if taken:
                for s in members[old]:
                    lim = {k: v for k, v in s.structured().items() if k in taken}
                    if lim:
                        r = s.rec
                        inherited_rows.append((kp_id, s.import_id, r.source_kind, r.file_name, r.source_row,
                                               r.source_id, r.batch, r.published_at,
                                               json.dumps({"inherited_from": old, "limits": lim},
                                                          ensure_ascii=False, sort_keys=True, default=str)))
        return inherited_rows

    def write(self, con: duckdb.DuckDBPyConnection) -> None:
        import pyarrow as pa

        con.execute("DELETE FROM kb_points")
        con.execute("DELETE FROM kb_point_codes")
        con.execute("DELETE FROM kb_point_sources")
        if self.points:
            con.register("__kb_points", pa.Table.from_pylist([{c: p[c] for c in POINT_COLUMNS}
                                                              for p in self.points.values()]))
            cols = ", ".join(POINT_COLUMNS)
            con.execute(f"INSERT INTO kb_points ({cols}) SELECT {cols} FROM __kb_points")
            con.unregister("__kb_points")
        codes = [(k, c, r) for k, cs in self.codes.items() for c, r in cs.items()]
        if codes:
            con.register("__kb_codes", pa.table({"kp_id": [c[0] for c in codes], "hilist_code": [c[1] for c in codes],
                                                 "role": [c[2] for c in codes]}))
            con.execute("INSERT INTO kb_point_codes SELECT kp_id, hilist_code, role FROM __kb_codes")
            con.unregister("__kb_codes")
        if self.rows:
            con.register("__kb_sources", pa.Table.from_pylist([dict(zip(SOURCE_COLUMNS, s)) for s in self.rows]))
            cols = ", ".join(SOURCE_COLUMNS)
            con.execute(f"INSERT INTO kb_point_sources ({cols}) SELECT {cols} FROM __kb_sources")
            con.unregister("__kb_sources")


def structured_conflicts(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Points where a structured source (workbook cell) and the national text give different values."""
    rows = con.execute("""
        SELECT p.kp_id, p.rule_class, p.item_name, s.source_kind, s.file_name, s.source_row, s.fields
        FROM kb_point_sources s JOIN kb_points p USING (kp_id)
        WHERE s.fields NOT LIKE '%inherited_from%'
        ORDER BY p.kp_id, s.source_kind, s.file_name, s.source_row""").fetchall()
    by_point: dict[str, list] = {}
    for kp_id, rule_class, item_name, kind, file_name, row, fields in rows:
        by_point.setdefault(kp_id, []).append((rule_class, item_name, kind, file_name, row, json.loads(fields)))
    out = []
    for kp_id, items in by_point.items():
        structured = [i for i in items if i[5].get("structured")]
        texts = [i for i in items if i[2] == "json"]
        for rule_class, item_name, _, file_name, row, body in structured:
            for name in body["structured"]:
                for t in texts:
                    derived = t[5]["limits"].get(name)
                    if derived is not None and str(derived) != str(body["limits"][name]) \
                            and not _same_number(derived, body["limits"][name]):
                        out.append({"kp_id": kp_id, "rule_class": rule_class, "item_name": item_name, "limit": name,
                                    "structured": body["limits"][name], "text": derived,
                                    "source": f"{file_name} 第{row}行", "text_source": f"{t[3]} 第{t[4]}条"})
    return out


def _same_number(a, b) -> bool:
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return False


def _newest(s: Source) -> tuple:
    """Sort key: newest published first, undated last."""
    d = s.rec.published_at
    return (0, -d.toordinal()) if d else (1, 0)
