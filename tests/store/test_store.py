import pyarrow.parquet as pq
import pytest

from fundguard.config import Settings
from fundguard.errors import StoreError
from fundguard.ingest.loader import load_dir
from fundguard.ingest.tables import TABLES
from fundguard.store.db import connect, init_schema
from fundguard.store.export import export_table
from tests.conftest import rows


def test_schema_has_every_national_column_and_bookkeeping(store):
    cols = [r[0] for r in rows(store, "SELECT column_name FROM information_schema.columns "
                                      "WHERE table_name = 'fee_list_d' ORDER BY ordinal_position")]
    assert cols[: len(TABLES["fee_list_d"].columns)] == list(TABLES["fee_list_d"].columns)
    assert cols[-3:] == ["_batch_id", "_src_line", "_row_hash"]


def test_init_schema_adds_missing_columns_without_losing_rows(store):
    store.execute("CREATE TABLE IF NOT EXISTS psn_info_old AS SELECT 1")
    store.execute("INSERT INTO medins_info (fixmedins_code, fixmedins_name) VALUES ('H1', '某医院')")
    store.execute("ALTER TABLE medins_info DROP COLUMN addr")
    init_schema(store)
    assert rows(store, "SELECT fixmedins_code, addr FROM medins_info") == [("H1", None)]


def test_export_any_table_to_parquet_and_csv(store, mini_dir, tmp_path):
    load_dir(store, mini_dir)
    n = export_table(store, "fee_list_d", tmp_path / "out" / "fee.parquet")
    assert n == 8
    table = pq.read_table(tmp_path / "out" / "fee.parquet")
    assert table.num_rows == 8 and "det_item_fee_sumamt" in table.column_names
    export_table(store, "load_batches", tmp_path / "out" / "batches.csv")
    raw = (tmp_path / "out" / "batches.csv").read_bytes()
    assert raw.startswith("\ufeff".encode()) and "fee_list_d.csv" in raw.decode("utf-8-sig")
    with pytest.raises(StoreError, match="没有表"):
        export_table(store, "no_such_table", tmp_path / "x.parquet")


def test_settings_are_validated_at_start_up(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="内存上限"):
        Settings(memory_limit="lots")
    with pytest.raises(ValueError, match="未知的引擎"):
        Settings(engine="oracle")
    monkeypatch.setenv("FUNDGUARD_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("FUNDGUARD_MEMORY_LIMIT", "1GB")
    s = Settings()
    assert s.db_path == tmp_path / "d" / "fundguard.duckdb"
    con = connect(settings=s)
    assert rows(con, "SELECT current_setting('memory_limit')")[0][0].replace(" ", "") in ("953.6MiB", "1.0GB", "1GB")
    con.close()
