"""Read the per-batch 两库 workbooks (batches 1–8, one workbook per batch and class group).

Layouts (the header names vary per workbook; each logical column accepts several spellings):

| layout | columns | class |
|---|---|---|
| drug list (batches 1, 3–6) | 药品通用名, 药品说明, 限定类型, 限定对象/限定值域 (+ Sheet2) | by 限定类型, per row for age, insurance |
| item list (batches 1, 2) | 项目名称, [项目说明], 国标代码, 限定类型, 限定性别/限定对象/限定值域 | 性别, 儿童专用, 手术折价 |
| pairs (batch 7) | 序号, 频度, 主项名称, 主项编码, 从项名称, 从项编码, 备注 | 医疗服务项目重复收费 |
| frequency (8-1) | 序号, 项目名称, 限制数量, 数量单位, 项目编码 | 医疗服务项目限定频次 |
| remark (8-2, 8-3) | 序号, 项目名称, 备注, 项目代码 | by sheet title / file name: 限年龄, 限支付疗程 |
| period (8-4) | 序号, 项目名称, 频次上限, 疗程周期, 备注, 项目代码 | 医疗服务项目周期超频次 |

Sheet2 of a drug workbook (药品通用名, 序号, 国标代码/药品代码) expands each drug to its national codes: a
drug point gets every code Sheet2 lists for its name. Structured cells become typed limits
(``KbRecord.limits`` / ``structured``); the importer derives the rest from the text. Fully empty rows are
skipped; every other row that cannot be used is returned with its row number and a Chinese reason.
"""

from __future__ import annotations

import re
from pathlib import Path

from fundguard.errors import FundGuardError
from fundguard.kb import derive
from fundguard.kb.records import KbRecord

COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("药品通用名", "药品名称", "项目名称", "名称"),
    "desc": ("药品说明", "项目说明", "备注", "说明", "限定条件"),
    "code": ("国标代码", "项目编码", "项目代码", "药品代码", "医保编码", "编码"),
    "kind": ("限定类型",),
    "value": ("限定对象", "限定值域", "限定性别", "限定值"),
    "seq": ("序号",),
    "scope": ("频度", "时间范围"),
    "a_name": ("主项名称", "项目A名称"),
    "a_code": ("主项编码", "项目A编码"),
    "b_name": ("从项名称", "项目B名称"),
    "b_code": ("从项编码", "项目B编码"),
    "max_cnt": ("限制数量", "频次上限", "数量上限"),
    "unit": ("数量单位", "单位"),
    "period_days": ("疗程周期", "周期天数", "周期"),
}
# 频度 of the duplicate-charge workbook → scope.
SCOPES = {"单日": "同日", "同日": "同日", "当日": "同日", "单次就诊": "同次就诊", "同次就诊": "同次就诊",
          "同一次就诊": "同次就诊", "同一小时": "同一小时"}
# Fallback by file name for workbooks whose columns do not say the class (batch 8).
FILE_CLASSES = (("限定频次", "医疗服务项目限定频次"), ("限定周期", "医疗服务项目周期超频次"),
                ("限定疗程", "医疗服务项目限支付疗程"), ("限定年龄", "医疗服务项目限年龄"),
                ("重复收费", "医疗服务项目重复收费"), ("主次操作", "手术项目未按规定折价收费"))
KNOWN_CLASSES = frozenset(derive.REQUIRED) | {"中药饮片单复方均不予支付", "中药饮片单方使用不予支付",
                                              "超互联网医院药品支付范围"}


class XlsxLayoutError(FundGuardError):
    code = "FG301"


