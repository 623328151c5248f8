"""`fundguard workflow …`: the 疑点 workflow from the command line (import, daily deadline run, accounts)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Optional

import typer

from fundguard.cli.common import DbOption, console, open_store

workflow_app = typer.Typer(help="疑点处理工作流：导入疑点、逾期处理、账号管理（工作流库由 FUNDGUARD_WORKFLOW_DB_URL 配置）",
                           no_args_is_help=True)


@workflow_app.command(name="import")
def import_findings(
    db: Optional[Path] = DbOption,
    run_id: Optional[int] = typer.Option(None, "--run", help="审核批次号（默认：最近一次）"),
):
    """把一次审核的疑点导入工作流（按 jr_id 去重，可重复执行）。"""
    from fundguard.workflow.db import open_workflow_db
    from fundguard.workflow.service import ItemService

    con = open_store(db)
    try:
        added = ItemService(open_workflow_db()).import_findings(con, run_id)
    finally:
        con.close()
    console.print(f"[green]已导入[/green] {added:,} 条新疑点（已存在的疑点保持原状态）")


@workflow_app.command()
def expire(
    today: Optional[str] = typer.Option(None, "--today", help="按此日期判定逾期（YYYY-MM-DD，默认今天）"),
):
    """逾期处理：已推送机构、超过申诉期限仍未反馈的疑点转为“待处理”（视同认可，日志记为系统）。建议每日定时执行。"""
    from fundguard.workflow.db import open_workflow_db
    from fundguard.workflow.service import ItemService

    try:
        day = dt.date.fromisoformat(today) if today else None
    except ValueError as exc:
        raise typer.BadParameter(f"--today 应为 YYYY-MM-DD，收到 {today!r}") from exc
    results = ItemService(open_workflow_db()).expire_overdue(day)
    done = sum(1 for r in results if r.ok)
    console.print(f"逾期未反馈转待处理：{done:,} 条" + (f"，失败 {len(results) - done} 条" if done < len(results) else ""))
    for r in results:
        if not r.ok:
            console.print(f"  [red]{r.jr_id}[/red] {r.message}")


@workflow_app.command(name="add-user")
def add_user(
    username: str = typer.Argument(..., help="登录名"),
    role: str = typer.Option(..., "--role", help="角色：admin 管理员、leader 局领导、analyst 监管科/稽查、"
                                                 "reviewer 经办审核、institution 定点机构"),
    display_name: str = typer.Option(..., "--name", help="显示名"),
    fixmedins_code: Optional[str] = typer.Option(None, "--medins", help="定点机构编码（定点机构用户必填）"),
    password: str = typer.Option(..., "--password", prompt="密码", hide_input=True, confirmation_prompt=True,
                                 help="密码（不给出时交互输入）"),
):
    """新建账号（密码以 argon2id 散列保存）。"""
    from fundguard.workflow.access import ROLE_LABELS
    from fundguard.workflow.db import open_workflow_db
    from fundguard.workflow.users import UserService

    p = UserService(open_workflow_db()).create_user(username, password, role, display_name, fixmedins_code)
    console.print(f"[green]已创建[/green] {p.username}（{p.display_name}，{ROLE_LABELS[p.role]}）")


@workflow_app.command()
def users():
    """列出账号。"""
    from fundguard.workflow.access import ROLE_LABELS
    from fundguard.workflow.db import open_workflow_db
    from fundguard.workflow.users import UserService

    for p in UserService(open_workflow_db()).list_users():
        console.print(f"{p.username:<16} {ROLE_LABELS[p.role]:<10} {p.display_name} {p.fixmedins_code or ''}")
