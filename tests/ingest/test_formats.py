"""CSV in UTF-8, UTF-8 with BOM and GBK/GB18030; xlsx; Parquet — all land in the same typed table."""

import datetime as dt
from decimal import Decimal

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq

from fundguard.ingest.loader import load_file
from tests.conftest import FIXTURES, rows

MDTRT = (FIXTURES / "mini" / "mdtrt_d.csv").read_text(encoding="utf-8")


def test_gbk_csv_is_detected_and_decoded(store, tmp_path):
    path = tmp_path / "mdtrt_d.csv"
    path.write_bytes(MDTRT.encode("gbk"))
    result = load_file(store, "mdtrt_d", path)
    assert (result.status, result.encoding, result.inserted) == ("ok", "gb18030", 3)
    assert rows(store, "SELECT fixmedins_name, addr FROM mdtrt_d WHERE mdtrt_id = 'MD0002'") == [
        ("南通市第一人民医院", "通州区金沙镇三里村")]


def test_gb18030_only_characters_survive(store, tmp_path):
    text = MDTRT.replace("张**", "𠀀**")  # outside GBK, inside GB18030
    path = tmp_path / "mdtrt_d.csv"
    path.write_bytes(text.encode("gb18030"))
    load_file(store, "mdtrt_d", path)
    assert rows(store, "SELECT psn_name FROM mdtrt_d WHERE mdtrt_id = 'MD0001'") == [("𠀀**",)]


def test_utf8_with_bom(store, tmp_path):
    path = tmp_path / "mdtrt_d.csv"
    path.write_text(MDTRT, encoding="utf-8-sig")
    result = load_file(store, "mdtrt_d", path)
    assert (result.status, result.encoding, result.inserted) == ("ok", "utf-8-sig", 3)
    assert rows(store, "SELECT mdtrt_id FROM mdtrt_d ORDER BY 1") == [("MD0001",), ("MD0002",), ("MD0003",)]


def test_xlsx_with_date_cells_numbers_and_a_bad_row(store, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["setl_id", "mdtrt_id", "psn_no", "fixmedins_code", "setl_time", "medfee_sumamt", "hifp_pay",
               "fund_pay_sumamt"])
    ws.append(["ST1", "MD1", "P1", "H1", dt.datetime(2025, 3, 8, 10, 30), 1234.56, 900, 900])
    ws.append([None, None, None, None, None, None, None, None])  # blank row: skipped, not an error
    ws.append(["ST2", "MD2", "P2", "H1", "2025/04/10 09:41:00", "58", 29.5, 29.5])
    ws.append(["ST3", "MD3", "P3", "H1", "昨天", 1, 1, 1])
    wb.save(tmp_path / "setl_d.xlsx")
    result = load_file(store, "setl_d", tmp_path / "setl_d.xlsx")
    assert (result.status, result.inserted, result.rejected) == ("ok", 2, 1)
    assert rows(store, "SELECT setl_id, setl_time, medfee_sumamt, _src_line FROM setl_d ORDER BY 1") == [
        ("ST1", dt.datetime(2025, 3, 8, 10, 30), Decimal("1234.56"), 2),
        ("ST2", dt.datetime(2025, 4, 10, 9, 41), Decimal("58.00"), 4),
    ]
    assert rows(store, "SELECT line, column_name, reason_code FROM load_rejects") == [(5, "setl_time", "R03")]


def test_parquet_with_native_types(store, tmp_path):
    table = pa.table({
        "SETL_LIST_DIAG_ID": ["DG1", "DG2", None],  # header case does not matter
        "mdtrt_id": ["MD1", "MD1", "MD2"],
        "diag_type": ["1", "1", "1"],
        "maindiag_flag": ["1", "0", "1"],
        "diag_code": ["J18.9", "I10", "E11.9"],
        "diag_name": ["肺炎", "高血压", "2型糖尿病"],
        "updt_time": pa.array([dt.datetime(2025, 3, 8), None, dt.datetime(2025, 3, 9)], type=pa.timestamp("s")),
    })
    pq.write_table(table, tmp_path / "setl_list_diag_d.parquet")
    result = load_file(store, "setl_list_diag_d", tmp_path / "setl_list_diag_d.parquet")
    assert (result.status, result.inserted, result.rejected) == ("ok", 2, 1)
    assert rows(store, "SELECT line, column_name, reason_code FROM load_rejects") == [(3, "setl_list_diag_id", "R01")]
    assert rows(store, "SELECT updt_time FROM setl_list_diag_d WHERE setl_list_diag_id = 'DG1'") == [
        (dt.datetime(2025, 3, 8),)]
