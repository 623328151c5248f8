"""Bad rows go to load_rejects with file, line, column and reason; good rows still load."""

import pytest

from fundguard.errors import IngestError
from fundguard.ingest.loader import load_dir, load_file
from tests.conftest import rows

HEADER = ("bkkp_sn,mdtrt_id,setl_id,psn_no,fixmedins_code,fee_ocur_time,hilist_code,hilist_name,"
          "med_chrgitm_type,cnt,pric,det_item_fee_sumamt")
GOOD = "FL1,MD1,ST1,P1,H1,2025-03-01 09:00:00,001109000010000,普通病房床位费,01,1,30,30"


def _write(path, *lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _rejects(store):
    return rows(store, "SELECT line, column_name, reason_code FROM load_rejects ORDER BY line, column_name")


@pytest.mark.parametrize(
    "bad_line, expected",
    [
        (",MD1,ST1,P1,H1,2025-03-01 09:00:00,001,床位费,01,1,30,30", (3, "bkkp_sn", "R01")),
        ("FL2,MD1,ST1,,H1,2025-03-01 09:00:00,001,床位费,01,1,30,30", (3, "psn_no", "R02")),
        ("FL2,MD1,ST1,P1,H1,2025-02-30 09:00:00,001,床位费,01,1,30,30", (3, "fee_ocur_time", "R03")),
        ("FL2,MD1,ST1,P1,H1,2025-03-01 09:00:00,001,床位费,01,一,30,30", (3, "cnt", "R04")),
        ("FL1,MD1,ST1,P1,H1,2025-03-02 09:00:00,001,床位费,01,1,30,30", (3, "bkkp_sn", "R05")),
        ("FL2,MD1,ST1,P1,H1,2025-03-01 09:00:00,001,床位费,01,1,30", (3, None, "R06")),
        ("FL2,MD1,ST1,P1,H1,2025-03-01 09:00:00,001,床位费,01,1,30,30,多余", (3, None, "R06")),
    ],
    ids=["empty-key", "empty-required", "bad-date", "bad-number", "duplicate-key", "too-few-fields",
         "too-many-fields"],
)
def test_every_reject_reason(store, tmp_path, bad_line, expected):
    path = _write(tmp_path / "fee_list_d.csv", HEADER, GOOD, bad_line,
                  "FL3,MD1,ST1,P1,H1,2025-03-03 09:00:00,001,床位费,01,1,30,30")
    result = load_file(store, "fee_list_d", path)
    assert (result.status, result.rows_in, result.inserted, result.rejected) == ("ok", 3, 2, 1)
    assert _rejects(store) == [expected]
    # the good rows after the bad one keep their real line numbers
    assert rows(store, "SELECT bkkp_sn, _src_line FROM fee_list_d ORDER BY 2") == [("FL1", 2), ("FL3", 4)]


def test_reject_keeps_value_reason_and_raw_record(store, tmp_path):
    path = _write(tmp_path / "fee_list_d.csv", HEADER, GOOD,
                  "FL2,MD1,ST1,P1,H1,2025-13-01 09:00:00,001,床位费,01,1,abc,30")
    load_file(store, "fee_list_d", path)
    got = rows(store, """SELECT file_name, line, column_name, value, reason_code, reason, raw_record LIKE '%abc%'
                         FROM load_rejects ORDER BY column_name""")
    assert got == [
        ("fee_list_d.csv", 3, "fee_ocur_time", "2025-13-01 09:00:00", "R03", "日期时间无法解析：2025-13-01 09:00:00", True),
        ("fee_list_d.csv", 3, "pric", "abc", "R04", "数值无法解析：abc", True),
    ]
    # one bad row counts once, however many of its values were bad
    assert rows(store, "SELECT rows_rejected FROM load_batches") == [(1,)]


def test_several_structural_errors_keep_line_numbers_right(store, tmp_path):
    path = _write(tmp_path / "fee_list_d.csv", HEADER, GOOD,
                  "FL2,broken", "FL3,also,broken",
                  "FL4,MD1,ST1,P1,H1,2025-03-04 09:00:00,001,床位费,01,1,30,30",
                  "FL5,MD1,ST1,P1,H1,2025-03-05 09:00:00,001,床位费,01,1,30,xx")
    result = load_file(store, "fee_list_d", path)
    assert (result.inserted, result.rejected) == (2, 3)
    assert _rejects(store) == [(3, None, "R06"), (4, None, "R06"), (6, "det_item_fee_sumamt", "R04")]
    assert rows(store, "SELECT bkkp_sn, _src_line FROM fee_list_d ORDER BY 2") == [("FL1", 2), ("FL4", 5)]


def test_missing_required_column_names_file_and_column(store, tmp_path):
    path = _write(tmp_path / "fee_list_d.csv", HEADER.replace(",hilist_code", ""), GOOD.replace(",001109000010000", ""))
    with pytest.raises(IngestError) as err:
        load_file(store, "fee_list_d", path)
    assert err.value.code == "FG101"
    assert "fee_list_d.csv" in err.value.message and "hilist_code" in err.value.message
    assert rows(store, "SELECT status, message LIKE '%hilist_code%' FROM load_batches") == [("failed", True)]
    assert rows(store, "SELECT count(*) FROM fee_list_d") == [(0,)]


def test_a_failing_file_does_not_stop_the_others(store, mini_dir):
    lines = (mini_dir / "setl_d.csv").read_text(encoding="utf-8").splitlines()
    (mini_dir / "setl_d.csv").write_text("\n".join(l.replace(",fund_pay_sumamt", ",fund_total") for l in lines),
                                         encoding="utf-8")
    results = {r.table: r.status for r in load_dir(store, mini_dir)}
    assert results["setl_d"] == "failed"
    assert results["fee_list_d"] == "ok"
    assert rows(store, "SELECT count(*) FROM fee_list_d") == [(8,)]


def test_unknown_format_and_empty_file_are_clear_errors(store, tmp_path):
    with pytest.raises(IngestError, match="格式不受支持"):
        load_file(store, "fee_list_d", _write(tmp_path / "fee_list_d.json", "{}"))
    with pytest.raises(IngestError, match="表头"):
        load_file(store, "fee_list_d", _write(tmp_path / "fee_list_d.csv", ""))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(IngestError, match="没有可识别的数据文件"):
        load_dir(store, empty)
