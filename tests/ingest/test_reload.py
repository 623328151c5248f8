"""Loading twice adds nothing; a corrected re-delivery replaces rows and the replacement is recorded."""

import json

from fundguard.ingest.loader import load_dir, load_file
from tests.conftest import rows


def _counts(store):
    return rows(store, """SELECT (SELECT count(*) FROM mdtrt_d), (SELECT count(*) FROM fee_list_d),
                                 (SELECT count(*) FROM setl_d)""")[0]


def test_same_files_twice_adds_nothing(store, mini_dir):
    load_dir(store, mini_dir)
    before = _counts(store)
    second = load_dir(store, mini_dir)
    assert {r.status for r in second} == {"skipped"}
    assert all("相同" in r.message for r in second)
    assert _counts(store) == before == (3, 8, 3)
    # every attempt is a recorded batch
    assert rows(store, "SELECT count(*), count(*) FILTER (status = 'skipped') FROM load_batches") == [(12, 6)]


def test_forced_reload_of_same_rows_changes_nothing(store, mini_dir):
    load_dir(store, mini_dir)
    forced = {r.table: (r.inserted, r.replaced, r.unchanged) for r in load_dir(store, mini_dir, force=True)}
    assert forced["fee_list_d"] == (0, 0, 8)
    assert _counts(store) == (3, 8, 3)
    assert rows(store, "SELECT count(*) FROM load_replacements") == [(0,)]


def test_same_rows_in_a_new_file_are_unchanged(store, mini_dir, tmp_path):
    load_dir(store, mini_dir)
    copy = tmp_path / "again" / "fee_list_d.csv"
    copy.parent.mkdir()
    copy.write_text((mini_dir / "fee_list_d.csv").read_text(encoding="utf-8") + "\n", encoding="utf-8")
    result = load_file(store, "fee_list_d", copy)
    assert (result.status, result.inserted, result.replaced, result.unchanged) == ("ok", 0, 0, 8)


def test_corrected_redelivery_replaces_and_records_old_row(store, mini_dir, tmp_path):
    load_dir(store, mini_dir)
    old_batch = rows(store, "SELECT _batch_id FROM fee_list_d WHERE bkkp_sn = 'FL0000003'")[0][0]
    corrected = tmp_path / "fix" / "fee_list_d.csv"
    corrected.parent.mkdir()
    corrected.write_text(
        "bkkp_sn,mdtrt_id,setl_id,psn_no,fixmedins_code,fee_ocur_time,hilist_code,hilist_name,med_chrgitm_type,"
        "chrgitm_lv,cnt,pric,det_item_fee_sumamt,pric_uplmt_amt,inscp_amt,bilg_dr_code\n"
        "FL0000003,MD0001,ST0001,P000000000001,H32060100001,2025-03-02 10:00:00,XJ01DDC150B001010101234,"
        "注射用头孢曲松钠,09,01,7,62.40,436.80,,436.80,D320601000101\n"
        "FL0000009,MD0001,ST0001,P000000000001,H32060100001,2025-03-05 10:00:00,002501010010000,血常规,04,01,1,"
        "25.00,25.00,25.00,25.00,D320601000101\n", encoding="utf-8")
    result = load_file(store, "fee_list_d", corrected)
    assert (result.inserted, result.replaced, result.unchanged) == (1, 1, 0)
    assert rows(store, "SELECT count(*) FROM fee_list_d") == [(9,)]
    assert rows(store, "SELECT cnt, det_item_fee_sumamt, _batch_id FROM fee_list_d WHERE bkkp_sn = 'FL0000003'")[0][2] \
        == result.batch_id
    [(key, old, changed, old_record)] = rows(
        store, "SELECT natural_key, old_batch_id, changed_columns, old_record FROM load_replacements")
    assert json.loads(key) == {"bkkp_sn": "FL0000003"}
    assert old == old_batch
    assert changed == "cnt;det_item_fee_sumamt;inscp_amt"
    assert json.loads(old_record)["det_item_fee_sumamt"] == 873.6  # nothing already stored is lost
