"""`fundguard workflow …`: accounts, import of an audit run's findings, the daily overdue run."""

import subprocess
import sys

import pytest


def _fg(env, *args, check=True):
    proc = subprocess.run([sys.executable, "-m", "fundguard.cli.main", *args], capture_output=True, text=True,
                          env=env, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.fixture
def env(tmp_path):
    import os

    e = dict(os.environ)
    e["FUNDGUARD_DATA_DIR"] = str(tmp_path / "data")
    return e


def test_accounts_import_and_expire(env, mini_dir, tmp_path):
    _fg(env, "workflow", "add-user", "zhang", "--role", "analyst", "--name", "张三", "--password", "Xy12345678!ab")
    out = _fg(env, "workflow", "users").stdout
    assert "zhang" in out and "监管科" in out

    db = tmp_path / "store.duckdb"
    _fg(env, "audit", "--input", str(mini_dir), "--db", str(db), "--out", str(tmp_path / "f.csv"))
    first = _fg(env, "workflow", "import", "--db", str(db)).stdout
    again = _fg(env, "workflow", "import", "--db", str(db)).stdout
    import duckdb

    n = duckdb.connect(str(db), read_only=True).execute(
        "SELECT count(DISTINCT jr_id) FROM findings WHERE run_id = (SELECT max(run_id) FROM findings)").fetchone()[0]
    assert n > 0
    assert f"已导入 {n:,} 条新疑点" in first
    assert "已导入 0 条新疑点" in again

    assert "逾期未反馈转待处理：0 条" in _fg(env, "workflow", "expire", "--today", "2030-01-01").stdout
    bad = _fg(env, "workflow", "expire", "--today", "2030-13-01", check=False)
    assert bad.returncode != 0 and "YYYY-MM-DD" in bad.stdout + bad.stderr


def test_weak_password_is_refused(env):
    proc = _fg(env, "workflow", "add-user", "lisi", "--role", "analyst", "--name", "李四", "--password", "123",
               check=False)
    assert proc.returncode != 0
    assert "密码" in proc.stdout + proc.stderr
