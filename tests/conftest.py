import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture
def store(tmp_path):
    from fundguard.store.db import connect

    con = connect(tmp_path / "store.duckdb")
    yield con
    con.close()


@pytest.fixture
def mini_dir(tmp_path) -> Path:
    """A copy of the hand-written mini city (national-format CSVs) that a test may edit."""
    target = tmp_path / "mini"
    shutil.copytree(FIXTURES / "mini", target)
    return target


def rows(con, sql, params=None):
    return con.execute(sql, params or []).fetchall()


import os  # noqa: E402

# Golden cases are tiny: one shuffle partition keeps Spark's per-query overhead low.
os.environ.setdefault("FUNDGUARD_SPARK_PARTITIONS", "1")
