"""`fundguard serve`: the web app, the JSON API and the real-time gateway in one process (uvicorn)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from fundguard.cli.common import DbOption, console
from fundguard.config import get_settings


def run_server(db: Path | None, host: str, port: int, settings=None) -> None:
    import uvicorn

    from fundguard.api.app import create_app

    settings = settings or get_settings()
    app = create_app(settings, db_path=db)
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
    console.print(f"[green]FundGuard 已启动[/green]：http://{shown}:{port}/ （接口文档 http://{shown}:{port}/api/docs），"
                  "按 Ctrl+C 停止。")
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


def serve(
    db: Optional[Path] = DbOption,
    host: str = typer.Option("127.0.0.1", "--host", help="监听地址（默认只接受本机访问；对外服务用 0.0.0.0）"),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="端口"),
):
    """启动网页、JSON 接口与事前事中审核接口（3101/3102/3103）。工作流数据库见 FUNDGUARD_WORKFLOW_DB_URL。"""
    run_server(db, host, port)
