"""Downloads for the web app: the 疑点 list of the current filter as xlsx, and attachment files."""

from __future__ import annotations

import datetime as dt
import io
from urllib.parse import quote

from fastapi.responses import Response

MAX_ROWS = 100_000
# (national/project field, Chinese header, column width)
COLUMNS = (
    ("jr_id", "疑点编号", 30), ("state_label", "处理状态", 20), ("rule_id", "规则编码", 20), ("rule_name", "规则名称", 26),
    ("sev_deg", "严重程度", 10), ("vola_amt", "违规金额(元)", 14), ("fixmedins_code", "定点机构编码", 16),
    ("fixmedins_name", "定点机构名称", 24), ("psn_no", "人员编号", 20), ("mdtrt_id", "就诊ID", 22),
    ("setl_id", "结算ID", 22), ("hilist_code", "医保目录编码", 22), ("hilist_name", "项目名称", 24),
    ("period", "期间", 9), ("vola_cont", "违规内容", 60), ("deadline", "办理时限", 12), ("overdue", "是否逾期", 9),
    ("assignee", "经办人", 12),
)
FILTER_LABELS = {"rule_id": "规则", "fixmedins_code": "机构", "psn_no": "参保人", "period_from": "起始期间",
                 "period_to": "截止期间", "sev_deg": "严重程度", "state": "状态", "closed": "是否办结",
                 "min_amt": "最低金额", "max_amt": "最高金额", "assignee_id": "经办人编号", "overdue": "是否逾期",
                 "q": "关键词"}


def items_xlsx(items, principal, query) -> tuple[bytes, int]:
    """The items matching the query's filter (as the principal may see them) as an xlsx workbook; (bytes, rows)."""
    import xlsxwriter

    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True})
    ws = wb.add_worksheet("疑点清单")
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    money = wb.add_format({"num_format": "#,##0.00"})
    for col, (field, label, width) in enumerate(COLUMNS):
        ws.write(0, col, label, head)
        ws.write_comment(0, col, field)
        ws.set_column(col, col, width, money if field == "vola_amt" else None)
    ws.freeze_panes(1, 2)
    row = 1
    for item in _export_rows(items, principal, query):
        for col, (field, _, _) in enumerate(COLUMNS):
            value = getattr(item, field, None)
            if value is None:
                continue
            if field == "vola_amt":
                ws.write_number(row, col, float(value), money)
            elif field == "sev_deg":
                ws.write_string(row, col, {1: "明确违规", 2: "可疑"}.get(value, str(value)))
            elif field == "overdue":
                ws.write_string(row, col, "是" if value else "否")
            else:
                ws.write_string(row, col, str(value))
        row += 1
    ws.autofilter(0, 0, max(row - 1, 1), len(COLUMNS) - 1)
    info = wb.add_worksheet("导出说明")
    info.set_column(0, 0, 16)
    info.set_column(1, 1, 60)
    lines = [("导出时间", dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")),
             ("导出人", f"{principal.display_name}（{principal.username}，{principal.role_label}）"),
             ("行数", f"{row - 1:,}" + ("（已达上限，请缩小筛选范围）" if row - 1 >= MAX_ROWS else "")), ("排序", query.sort)]
    for key, value in query.filter.model_dump(exclude_none=True).items():
        lines.append((f"筛选：{FILTER_LABELS.get(key, key)}", str(getattr(value, "value", value))))
    lines.append(("说明", "疑点为智能审核线索，须经初审、复审、申诉和调查核实后方可认定违规。"))
    for i, (key, value) in enumerate(lines):
        info.write_row(i, 0, [key, value])
    wb.close()
    return buffer.getvalue(), row - 1


def _export_rows(items, principal, query):
    """ItemService.export_items (scope and the export permission are the service's); a service that takes one
    sort key gets the last of the query's keys."""
    from fundguard.errors import ValidationFailed

    try:
        return items.export_items(principal, query.filter, query.sort, limit=MAX_ROWS)
    except ValidationFailed:
        if "," not in query.sort:
            raise
        return items.export_items(principal, query.filter, query.sort.split(",")[-1], limit=MAX_ROWS)


def items_xlsx_response(items, principal, query) -> Response:
    data, _ = items_xlsx(items, principal, query)
    name = f"疑点清单_{dt.date.today():%Y%m%d}.xlsx"
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": content_disposition(name)})


def content_disposition(filename: str) -> str:
    ascii_name = filename.encode("ascii", "ignore").decode() or "download"
    ascii_name = ascii_name.replace('"', "").replace("\\", "")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def attachment_response(filename: str, content_type: str, data: bytes) -> Response:
    """Always a download (never rendered inline), with the stored content type."""
    return Response(data, media_type=content_type or "application/octet-stream",
                    headers={"Content-Disposition": content_disposition(filename),
                             "X-Content-Type-Options": "nosniff"})
