"""A well-formed mini city loads completely, typed, and every batch is recorded."""

import datetime as dt
from decimal import Decimal

from fundguard.ingest.loader import load_dir
from tests.conftest import rows


def test_every_table_loads_with_its_rows(store, mini_dir):
    results = load_dir(store, mini_dir)
    loaded = {r.table: (r.status, r.rows_in, r.inserted, r.rejected) for r in results}
    assert loaded == {
        "medins_info": ("ok", 3, 3, 0),
        "mdtrt_d": ("ok", 3, 3, 0),
        "setl_d": ("ok", 3, 3, 0),
        "fee_list_d": ("ok", 8, 8, 0),
        "setl_list_diag_d": ("ok", 3, 3, 0),
        "setl_list_oprn_d": ("ok", 1, 1, 0),
    }
    # reference tables load before the national ones
    assert [r.table for r in results][0] == "medins_info"


def test_columns_are_typed_and_amounts_exact(store, mini_dir):
    load_dir(store, mini_dir)
    begn, brdy, ipt_days = rows(store, "SELECT begntime, brdy, ipt_days FROM mdtrt_d WHERE mdtrt_id = 'MD0001'")[0]
    assert begn == dt.datetime(2025, 3, 1, 8, 30)
    assert brdy == dt.date(1956, 3, 2)
    assert ipt_days == 7
    total = rows(store, "SELECT sum(det_item_fee_sumamt) FROM fee_list_d WHERE setl_id = 'ST0001'")[0][0]
    assert total == Decimal("1234.56")
    assert rows(store, "SELECT medfee_sumamt FROM setl_d WHERE setl_id = 'ST0001'")[0][0] == total
    # codes keep their leading zeros
    assert rows(store, "SELECT hosp_lv FROM medins_info WHERE fixmedins_code = 'H32060100001'")[0][0] == "01"
    assert rows(store, "SELECT hilist_code FROM fee_list_d WHERE bkkp_sn = 'FL0000001'")[0][0] == "001109000010000"


def test_batch_records_file_hash_and_counts(store, mini_dir):
    load_dir(store, mini_dir)
    batch = rows(store, """SELECT file_name, length(file_hash), file_size > 0, encoding, rows_in, rows_inserted,
                                  status, finished_at >= started_at
                           FROM load_batches WHERE table_name = 'fee_list_d'""")
    assert batch == [("fee_list_d.csv", 64, True, "utf-8", 8, 8, "ok", True)]


def test_each_loaded_row_remembers_its_batch_and_line(store, mini_dir):
    load_dir(store, mini_dir)
    assert rows(store, "SELECT _src_line FROM fee_list_d WHERE bkkp_sn = 'FL0000003'") == [(4,)]
    assert rows(store, "SELECT count(DISTINCT _batch_id) FROM fee_list_d") == [(1,)]


def test_extra_columns_are_ignored_and_recorded(store, mini_dir):
    text = (mini_dir / "setl_list_oprn_d.csv").read_text(encoding="utf-8").splitlines()
    text[0] += ",hospital_private_note"
    text[1] += ",仅院内使用"
    (mini_dir / "setl_list_oprn_d.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    [result] = [r for r in load_dir(store, mini_dir) if r.table == "setl_list_oprn_d"]
    assert result.status == "ok" and result.inserted == 1
    assert result.ignored_columns == ["hospital_private_note"]
    assert rows(store, "SELECT ignored_columns FROM load_batches WHERE table_name = 'setl_list_oprn_d'") == [
        ("hospital_private_note",)]


def test_tab_delimited_file_loads(store, mini_dir):
    lines = (mini_dir / "setl_list_diag_d.csv").read_text(encoding="utf-8").splitlines()
    (mini_dir / "setl_list_diag_d.csv").write_text("\n".join(l.replace(",", "\t") for l in lines) + "\n",
                                                   encoding="utf-8")
    [result] = [r for r in load_dir(store, mini_dir) if r.table == "setl_list_diag_d"]
    assert (result.status, result.inserted) == ("ok", 3)
    assert rows(store, "SELECT diag_name FROM setl_list_diag_d WHERE setl_list_diag_id = 'DG0002'") == [("高血压",)]
