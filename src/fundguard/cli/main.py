"""FundGuard command line: a thin layer over the services (Typer + Rich)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Optional

import typer

from fundguard.cli.audit import audit, evaluate, kb_app, rules_app
from fundguard.cli.common import DbOption, console, open_store, progress_bar, show
from fundguard.cli.precheck import precheck
from fundguard.cli.screen import screen
from fundguard.cli.serve import serve
from fundguard.cli.workflow import workflow_app
from fundguard.config import get_settings
from fundguard.errors import FundGuardError

app = typer.Typer(
    help="FundGuard 医保基金智能监管系统：数据导入、合成城市、智能审核、大数据筛查与监管工作流。",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
app.add_typer(kb_app, name="kb")
app.add_typer(rules_app, name="rules")
app.add_typer(workflow_app, name="workflow")
app.command()(audit)
app.command(name="eval")(evaluate)
app.command()(precheck)
app.command(name="screen")(screen)
app.command()(serve)


@app.command()
def synth(
    persons: int = typer.Option(20_000, "--persons", min=100, help="参保人数"),
    seed: int = typer.Option(42, "--seed", help="随机种子：相同种子生成完全相同的数据"),
    out: Path = typer.Option(..., "--out", help="输出目录"),
    fmt: str = typer.Option("parquet", "--format", help="输出格式：parquet 或 csv"),
    violation_rate: float = typer.Option(0.02, "--violation-rate", min=0.0, max=0.5,
                                         help="每类违规在可注入就诊中的比例（0 为无违规的干净城市）"),
    year: int = typer.Option(2025, "--year", help="数据年度"),
):
    """生成合成城市：国家格式的就诊、结算、费用明细、诊断、手术等表，以及违规标注（ground truth）。"""
    from fundguard.synth import SynthConfig, generate_city

    if fmt not in ("parquet", "csv"):
        raise typer.BadParameter("--format 只能是 parquet 或 csv")
    with progress_bar() as bar:
        task = bar.add_task("生成合成城市", total=None)

        def tick(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=f"生成费用明细 {done:,} 行")

        summary = generate_city(SynthConfig(persons=persons, seed=seed, out_dir=out, fmt=fmt,
                                            violation_rate=violation_rate, year=year), progress=tick)
    rate = summary.fee_lines / summary.elapsed_s if summary.elapsed_s else 0
    console.print(f"[green]已生成[/green] {out}：费用明细 {summary.fee_lines:,} 行，用时 {summary.elapsed_s:.1f} 秒"
                  f"（{rate * 60 / 1e6:.2f} 百万行/分钟）")
    from fundguard.reports.summary import Table

    show(Table("各表行数", ["表", "行数"], sorted(summary.rows.items())))
    if summary.schemes:
        show(Table("注入的违规（ground truth）", ["类型", "条数"], sorted(summary.schemes.items())))


def load_with_progress(con, directory: Path, force: bool) -> list:
    from fundguard.ingest.loader import load_dir

    with progress_bar() as bar:
        tasks: dict[str, int] = {}

        def on_progress(message: str, fraction: float | None) -> None:
            if message not in tasks:
                for previous in tasks.values():  # a new stage means the earlier ones are done
                    bar.update(previous, completed=1.0)
                tasks[message] = bar.add_task(message, total=1.0)
            bar.update(tasks[message], completed=fraction if fraction is not None else 0.0)

        results = load_dir(con, directory, force=force, progress=on_progress,
                           chunk_rows=get_settings().load_chunk_rows)
        for task in tasks.values():
            bar.update(task, completed=1.0)
        return results


@app.command()
def load(
    directory: Path = typer.Argument(..., help="数据目录：每表一个文件，命名为 <表名>.csv/.xlsx/.parquet"),
    db: Optional[Path] = DbOption,
    force: bool = typer.Option(False, "--force", help="即使文件内容与已导入批次相同也重新处理"),
):
    """导入国家格式数据表（CSV：UTF-8/GBK 自动识别，xlsx，Parquet）；坏行进入拒收表，好行照常入库。"""
    from fundguard.reports import summary

    con = open_store(db)
    try:
        results = load_with_progress(con, directory, force)
        show(summary.load_batches(con, last=len(results)))
        rejected = sum(r.rejected for r in results)
        failed = [r for r in results if r.status == "failed"]
        if rejected:
            console.print(f"[yellow]共 {rejected:,} 行被拒收[/yellow]，明细见 `fundguard rejects`（或导出 load_rejects 表）。")
        for r in failed:
            console.print(f"[red]导入失败[/red] {r.file}：{r.message}")
        if failed:
            raise typer.Exit(code=2)
    finally:
        con.close()


@app.command()
def batches(db: Optional[Path] = DbOption, last: int = typer.Option(30, "--last", help="显示最近几个批次")):
    """列出导入批次：文件、哈希、时间、读入/新增/替换/未变/拒收行数。"""
    from fundguard.reports import summary

    con = open_store(db)
    try:
        show(summary.load_batches(con, last=last))
    finally:
        con.close()


@app.command()
def rejects(
    db: Optional[Path] = DbOption,
    batch: Optional[int] = typer.Option(None, "--batch", help="只看某个批次"),
    limit: int = typer.Option(50, "--limit", help="最多显示多少条"),
):
    """列出被拒收的行：文件、行号、字段、原因（完整原始记录见 load_rejects 表）。"""
    from fundguard.reports import summary

    con = open_store(db)
    try:
        show(summary.rejects(con, batch_id=batch, limit=limit))
    finally:
        con.close()


@app.command()
def export(
    table: str = typer.Argument(..., help="表名，如 fee_list_d、load_rejects"),
    out: Path = typer.Option(..., "--out", help="输出文件：.parquet 或 .csv"),
    db: Optional[Path] = DbOption,
):
    """把分析库中的任意一张表导出为 Parquet（或带 BOM 的 CSV）。"""
    from fundguard.store.export import export_table

    con = open_store(db)
    try:
        rows = export_table(con, table, out)
        console.print(f"已导出 {table}：{rows:,} 行 → {out}")
    finally:
        con.close()


@app.command()
def demo(
    persons: int = typer.Option(5_000, "--persons", min=100, help="合成城市的参保人数"),
    seed: int = typer.Option(2025, "--seed", help="随机种子"),
    workdir: Path = typer.Option(Path("data/demo"), "--workdir", help="演示数据与分析库所在目录（每次重建）"),
    no_serve: bool = typer.Option(False, "--no-serve", help="准备好演示账号后不启动网页（测试与 CI 用）"),
    host: str = typer.Option("127.0.0.1", "--host", help="网页监听地址"),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="网页端口"),
):
    """一键演示：生成合成城市 → 导入分析库 → 智能审核 → 评估 → 大数据筛查 → 疑点进入工作流 → 启动网页并打印演示账号。"""
    from fundguard.cli.audit import audit, evaluate
    from fundguard.reports import summary
    from fundguard.store.db import connect

    started = time.perf_counter()
    if workdir.exists():
        shutil.rmtree(workdir)
    city = workdir / "city"
    db = workdir / "fundguard.duckdb"
    console.rule("[bold]1. 生成合成城市")
    synth(persons=persons, seed=seed, out=city, fmt="parquet", violation_rate=0.02, year=2025)
    console.rule("[bold]2. 导入分析库")
    con = connect(db, settings=get_settings())
    try:
        load_with_progress(con, city, force=False)
        show(summary.load_batches(con))
        for table in summary.city_overview(con):
            show(table)
    finally:
        con.close()
    console.rule("[bold]3. 智能审核（事后）")
    audit(out=workdir / "findings.xlsx", input_dir=None, kb=None, db=db, rules=None, engine="duckdb")
    console.rule("[bold]4. 检出质量（对照违规标注）")
    evaluate(truth=city / "ground_truth.parquet", db=db, run=None, sections="ABC")
    console.rule("[bold]5. 大数据筛查（风险排名与解释）")
    from fundguard.cli.screen import screen as run_screen

    run_screen(out=[workdir / "screening.xlsx", workdir / "screening.parquet"], db=db, period=None,
               charts=workdir / "charts", evaluate=True, truth=city / "ground_truth.parquet", top=5)
    console.rule("[bold]6. 疑点进入处理流程，准备演示账号")
    settings = demo_settings(workdir)
    accounts = prepare_workflow(db, settings)
    console.print(f"[green]演示数据已就绪[/green]，用时 {time.perf_counter() - started:.1f} 秒。"
                  f"分析库：{db}；疑点清单：{workdir / 'findings.xlsx'}；筛查结果：{workdir / 'screening.xlsx'}")
    print_accounts(accounts, host, port)
    if not no_serve:
        from fundguard.cli.serve import run_server

        run_server(db, host, port, settings=settings)


def demo_settings(workdir: Path):
    """The demo's own data directory and workflow database; the signing key stays in the main data directory so
    the demo passwords (derived from it) are the same every time."""
    base = get_settings()
    return base.model_copy(update={"data_dir": workdir, "workflow_db_url": f"sqlite:///{(workdir / 'workflow.db').as_posix()}",
                                   "secret_key": base.get_secret_key()})


def prepare_workflow(db: Path, settings) -> list[tuple[str, str, str]]:
    """Import the latest run's findings as 疑点 items and create the demo accounts (institution accounts are bound
    to the two institutions with the most findings)."""
    from fundguard.store.db import connect
    from fundguard.workflow.db import open_workflow_db
    from fundguard.workflow.service import ItemService
    from fundguard.workflow.users import ensure_demo_users

    wf = open_workflow_db(settings)
    con = connect(db, settings=settings)
    try:
        imported = ItemService(wf).import_findings(con)
        codes = [r[0] for r in con.execute(
            """SELECT fixmedins_code FROM findings WHERE run_id = (SELECT max(run_id) FROM findings)
               AND fixmedins_code IS NOT NULL GROUP BY 1 ORDER BY count(*) FILTER (WHERE sev_deg = 1) DESC,
               count(*) DESC, 1 LIMIT 2""").fetchall()]
        accounts = ensure_demo_users(wf, codes)
    finally:
        con.close()
        wf.dispose()
    console.print(f"已生成 {imported:,} 条待初审疑点。")
    return accounts


def print_accounts(accounts: list[tuple[str, str, str]], host: str, port: int) -> None:
    from fundguard.reports.summary import Table

    show(Table("演示账号（密码由本机密钥生成，仅用于演示）", ["用户名", "密码", "角色"], accounts))
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
    console.print(f"网页地址：[bold]http://{shown}:{port}/[/bold]。完整流程：analyst 初审确认 → reviewer 复审通过并推送机构 → "
                  "inst1 申诉（附材料）→ analyst 调查核实 → analyst 或 leader 违规处理。")
    console.print("以后再次打开演示：FUNDGUARD_DATA_DIR=data/demo .venv/bin/fundguard serve")


def main() -> None:
    try:
        app()
    except FundGuardError as exc:
        console.print(f"[red]错误[/red] {exc}")
        raise SystemExit(2)


if __name__ == "__main__":
    main()
