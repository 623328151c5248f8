"""`fundguard audit` per data contract §4: load, import knowledge, run rules, write findings."""

import csv
from decimal import Decimal

import openpyxl
import pyarrow.parquet as pq
from typer.testing import CliRunner

from fundguard.cli.main import app
from fundguard.engine.schema import EXPORT_COLUMNS
from tests.conftest import FIXTURES

runner = CliRunner()
KB = str(FIXTURES / "kb_mini.json")


def _audit(*args):
    result = runner.invoke(app, ["audit", *args])
    assert result.exit_code == 0, result.output
    return result


def test_audit_csv_has_contract_columns_and_the_finding(mini_dir, tmp_path):
    out = tmp_path / "findings.csv"
    result = _audit("--input", str(mini_dir), "--kb", KB, "--out", str(out))
    assert "已输出 1 条疑点" in result.output
    raw = out.read_bytes()
    assert raw.startswith("\ufeff".encode())  # Excel opens it as UTF-8
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert list(rows[0])[: len(EXPORT_COLUMNS)] == list(EXPORT_COLUMNS)
    [row] = rows
    assert (row["rule_id"], row["rule_name"], row["sev_deg"]) == ("GZ10000301004000", "药品区分性别使用", "1")
    assert (row["mdtrt_id"], row["setl_id"], row["bkkp_sn"], row["fixmedins_code"]) == (
        "MD0001", "ST0001", "FL0000003", "H32060100001")
    # fund share: 873.60 of in-scope 1200.00, fund paid 900.00 → 655.20
    assert Decimal(row["vola_amt"]) == Decimal("655.20")
    assert "限女性使用，患者性别为男" in row["vola_cont"]
    assert "知识点" in row["vola_evid"] and "第十五条" in row["vola_evid"]


def test_same_data_and_rules_give_the_same_ids(mini_dir, tmp_path):
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    _audit("--input", str(mini_dir), "--kb", KB, "--out", str(a))
    _audit("--input", str(mini_dir), "--kb", KB, "--out", str(b))
    ids_a = pq.read_table(a).column("jr_id").to_pylist()
    assert ids_a == pq.read_table(b).column("jr_id").to_pylist() and len(set(ids_a)) == len(ids_a) == 1


def test_existing_store_keeps_its_data_and_xlsx_opens(mini_dir, tmp_path):
    db = str(tmp_path / "store.duckdb")
    assert runner.invoke(app, ["load", str(mini_dir), "--db", db]).exit_code == 0
    assert runner.invoke(app, ["kb", "import", KB, "--db", db]).exit_code == 0
    out = tmp_path / "f.xlsx"
    _audit("--db", db, "--out", str(out), "--rules", "GZ10000301004000")
    ws = openpyxl.load_workbook(out).active
    header = [c.value for c in ws[1]]
    assert header[: len(EXPORT_COLUMNS)] == list(EXPORT_COLUMNS)
    assert ws.cell(2, header.index("vola_amt") + 1).value == 655.2
    listing = runner.invoke(app, ["kb", "list", "--db", db]).output
    assert "药品区分性别使用" in listing


def test_unknown_rule_and_bad_output_are_clear_errors(mini_dir, tmp_path):
    result = runner.invoke(app, ["audit", "--input", str(mini_dir), "--out", str(tmp_path / "x.csv"),
                                 "--rules", "GZ99999999999999"])
    assert result.exit_code != 0 and "未知的规则编码" in str(result.exception or result.output)
