"""Plain summaries of what a store holds: loads, rejects, and the city's main figures."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb


MED_TYPES = {
    "11": "普通门诊", "14": "门诊慢特病", "21": "普通住院", "22": "外伤住院", "24": "急诊转住院", "28": "日间手术",
    "41": "定点药店购药", "51": "生育门诊", "52": "生育住院", "9901": "互联网门诊",
}
MEDINS_TYPES = {
    "11": "综合医院", "12": "中医医院", "13": "专科医院", "21": "乡镇卫生院", "22": "社区卫生服务中心",
    "23": "村卫生室", "31": "门诊部/诊所", "41": "互联网医院", "51": "定点零售药店",
}


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[tuple]


STATUS = {"ok": "成功", "skipped": "跳过（重复文件）", "failed": "失败", "running": "进行中"}


def load_batches(con: duckdb.DuckDBPyConnection, last: int | None = None) -> Table:
    limit = f"LIMIT {int(last)}" if last else ""
    rows = con.execute(
        f"""SELECT batch_id, table_name, file_name, status, encoding, rows_in, rows_inserted, rows_replaced,
                   rows_unchanged, rows_rejected, round(epoch(finished_at - started_at), 1), coalesce(message, '')
            FROM load_batches ORDER BY batch_id DESC {limit}""").fetchall()
    rows = [(r[0], r[1], r[2], STATUS.get(r[3], r[3]), *r[4:]) for r in reversed(rows)]
    return Table("导入批次", ["批次", "表", "文件", "状态", "编码", "读入", "新增", "替换", "未变", "拒收", "秒", "说明"], rows)


def rejects(con: duckdb.DuckDBPyConnection, batch_id: int | None = None, limit: int = 50) -> Table:
    where = "WHERE batch_id = ?" if batch_id is not None else ""
    params = [batch_id] if batch_id is not None else []
    rows = con.execute(
        f"""SELECT batch_id, file_name, line, coalesce(column_name, ''), reason_code, reason FROM load_rejects
            {where} ORDER BY batch_id, line LIMIT {int(limit)}""", params).fetchall()
    return Table("拒收记录", ["批次", "文件", "行", "字段", "代码", "原因"], rows)


def city_overview(con: duckdb.DuckDBPyConnection) -> list[Table]:
    """The figures a bureau chief asks for first: who, how many visits, how much the fund paid."""
    tables = []
    medins = con.execute(
        """SELECT coalesce(medins_type, fixmedins_type), count(*), sum(CASE WHEN nonpub_flag = '1' THEN 1 ELSE 0 END),
                  sum(CASE WHEN agreement_status <> '1' THEN 1 ELSE 0 END)
           FROM medins_info GROUP BY 1 ORDER BY 1""").fetchall()
    tables.append(Table("定点医药机构", ["类别", "机构数", "其中民营", "协议暂停/解除"],
                        [(MEDINS_TYPES.get(r[0], r[0]), *r[1:]) for r in medins]))
    visits = con.execute(
        """SELECT m.med_type, count(*), count(DISTINCT m.psn_no),
                  coalesce(sum(s.medfee_sumamt), 0), coalesce(sum(s.fund_pay_sumamt), 0)
           FROM mdtrt_d m LEFT JOIN setl_d s USING (mdtrt_id) GROUP BY 1 ORDER BY 1""").fetchall()
    tables.append(Table("就诊与结算", ["医疗类别", "人次", "人数", "医疗总费用(元)", "基金支付(元)"],
                        [(MED_TYPES.get(r[0], r[0]), r[1], r[2], f"{r[3]:,.2f}", f"{r[4]:,.2f}") for r in visits]))
    return tables