def batch_of(file_name: str) -> str | None:
    """'【第八批-3】…' → '8'."""
    m = re.search(r"第\s*([一二三四五六七八九十\d]+)\s*批", file_name)
    return str(derive.cn_number(m.group(1))) if m else None


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _code(value) -> str:
    """A national code; numeric cells lost their leading zeros (service codes have 15 digits)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(int(value)).zfill(15)
    return _cell(value).replace(" ", "")


def _header_map(row: tuple) -> dict[str, int]:
    found: dict[str, int] = {}
    cells = [derive.norm(_cell(c)) for c in row]
    for key, names in COLUMNS.items():
        for name in names:  # the first spelling that is present wins
            if name in cells:
                found[key] = cells.index(name)
                break
    return found


def _find_header(rows: list[tuple]) -> tuple[int, dict[str, int]]:
    for index, row in enumerate(rows[:10]):
        cols = _header_map(row)
        if "name" in cols or "a_code" in cols:
            return index, cols
    return -1, {}


def _sheet_class(title: str) -> str | None:
    m = re.search(r"[“\"]([^”\"]+)[”\"]规则", title or "")
    return m.group(1) if m and m.group(1) in KNOWN_CLASSES else None


def _drug_codes(sheet) -> dict[str, list[str]]:
    """Sheet2: drug name → its national codes in 序号 order."""
    rows = list(sheet.iter_rows(values_only=True))
    index, cols = _find_header(rows)
    if index < 0 or "name" not in cols or "code" not in cols:
        return {}
    out: dict[str, list[tuple[float, str]]] = {}
    for n, row in enumerate(rows[index + 1:]):
        name = derive.norm(_cell(row[cols["name"]]) if cols["name"] < len(row) else "")
        code = _code(row[cols["code"]]) if cols["code"] < len(row) else ""
        if name and code:
            seq = row[cols["seq"]] if "seq" in cols and cols["seq"] < len(row) else None
            out.setdefault(name, []).append((float(seq) if isinstance(seq, (int, float)) else n, code))
    return {k: list(dict.fromkeys(c for _, c in sorted(v))) for k, v in out.items()}


def _is_drug(cols: dict[str, int], header: tuple, file_name: str) -> bool:
    name_header = _cell(header[cols["name"]]) if "name" in cols else ""
    return "药品" in name_header or ("药品" in file_name and "项目" not in file_name)


def _kind_class(kind: str, drug: bool, value: str, desc: str) -> str | None:
    """The class of one row of a 限定类型 workbook."""
    if "性别" in kind:
        return "药品区分性别使用" if drug else "医疗服务项目区分性别使用"
    if "年龄" in kind:
        if not drug:
            return "医疗服务项目儿童专用"
        # 限…儿童 texts are payment limits (药品限儿童使用); drug descriptions mark children-only drugs.
        return "药品限儿童使用" if derive.norm(desc).startswith("限") else "药品儿童专用"
    if "保险" in kind or "险种" in kind:
        return {"工伤": "药品限工伤保险", "生育": "药品限生育保险"}.get(value[:2]) if drug else \
            {"工伤": "医疗服务项目限工伤保险", "生育": "医疗服务项目限生育保险"}.get(value[:2])
    for word, drug_class, item_class in (("机构", "药品限医疗机构级别", "医疗服务项目限医疗机构级别"),
                                         ("等级", "药品限医疗机构级别", "医疗服务项目限医疗机构级别"),
                                         ("疗程", "药品限支付疗程", "医疗服务项目限支付疗程"),
                                         ("就医方式", "药品限就医方式", "医疗服务项目限就医方式")):
        if word in kind:
            return drug_class if drug else item_class
    if "主次" in kind or "折价" in kind:
        return "手术项目未按规定折价收费"
    return None


def _value_limits(rule_class: str, value: str) -> dict[str, object]:
    """Typed limits from the 限定对象/限定值域/限定性别 cell (empty when the cell says nothing precise)."""
    v = derive.norm(value)
    if rule_class.endswith("区分性别使用"):
        return {"gend": "1"} if v.startswith("男") else {"gend": "2"} if v.startswith("女") else {}
    if rule_class == "医疗服务项目儿童专用":
        return {"新生儿": {"age_max_days": 28, "age_max": 1}, "婴儿": {"age_max": 1}, "婴幼儿": {"age_max": 3},
                "儿童": {"age_max": 18}, "小儿": {"age_max": 18}}.get(v, {})
    if rule_class.endswith("限工伤保险"):
        return {"insutypes": ""}
    if rule_class.endswith("限生育保险"):
        return {"insutypes": "510"}
    if rule_class.endswith("限医疗机构级别"):
        m = re.match(r"([一二三两])级", v)
        return {"min_hosp_grade": derive.cn_number(m.group(1))} if m else {}
    if rule_class.endswith("限支付疗程"):
        m = re.fullmatch(rf"{derive.NUM}\s*(个月|星期|天|日|周|月|年)", v)
        return {"max_days": derive.to_days(derive.cn_number(m.group(1)), m.group(2))} if m else {}
    if rule_class.endswith("限就医方式"):
        types = derive.med_types_of(v)
        return {"med_types": types} if types else {}
    if rule_class == "手术项目未按规定折价收费":
        return {"group_name": v} if v else {}
    return {}


def _scope(value: str) -> str | None:
    v = derive.norm(value)
    if v in SCOPES:
        return SCOPES[v]
    m = re.fullmatch(r"(\d+)\s*小时", v)
    return f"{m.group(1)}小时" if m else None


def _number(value) -> float | None:
    try:
        number = float(_cell(value))
    except ValueError:
        return None
    return int(number) if number.is_integer() else number


def read_workbook(path: str | Path) -> tuple[list[KbRecord], list[tuple[int, str]]]:
    """Knowledge points of one workbook, and the rows that could not be used (Excel row number, reason)."""
    import openpyxl

    path = Path(path)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # not a workbook, encrypted, truncated …
        raise XlsxLayoutError(f"无法打开知识库工作簿 {path.name}：{exc}") from exc
    try:
        sheets = wb.worksheets
        rows = list(sheets[0].iter_rows(values_only=True))
        index, cols = _find_header(rows)
        if index < 0:
            raise XlsxLayoutError(f"工作簿 {path.name} 的第一个工作表中找不到表头（项目名称/药品通用名/主项编码）")
        header = rows[index]
        drug = _is_drug(cols, header, path.name)
        codes_by_name = _drug_codes(sheets[1]) if drug and len(sheets) > 1 else {}
        fixed = _sheet_class(sheets[0].title)
        if fixed is None and "kind" not in cols:
            fixed = next((c for w, c in FILE_CLASSES if w in path.name), None)
        if "a_code" in cols and "b_code" in cols:
            fixed = "医疗服务项目重复收费"
        if "kind" not in cols and fixed is None:
            raise XlsxLayoutError(f"无法识别工作簿 {path.name} 的版式（表头：{', '.join(_cell(c) for c in header if c)}）")
        return _read_rows(path.name, rows, index, cols, drug, codes_by_name, fixed)
    finally:
        wb.close()


def _read_rows(file_name, rows, index, cols, drug, codes_by_name, fixed):
    batch = batch_of(file_name)
    records: list[KbRecord] = []
    rejected: list[tuple[int, str]] = []

    def get(row, key) -> str:
        i = cols.get(key)
        return _cell(row[i]) if i is not None and i < len(row) else ""

    for excel_row, row in enumerate(rows[index + 1:], start=index + 2):
        if all(_cell(c) == "" for c in row):
            continue  # blank line, no data
        first = next((_cell(c) for c in row if _cell(c)), "")
        name = derive.norm(get(row, "name"))
        if first.startswith("合计") or name.startswith("合计"):
            rejected.append((excel_row, "合计行，不是知识点"))
            continue
        if re.match(r"(备注|说明|注)[:：]", first) and not (get(row, "code") or get(row, "a_code")):
            rejected.append((excel_row, f"说明文字，不是知识点：{first[:30]}"))
            continue
        desc, value = get(row, "desc"), get(row, "value")
        rule_class = fixed or _kind_class(get(row, "kind"), drug, value, desc)
        if rule_class is None:
            rejected.append((excel_row, f"无法识别限定类型「{get(row, 'kind')}」「{value}」对应的规则类"))
            continue
        rec = KbRecord(rule_class=rule_class, item_name=name, codes=[], source_kind="xlsx", file_name=file_name,
                       source_row=excel_row, batch=batch, constraint=desc or None)
        if rule_class == "医疗服务项目重复收费":
            a, b = _code(row[cols["a_code"]]), _code(row[cols["b_code"]])
            if not a or not b:
                rejected.append((excel_row, "重复收费知识点需要主项编码和从项编码"))
                continue
            rec.codes = [(a, "A"), (b, "B")]
            rec.item_name = f"{derive.norm(get(row, 'a_name'))}×{derive.norm(get(row, 'b_name'))}"
            scope = _scope(get(row, "scope"))
            if scope:
                rec.limits["scope"] = scope
        else:
            codes = [_code(row[cols["code"]])] if "code" in cols and cols["code"] < len(row) else []
            codes += codes_by_name.get(name, [])
            codes = list(dict.fromkeys(c for c in codes if c))
            if not codes:
                where = "Sheet2 中没有该药品的国家编码" if drug else "缺少项目编码"
                rejected.append((excel_row, f"{rule_class}「{name}」{where}，无法用于审核"))
                continue
            rec.codes = [(c, "") for c in codes]
            rec.limits.update(_value_limits(rule_class, value))
            _count_limits(rec, row, get)
        rec.structured = set(rec.limits)
        records.append(rec)
    return records, rejected


def _count_limits(rec: KbRecord, row, get) -> None:
    """限定频次 (限制数量 + 数量单位) and 周期超频次 (频次上限 + 疗程周期) cells."""
    max_cnt, unit, period_days = _number(get(row, "max_cnt")), get(row, "unit"), _number(get(row, "period_days"))
    if rec.rule_class == "医疗服务项目限定频次":
        if max_cnt is not None:
            rec.limits["max_cnt"] = max_cnt
        if unit in ("日", "天", "小时"):  # 小时: the count is in hours, capped per day
            rec.limits["period"] = "日"
        elif unit in ("次住院", "次就诊", "月", "年"):
            rec.limits["period"] = unit
        rec.constraint = rec.constraint or unit or None
    elif rec.rule_class == "医疗服务项目周期超频次":
        if max_cnt is not None:
            rec.limits["max_cnt"] = max_cnt
        if period_days is not None:
            rec.limits["period_days"] = int(period_days)
