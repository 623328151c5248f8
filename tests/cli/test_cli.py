"""The CLI is a thin layer: Chinese help, load/batches/rejects/export over a store."""

from typer.testing import CliRunner

from fundguard.cli.main import app

runner = CliRunner()


def test_help_is_chinese_and_lists_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for word in ("医保基金智能监管系统", "synth", "load", "demo", "export"):
        assert word in result.output


def test_load_then_batches_rejects_and_export(mini_dir, tmp_path):
    db = str(tmp_path / "cli.duckdb")
    fee = mini_dir / "fee_list_d.csv"
    fee.write_text(fee.read_text(encoding="utf-8") + "FL0000099,MD0002,ST0002,P000000000002,H32060100001,"
                   "不是时间,001102000010000,普通门诊诊查费,02,01,1,10.00,10.00,10.00,10.00,\n", encoding="utf-8")
    result = runner.invoke(app, ["load", str(mini_dir), "--db", db])
    assert result.exit_code == 0, result.output
    assert "导入批次" in result.output and "共 1 行被拒收" in result.output
    result = runner.invoke(app, ["rejects", "--db", db])
    assert "日期时间无法解析：不是时间" in result.output and "fee_ocur_time" in result.output
    result = runner.invoke(app, ["load", str(mini_dir), "--db", db])
    assert "跳过" in result.output
    out = tmp_path / "fee.parquet"
    result = runner.invoke(app, ["export", "fee_list_d", "--out", str(out), "--db", db])
    assert result.exit_code == 0 and out.exists() and "8 行" in result.output


def test_load_reports_failure_with_exit_code(tmp_path):
    bad = tmp_path / "in"
    bad.mkdir()
    (bad / "setl_d.csv").write_text("setl_id,mdtrt_id\nST1,MD1\n", encoding="utf-8")
    result = runner.invoke(app, ["load", str(bad), "--db", str(tmp_path / "x.duckdb")])
    assert result.exit_code == 2
    assert "导入失败" in result.output and "psn_no" in result.output
