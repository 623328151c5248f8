"""`fundguard screen`: the ranked lists as xlsx (one sheet per screen) and Parquet, charts as PNG, the evaluation."""

from __future__ import annotations

import openpyxl
import pyarrow.parquet as pq
from typer.testing import CliRunner

from fundguard.cli.main import app
from fundguard.reports import charts
from fundguard.screening.registry import SCREENS

PNG = b"\x89PNG\r\n\x1a\n"


def test_screen_command_writes_lists_charts_and_evaluation(dirty, tmp_path):
    xlsx, parquet, chart_dir = tmp_path / "screen.xlsx", tmp_path / "screen.parquet", tmp_path / "charts"
    result = CliRunner().invoke(app, ["screen", "--db", str(dirty.db), "--out", str(xlsx), "--out", str(parquet),
                                      "--charts", str(chart_dir), "--eval", "--top", "3"])
    assert result.exit_code == 0, result.output
    assert "机构风险排名" in result.output and "筛查质量" in result.output and "precision@k" in result.output
    wb = openpyxl.load_workbook(xlsx, read_only=True)
    names = wb.sheetnames
    assert names[:5] == ["说明", "机构风险排名", "医师风险排名", "人员风险排名", "疑似团伙"]
    assert [n.split(" ")[0] for n in names[5:]] == [s.screen_id for s in SCREENS]
    ws = wb["机构风险排名"]
    header = [c.value for c in next(ws.iter_rows(max_row=1))]
    assert header[:5] == ["排名", "编码", "名称", "定点机构编码", "风险评分"]
    first = [c.value for c in next(ws.iter_rows(min_row=2, max_row=2))]
    assert first[0] == 1 and first[5] == "高风险" and first[6].startswith("【")
    results = pq.read_table(parquet)
    assert {"screen_id", "subject_type", "subject_id", "strength", "reason", "metrics"} <= set(results.column_names)
    risk = pq.read_table(tmp_path / "screen.risk_scores.parquet")
    assert {"medins", "doctor", "person", "group"} == set(risk.column("subject_type").to_pylist())
    assert (tmp_path / "screen.groups.parquet").exists() and (tmp_path / "screen.indicators.parquet").exists()
    pngs = sorted(chart_dir.glob("*.png"))
    assert {"risk_top_medins.png", "risk_top_doctor.png", "risk_top_person.png"} <= {p.name for p in pngs}
    assert any(p.name.startswith("admissions_") for p in pngs) and any(p.name.startswith("group_") for p in pngs)
    assert all(p.read_bytes().startswith(PNG) for p in pngs)


def test_charts_use_a_cjk_font_when_installed(dirty):
    font = charts.font_name()
    from pathlib import Path

    if any(Path(p).exists() for p in charts.CJK_FILES):
        assert font is not None
    code = dirty.con.execute("SELECT subject_id FROM risk_scores WHERE run_id = ? AND subject_type = 'medins' "
                             "ORDER BY rank LIMIT 1", [dirty.run.run_id]).fetchone()[0]
    png = charts.peer_distribution_png(dirty.con, "ZB001", code, run_id=dirty.run.run_id)
    assert png.startswith(PNG) and len(png) > 5000
    assert charts.admissions_timeline_png(dirty.con, code, run_id=dirty.run.run_id).startswith(PNG)


def test_screen_rejects_a_bad_period(dirty, tmp_path):
    result = CliRunner().invoke(app, ["screen", "--db", str(dirty.db), "--period", "上半年", "--out", str(tmp_path / "x.xlsx")])
    assert result.exit_code != 0
    assert "无法识别的筛查期间" in str(result.exception) + result.output
