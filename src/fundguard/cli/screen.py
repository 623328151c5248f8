"""`fundguard screen`: big-data screening (大数据筛查) — thin: the work is in fundguard.screening and reports."""

from __future__ import annotations

from pathlib import Path

import typer

from fundguard.cli.common import console, open_store, progress_bar, show
from fundguard.reports.summary import Table


def screen(
    out: list[Path] = typer.Option(..., "--out", help="输出文件：.xlsx（每个筛查方案一张表）或 .parquet，可多次指定"),
    db: Path | None = typer.Option(None, "--db", help="分析库文件（默认：配置的数据目录下的 fundguard.duckdb）"),
    period: str | None = typer.Option(None, "--period", help="筛查期间：2025、2025H2、2025Q3、2025-07 或 2025-01-01:2025-06-30（默认全部）"),
    charts: Path | None = typer.Option(None, "--charts", help="图表输出目录（PNG：风险排名、同类分布、入院高峰、品种趋势、团伙关系）"),
    evaluate: bool = typer.Option(False, "--eval", help="对照合成城市的违规标注评估（问题主体的排名与 precision@k）"),
    truth: Path | None = typer.Option(None, "--truth", help="违规标注文件（默认：导入 mdtrt_d 的目录下的 ground_truth）"),
    top: int = typer.Option(10, "--top", min=1, help="屏幕上每张风险清单显示多少名"),
):
    """大数据筛查：指标与同类水位、筛查方案（高频住院、入院集中、金额接近、重点人群、本院职工、同村同户同期、重点领域、
    药品耗材异常…）、团伙发现与风险评分，输出排好序、讲得清理由的疑点清单。"""
    from fundguard.reports.screen_export import export_screening
    from fundguard.screening.queries import risk_ranking
    from fundguard.screening.runner import run_screening

    con = open_store(db)
    try:
        with progress_bar() as bar:
            task = bar.add_task("大数据筛查", total=None)

            def tick(stage: str, index: int, total: int) -> None:
                bar.update(task, completed=index - 1, total=total, description=stage)

            run = run_screening(con, period, progress=tick)
            bar.update(task, completed=len(run.stage_seconds), description="筛查完成")
        rate = run.fee_lines / run.seconds if run.seconds else 0
        console.print(f"筛查批次 {run.run_id}，期间 {run.period.label}：就诊 {run.encounters:,} 人次、费用明细 {run.fee_lines:,} 行，"
                      f"用时 {run.seconds:.1f} 秒（{rate:,.0f} 行/秒）；"
                      + ("规则疑点取自审核批次 " + str(run.audit_run_id) if run.audit_run_id else "分析库中没有审核结果，未计入规则疑点"))
        names = {"medins": "机构", "doctor": "医师", "person": "参保人", "group": "疑似团伙"}
        for stype, title in names.items():
            rows = risk_ranking(con, stype, limit=top)
            if rows:
                show(Table(f"{title}风险排名（共评分 {run.scored.get(stype, 0):,} 个，前 {len(rows)} 名）",
                           ["名次", "编码", "名称", "评分", "等级", "主要理由"],
                           [(r["rank"], r["subject_id"], r["subject_name"] or "", f"{r['score']:.3f}", r["risk_level"],
                             "\n".join(r["reasons"])) for r in rows]))
        hits = con.execute("""SELECT screen_id, any_value(screen_name), subject_type, count(*), count(*) FILTER (WHERE strength >= 0.5)
                              FROM screen_results WHERE run_id = ? GROUP BY screen_id, subject_type ORDER BY 1, 3""",
                           [run.run_id]).fetchall()
        show(Table("各筛查方案命中", ["方案", "名称", "对象", "命中", "强度≥0.5"],
                   [(h[0], h[1], names.get(h[2], "药品耗材" if h[2] == "item" else h[2]), h[3], h[4]) for h in hits]))
        for path in out:
            counts = export_screening(con, path, run.run_id)
            console.print(f"已输出 → {path}（{sum(counts.values()):,} 行）")
        if charts is not None:
            from fundguard.reports.charts import font_name, write_charts

            files = write_charts(con, charts, run.run_id)
            note = "" if font_name() else "（未找到中文字体，图中汉字可能显示为方框；可安装 fonts-wqy-zenhei）"
            console.print(f"已生成图表 {len(files)} 张 → {charts}{note}")
        if evaluate:
            _evaluate(con, run.run_id, truth)
    finally:
        con.close()


def _evaluate(con, run_id: int, truth: Path | None) -> None:
    from fundguard.screening.evaluate import LIST_NAMES, evaluate_screening

    if truth is None:
        row = con.execute("""SELECT file_path FROM load_batches WHERE table_name = 'mdtrt_d' AND status = 'ok'
                             ORDER BY batch_id DESC LIMIT 1""").fetchone()
        folder = Path(row[0]).parent if row and row[0] else None
        truth = next((p for p in (folder / "ground_truth.parquet", folder / "ground_truth.csv") if p.exists()), None) \
            if folder else None
    if truth is None or not Path(truth).exists():
        raise typer.BadParameter("找不到违规标注文件，请用 --truth 指定（合成城市目录下的 ground_truth.parquet）")
    res = evaluate_screening(con, Path(truth), run_id)
    rows = []
    for stype, s in res.items():
        ranks = sorted(r for r in s.ranks.values() if r)
        missing = sum(1 for r in s.ranks.values() if not r)
        shown = "、".join(str(r) for r in ranks[:12]) + ("…" if len(ranks) > 12 else "") + (f"（另{missing}个未上榜）" if missing else "")
        rows.append((LIST_NAMES[stype], s.n_subjects, s.k, f"{s.precision_at_k:.0%}", s.cut, f"{s.in_top}/{s.k}",
                     s.flagged, s.flagged_normal, s.labelled, shown))
    show(Table("筛查质量（对照违规标注中的问题主体）",
               ["清单", "对象数", "问题主体", "precision@k", "前5%名次", "进入前5%", "高风险", "其中正常对象",
                "另有标注违规集中", "问题主体名次"], rows))
    console.print("正常对象：既非问题主体、也没有集中的违规标注（见 docs/screening.md“评估”）。")
