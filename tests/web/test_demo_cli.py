"""`fundguard demo --no-serve` ends with 疑点 in the workflow and the demo accounts printed; `serve` is registered."""

import re

from typer.testing import CliRunner

from fundguard.cli.main import app

runner = CliRunner()


def test_demo_prepares_workflow_and_prints_accounts(tmp_path, monkeypatch):
    from fundguard.config import get_settings

    monkeypatch.setenv("FUNDGUARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("FUNDGUARD_WORKFLOW_DB_URL", raising=False)
    get_settings.cache_clear()
    try:
        workdir = tmp_path / "demo"
        result = runner.invoke(app, ["demo", "--persons", "300", "--workdir", str(workdir), "--no-serve",
                                     "--port", "8123"])
        assert result.exit_code == 0, result.output
        out = result.output
        assert "演示账号" in out and "http://localhost:8123/" in out
        for name in ("admin", "leader", "analyst", "reviewer", "inst1"):
            assert re.search(rf"\b{name}\b", out), name
        assert re.search(r"已生成 [\d,]+ 条待初审疑点", out)
        assert (workdir / "workflow.db").exists() and (tmp_path / "data" / "secret.key").exists()
        # a second demo run gives the same passwords (they derive from the kept key)
        first = re.search(r"analyst\s*│\s*(\S+)", out).group(1)
        again = runner.invoke(app, ["demo", "--persons", "300", "--workdir", str(workdir), "--no-serve"])
        assert again.exit_code == 0 and re.search(r"analyst\s*│\s*(\S+)", again.output).group(1) == first
    finally:
        get_settings.cache_clear()


def test_serve_command_is_registered():
    result = runner.invoke(app, ["serve", "--help"])
    assert result.exit_code == 0 and "--port" in result.output and "--db" in result.output
