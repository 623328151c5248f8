"""Screening outputs: an xlsx workbook (overview, one sheet per risk list, one sheet per screen) and Parquet files.

Parquet keeps the store's column names (subject_id, fixmedins_code, …); the workbook, which people read, has
Chinese headers. Long lists are cut at ``max_rows`` per sheet (the Parquet files are complete).
"""

from __future__ import annotations

import json
from pathlib import Path

from fundguard.errors import StoreError

LIST_SHEETS = (("medins", "机构风险排名"), ("doctor", "医师风险排名"), ("person", "人员风险排名"), ("group", "疑似团伙"))
SUBJECT_NAMES = {"medins": "机构", "doctor": "医师", "person": "参保人", "group": "团伙", "item": "药品耗材"}


def export_screening(con, out: str | Path, run_id: int | None = None, max_rows: int = 20_000) -> dict[str, int]:
    """Write the run's results to ``out`` (.xlsx, or .parquet: results plus ``<stem>.risk_scores.parquet``,
    ``<stem>.groups.parquet`` and ``<stem>.indicators.parquet`` beside it). Returns rows written per part."""
    from fundguard.screening.queries import latest_run

    run_id = run_id or latest_run(con)
    if run_id is None:
        raise StoreError("分析库中还没有成功的筛查批次，请先运行 fundguard screen")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    suffix = out.suffix.lower()
    if suffix == ".parquet":
        return _parquet(con, out, int(run_id))
    if suffix == ".xlsx":
        return _xlsx(con, out, int(run_id), max_rows)
    raise StoreError(f"不支持的筛查输出格式 {suffix!r}：请使用 .xlsx 或 .parquet")


def _parquet(con, out: Path, run_id: int) -> dict[str, int]:
    from fundguard.store.export import copy_query

    parts = {"screen_results": out, "risk_scores": out.with_name(f"{out.stem}.risk_scores.parquet"),
             "screen_groups": out.with_name(f"{out.stem}.groups.parquet"),
             "screen_indicators": out.with_name(f"{out.stem}.indicators.parquet")}
    order = {"screen_results": "screen_id, subject_type, rank", "risk_scores": "subject_type, rank",
             "screen_groups": "group_id", "screen_indicators": "subject_type, indicator, subject_id"}
    counts = {}
    for table, path in parts.items():
        copy_query(con, f"SELECT * FROM {table} WHERE run_id = {run_id} ORDER BY {order[table]}", path)
        counts[path.name] = con.execute(f"SELECT count(*) FROM {table} WHERE run_id = {run_id}").fetchone()[0]
    return counts


def _xlsx(con, out: Path, run_id: int, max_rows: int) -> dict[str, int]:
    import xlsxwriter

    from fundguard.screening.queries import run_info
    from fundguard.screening.registry import SCREENS

    wb = xlsxwriter.Workbook(str(out), {"constant_memory": True, "strings_to_numbers": False})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    num = wb.add_format({"num_format": "0.0000", "valign": "top"})
    counts: dict[str, int] = {}
    info = run_info(con, run_id) or {}
    ws = wb.add_worksheet("说明")
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 100)
    overview = [("筛查批次", str(run_id)), ("筛查期间", info.get("period_label", "")),
                ("就诊人次", f"{info.get('encounters') or 0:,}"), ("费用明细行数", f"{info.get('fee_lines') or 0:,}"),
                ("所用审核批次", str(info.get("audit_run_id") or "无（未运行智能审核）")),
                ("各阶段用时（秒）", json.dumps(info.get("stage_seconds", {}), ensure_ascii=False)),
                ("风险等级", "高风险：评分 ≥ 0.6；中风险：0.3–0.6；低风险：< 0.3。评分与理由的计算方法见 docs/screening.md")]
    for sdef in SCREENS:
        overview.append((f"{sdef.screen_id} {sdef.name}", f"{sdef.description}（依据：{sdef.basis}）"))
    ws.write_row(0, 0, ["项目", "内容"], head)
    for r, row in enumerate(overview, start=1):
        ws.write_row(r, 0, row, wrap)
    for stype, title in LIST_SHEETS:
        rows = con.execute("""SELECT rank, subject_id, subject_name, fixmedins_code, score, risk_level, reasons, evidence
                              FROM risk_scores WHERE run_id = ? AND subject_type = ? ORDER BY rank LIMIT ?""",
                           [run_id, stype, max_rows]).fetchall()
        ws = wb.add_worksheet(title)
        header = ["排名", "编码", "名称", "定点机构编码", "风险评分", "风险等级", "主要理由", "证据（规则、筛查、异常的强度与贡献）"]
        _sheet(ws, head, header, [6, 20, 22, 16, 10, 9, 90, 60])
        for r, row in enumerate(rows, start=1):
            reasons = "\n".join(json.loads(row[6]))
            ev = "；".join(f"{k}: 强度{v['strength']}，贡献{v['contribution']}" for k, v in json.loads(row[7]).items())
            ws.write_number(r, 0, row[0])
            ws.write_row(r, 1, [row[1], row[2] or "", row[3] or ""], wrap)
            ws.write_number(r, 4, row[4], num)
            ws.write_row(r, 5, [row[5], reasons, ev], wrap)
        counts[title] = len(rows)
    for sdef in SCREENS:
        rows = con.execute("""SELECT rank, subject_type, subject_id, subject_name, fixmedins_code, strength, metric, reason, metrics
                              FROM screen_results WHERE run_id = ? AND screen_id = ?
                              ORDER BY subject_type = 'item', subject_type, rank LIMIT ?""",
                           [run_id, sdef.screen_id, max_rows]).fetchall()
        ws = wb.add_worksheet(f"{sdef.screen_id} {sdef.name}"[:31])
        header = ["排名", "对象类型", "编码", "名称", "定点机构编码", "强度", "指标值", "说明", "明细"]
        _sheet(ws, head, header, [6, 9, 22, 22, 16, 8, 10, 90, 60])
        for r, row in enumerate(rows, start=1):
            ws.write_number(r, 0, row[0])
            ws.write_row(r, 1, [SUBJECT_NAMES.get(row[1], row[1]), row[2], row[3] or "", row[4] or ""], wrap)
            ws.write_number(r, 5, row[5] or 0, num)
            ws.write_number(r, 6, row[6] or 0, num)
            ws.write_row(r, 7, [row[7] or "", row[8] or ""], wrap)
        counts[sdef.screen_id] = len(rows)
    wb.close()
    return counts


def _sheet(ws, head, header: list[str], widths: list[int]) -> None:
    ws.write_row(0, 0, header, head)
    for c, w in enumerate(widths):
        ws.set_column(c, c, w)
    ws.freeze_panes(1, 0)
