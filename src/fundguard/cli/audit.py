"""CLI commands of the knowledge base and the audit engine (thin: the work is in kb/ and engine/)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Optional

import typer

from fundguard.cli.common import DbOption, console, open_store, progress_bar, show
from fundguard.reports.summary import Table

kb_app = typer.Typer(help="知识库（两库知识点）：导入与查看。", no_args_is_help=True)
rules_app = typer.Typer(help="规则库：列表与规则目录页。", no_args_is_help=True)


@kb_app.command("import")
def kb_import(
    files: list[Path] = typer.Argument(..., help="知识点文件：国家两库结构化 JSON 或分批 xlsx 工作簿，可多个"),
    db: Optional[Path] = DbOption,
):
    """导入国家两库知识点（JSON/xlsx），按规则类与编码合并，保留来源，按修订关系设置生效期。"""
    from fundguard.kb.importer import import_file

    con = open_store(db)
    try:
        rows = []
        for path in files:
            r = import_file(con, path)
            rows.append((r.file, r.rows_in, r.points_new, r.points_merged, len(r.rejected), r.superseded))
            for line, reason in r.rejected[:5]:
                console.print(f"[yellow]未导入[/yellow] {r.file} 第 {line} 条：{reason}")
        show(Table("知识点导入", ["文件", "读入", "新增知识点", "合并到已有", "未导入", "被修订替代"], rows))
    finally:
        con.close()


@kb_app.command("list")
def kb_list(db: Optional[Path] = DbOption):
    """按规则类列出知识点数、编码数、已被修订替代的、无法结构化的。"""
    con = open_store(db)
    try:
        rows = con.execute(
            """SELECT p.rule_class, count(DISTINCT p.kp_id), count(c.hilist_code),
                      count(DISTINCT p.kp_id) FILTER (WHERE p.superseded_by IS NOT NULL),
                      count(DISTINCT p.kp_id) FILTER (WHERE p.unmapped IS NOT NULL)
               FROM kb_points p LEFT JOIN kb_point_codes c USING (kp_id) GROUP BY 1 ORDER BY 2 DESC""").fetchall()
        show(Table("知识库", ["规则类", "知识点", "编码", "已被替代", "限定条件未能结构化"], rows))
    finally:
        con.close()


@rules_app.command("list")
def rules_list():
    """列出规则库中的全部规则类。"""
    from fundguard.rules.library import default_library

    show(Table("规则库", ["规则编码", "名称", "严重程度", "环节", "黄金用例"],
               [(r.rule_id, r.meta.name, r.meta.sev_deg, "、".join(r.meta.stages), len(r.cases))
                for r in default_library()]))


@rules_app.command("catalog")
def rules_catalog(out: Path = typer.Option(Path("docs/rules.md"), "--out", help="输出的 Markdown 文件")):
    """根据规则元数据生成规则目录页。"""
    from fundguard.rules.catalog import write_catalog

    write_catalog(out)
    console.print(f"已生成规则目录：{out}")


def audit(
    out: Path = typer.Option(..., "--out", help="疑点输出文件：.csv（带 BOM）、.xlsx 或 .parquet"),
    input_dir: Optional[Path] = typer.Option(None, "--input", help="数据目录：先导入再审核"),
    kb: Optional[list[Path]] = typer.Option(None, "--kb", help="先导入的知识点文件（可多次指定）"),
    db: Optional[Path] = typer.Option(None, "--db", help="已有分析库；不指定时在临时目录新建分析库"),
    rules: Optional[str] = typer.Option(None, "--rules", help="只运行这些规则，逗号分隔的规则编码"),
    engine: str = typer.Option("duckdb", "--engine", help="执行引擎：duckdb（默认）或 spark"),
):
    """智能审核（事后）：导入数据与知识点，运行规则库，输出疑点（数据合同 §4）。"""
    from fundguard.cli.main import load_with_progress
    from fundguard.engine.export import export_findings
    from fundguard.engine.runner import run_audit
    from fundguard.kb.builtin import ensure_builtin
    from fundguard.kb.importer import import_file
    from fundguard.store.db import connect

    if db is None and input_dir is None:
        raise typer.BadParameter("请用 --input 指定数据目录，或用 --db 指定已有分析库")
    tmp = None
    if db is None:
        tmp = Path(tempfile.mkdtemp(prefix="fundguard-audit-"))
        con = connect(tmp / "audit.duckdb")
    else:
        con = open_store(db)
    try:
        if input_dir is not None:
            load_with_progress(con, input_dir, force=False)
        for path in kb or []:
            result = import_file(con, path)
            console.print(f"知识点导入 {result.file}：新增 {result.points_new}，合并 {result.points_merged}")
        ensure_builtin(con)
        ids = [r.strip() for r in rules.split(",")] if rules else None
        with progress_bar() as bar:
            task = bar.add_task("智能审核", total=None)

            def tick(rule, index, total):
                bar.update(task, completed=index - 1, total=total, description=f"规则 {rule.rule_id} {rule.meta.name}")

            run = run_audit(con, rule_ids=ids, engine=engine, progress=tick)
            bar.update(task, completed=len(run.results), description="智能审核完成")
        count = export_findings(con, run.run_id, out)
        rows = [(r.rule_id, r.name, r.findings, f"{r.vola_amt:,.2f}", f"{r.seconds:.2f}",
                 "成功" if r.status == "ok" else f"失败：{r.message[:60]}") for r in run.results if r.findings or
                r.status != "ok"]
        rows.append(("合计", f"{len(run.results)} 条规则", run.findings, f"{run.vola_amt:,.2f}", f"{run.seconds:.1f}", ""))
        show(Table(f"审核批次 {run.run_id}（{engine}）", ["规则编码", "规则名称", "疑点数", "违规金额(元)", "秒", "状态"], rows))
        console.print(f"已输出 {count:,} 条疑点 → {out}")
        if any(r.status != "ok" for r in run.results):
            raise typer.Exit(code=3)
    finally:
        con.close()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def evaluate(
    truth: Path = typer.Option(..., "--truth", help="违规标注文件（合成城市的 ground_truth.parquet/.csv）"),
    db: Optional[Path] = DbOption,
    run: Optional[int] = typer.Option(None, "--run", help="审核批次号（默认最近一次）"),
    sections: str = typer.Option("ABC", "--sections", help="评估哪些部分的违规类型（A 收费、B 支付范围、C 住院与就医行为）"),
):
    """用违规标注评估检出质量：按违规类型给出召回率与准确率。"""
    from fundguard.engine.evaluate import evaluate as run_eval

    con = open_store(db)
    try:
        scores = run_eval(con, truth, run_id=run, sections=sections)
        pct = lambda v: "—" if v is None else f"{v:.1%}"  # noqa: E731
        show(Table("检出质量（按违规类型）", ["类型", "名称", "标注数", "检出", "召回率", "疑点数", "正确", "属其他类型的真实违规", "准确率"],
                   [(s.scheme, s.name, s.truth, s.found, pct(s.recall), s.findings, s.correct, s.correct_other,
                     pct(s.precision)) for s in scores]))
    finally:
        con.close()
