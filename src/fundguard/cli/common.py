"""Shared pieces of the CLI: the console, the --db option, store opening, progress bars, tables."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from fundguard.config import get_settings

console = Console()
if not console.is_terminal:  # logs and CI: wide enough for the Chinese tables
    console = Console(width=160)

DbOption = typer.Option(None, "--db", help="分析库文件（默认：配置的数据目录下的 fundguard.duckdb）")


def open_store(db: Optional[Path]):
    from fundguard.store.db import connect

    return connect(db, settings=get_settings())


def show(table) -> None:
    """Render a reports.summary.Table with Rich."""
    out = RichTable(title=table.title, title_justify="left")
    for col in table.columns:
        out.add_column(col, overflow="fold")
    for row in table.rows:
        out.add_row(*[f"{v:,}" if isinstance(v, int) else str(v) for v in row])
    console.print(out)


def progress_bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>5.1f}%"),
                    TimeElapsedColumn(), console=console, transient=False)
