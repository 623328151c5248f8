"""Write a run's findings in the contract §4 layout: .csv (UTF-8 with BOM), .xlsx or .parquet."""

from __future__ import annotations

from pathlib import Path

import duckdb

from fundguard.engine.schema import EXPORT_COLUMNS
from fundguard.errors import FundGuardError
from fundguard.store.export import copy_query

# Extra columns after the contract's, for analysts (the contract allows additions).
EXTRA_COLUMNS = ("hilist_name", "line_cnt", "vola_fee", "bilg_dr_code", "run_id")
HEADERS_CN = {
    "jr_id": "疑点编号", "rule_id": "规则编码", "rule_name": "规则名称", "sev_deg": "严重程度",
    "vola_bhvr_type": "违规类别", "mdtrt_id": "就诊ID", "setl_id": "结算ID", "psn_no": "人员编号",
    "fixmedins_code": "定点机构编码", "hilist_code": "医保目录编码", "bkkp_sn": "费用明细流水号",
    "vola_amt": "违规金额(元)", "vola_cont": "违规内容", "vola_evid": "违规依据", "kp_id": "知识点",
    "hilist_name": "项目名称", "line_cnt": "明细行数", "vola_fee": "违规费用(元)", "bilg_dr_code": "开单医师",
    "run_id": "审核批次",
}


class ExportError(FundGuardError):
    code = "FG500"


def export_findings(con: duckdb.DuckDBPyConnection, run_id: int, out: str | Path) -> int:
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".xlsx", ".parquet"):
        raise ExportError(f"不支持的输出格式 {suffix!r}：请使用 .csv、.xlsx 或 .parquet")
    out.parent.mkdir(parents=True, exist_ok=True)
    cols = ", ".join(EXPORT_COLUMNS + EXTRA_COLUMNS)
    query = f"SELECT {cols} FROM findings WHERE run_id = {int(run_id)} ORDER BY rule_id, fixmedins_code, mdtrt_id, jr_id"
    count = con.execute("SELECT count(*) FROM findings WHERE run_id = ?", [run_id]).fetchone()[0]
    if suffix == ".xlsx":
        _write_xlsx(con, query, out)
    else:
        copy_query(con, query, out)
    return count


def _write_xlsx(con, query: str, out: Path) -> None:
    import xlsxwriter

    names = list(EXPORT_COLUMNS + EXTRA_COLUMNS)
    wb = xlsxwriter.Workbook(str(out), {"constant_memory": True})
    ws = wb.add_worksheet("疑点明细")
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    money = wb.add_format({"num_format": "#,##0.00"})
    ws.write_row(0, 0, names, head)  # national column names: other systems read this sheet
    for i, name in enumerate(names):
        ws.write_comment(0, i, HEADERS_CN[name])
    widths = {"vola_cont": 60, "vola_evid": 60, "bkkp_sn": 30, "rule_name": 24, "jr_id": 28}
    for i, name in enumerate(names):
        ws.set_column(i, i, widths.get(name, 16), money if name in ("vola_amt", "vola_fee") else None)
    ws.freeze_panes(1, 0)
    result = con.execute(query)
    row = 1
    while batch := result.fetchmany(10_000):
        for values in batch:
            for col, value in enumerate(values):
                if value is None:
                    continue
                if names[col] in ("vola_amt", "vola_fee"):
                    ws.write_number(row, col, float(value), money)
                elif isinstance(value, (int, float)):
                    ws.write_number(row, col, value)
                else:
                    ws.write_string(row, col, str(value))
            row += 1
    ws.autofilter(0, 0, max(row - 1, 1), len(names) - 1)
    legend = wb.add_worksheet("字段说明")
    legend.write_row(0, 0, ["字段", "含义"], head)
    for i, name in enumerate(names, start=1):
        legend.write_row(i, 0, [name, HEADERS_CN[name]])
    legend.set_column(0, 1, 24)
    wb.close()
