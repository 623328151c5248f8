"""Fixtures of the knowledge-base tests.

The national reference data (``../shared/data``, no licence) is read in place and never copied into the
repository; tests that need it skip with a clear message when it is absent. Small workbooks in the
national layouts are written by the tests themselves with openpyxl.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

# tests/kb/conftest.py → parents: [0] tests/kb, [1] tests, [2] the repository, [3] its parent (holds shared/).
SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
NATIONAL_JSON = SHARED_DATA / "nhsa-liangku" / "two_libraries_all_records.json"
WORKBOOKS = SHARED_DATA / "medimodel" / "liangku_xlsx"


def write_workbook(path: Path, *sheets: tuple[str, list[list]]) -> Path:
    """A workbook with the given sheets: (title, rows), the first row being the header."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets:
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def write_json(path: Path, points: list[dict]) -> Path:
    path.write_text(json.dumps(points, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def national_files() -> tuple[Path, list[Path]]:
    """The national JSON and the 14 workbooks of batches 1–8, read in place."""
    if not NATIONAL_JSON.exists() or not WORKBOOKS.is_dir():
        pytest.skip(f"未找到国家两库参考数据（{SHARED_DATA}）：跳过依赖 ../shared/data 的测试")
    workbooks = sorted(WORKBOOKS.glob("*.xlsx"))
    assert len(workbooks) == 14, [p.name for p in workbooks]
    return NATIONAL_JSON, workbooks


@dataclass
class ImportedStore:
    path: Path
    order: list[str]
    seconds: float


@pytest.fixture(scope="session")
def kb_stores(national_files, tmp_path_factory) -> dict[str, ImportedStore]:
    """Two stores with the JSON and all workbooks imported: JSON first ("json_first") and last ("xlsx_first")."""
    from fundguard.kb.importer import import_files
    from fundguard.store.db import connect

    json_file, workbooks = national_files
    out = {}
    for name, order in (("json_first", [json_file, *workbooks]), ("xlsx_first", [*reversed(workbooks), json_file])):
        path = tmp_path_factory.mktemp("kb") / f"{name}.duckdb"
        con = connect(path)
        started = time.perf_counter()
        import_files(con, order)
        seconds = time.perf_counter() - started
        con.execute("CHECKPOINT")
        con.close()
        out[name] = ImportedStore(path, [p.name for p in order], seconds)
    return out
