"""`fundguard precheck FILE.json`: run a 3101/3102 message locally and show the warnings (no server needed)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from fundguard.cli.common import console


def _read(path: Path) -> object:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return json.loads(raw.decode(encoding))
        except UnicodeDecodeError:
            continue
        except json.JSONDecodeError as exc:
            raise typer.BadParameter(f"{path} 不是有效的 JSON：第 {exc.lineno} 行第 {exc.colno} 列：{exc.msg}")
    raise typer.BadParameter(f"{path} 既不是 UTF-8 也不是 GB18030 编码")


def _envelope(body: object, infno: str) -> object:
    """A whole envelope is used as is; a bare ``{"data": …}`` or ``data`` object is wrapped as ``infno``."""
    if isinstance(body, dict) and "infno" not in body:
        if "data" in body:
            return {"infno": infno, "msgid": "PRECHECK", "input": body}
        if "patient_dtos" in body:
            return {"infno": infno, "msgid": "PRECHECK", "input": {"data": body}}
    return body


def precheck(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="3101/3102 报文文件（JSON，完整交易信封或仅 input.data）"),
    db: Path | None = typer.Option(None, "--db", help="分析库文件（提供既往就诊与知识库；默认：数据目录下的 fundguard.duckdb）"),
    infno: str = typer.Option("3101", "--infno", help="报文没有交易信封时按此交易处理：3101 事前分析或 3102 事中分析"),
    as_json: bool = typer.Option(False, "--json", help="输出平台应答报文（JSON）而不是表格"),
):
    """在本机运行一条 3101/3102 报文，列出违规提醒（与网关返回相同；不写分析库）。"""
    from rich.table import Table as RichTable

    from fundguard.config import get_settings
    from fundguard.engine.realtime.service import RealtimeService
    from fundguard.errors import StoreError
    from fundguard.store.db import connect

    if infno not in ("3101", "3102"):
        raise typer.BadParameter("--infno 只能是 3101 或 3102")
    body = _envelope(_read(file), infno)
    path = db or get_settings().db_path
    if not Path(path).exists():
        raise typer.BadParameter(f"分析库 {path} 不存在：请用 --db 指定，或先 `fundguard load`")
    try:
        con = connect(path, read_only=True)
    except StoreError as exc:
        console.print(f"[red]错误[/red] {exc}（网关正在使用该分析库时，请改用网关接口或复制一份分析库）")
        raise typer.Exit(code=2)
    patients = set()
    if isinstance(body, dict) and isinstance(body.get("input"), dict) and isinstance(body["input"].get("data"), dict):
        patients = {str(p.get("patn_id")) for p in body["input"]["data"].get("patient_dtos") or []
                    if isinstance(p, dict)}
    # only the message's patients are copied into the (temporary) mirror: quick even on a city's store
    service = RealtimeService(con, workers=1, record=False, scope=patients)
    try:
        answer = service.call(body)
    finally:
        service.close()
        con.close()
    if as_json:
        console.print_json(json.dumps(answer, ensure_ascii=False))
    if answer["infcode"] != 0:
        if not as_json:
            console.print(f"[red]报文有误[/red] {answer['err_msg']}")
        raise typer.Exit(code=2)
    if as_json:
        return
    results = answer["output"]["result"]
    if not results:
        console.print("[green]未发现违规[/green]：本次报文没有触发任何规则。")
        return
    table = RichTable(title=f"违规提醒（{len(results)} 条）", title_justify="left", show_lines=True)
    for col in ("就诊", "规则", "严重程度", "违规金额(元)", "涉及医嘱", "违规内容"):
        table.add_column(col, overflow="fold")
    for r in results:
        rx = "、".join(d["rx_id"] for d in r["judge_result_detail_dtos"] if d["rx_id"]) or "整次就诊"
        amount = f"{r['vola_amt']:,.2f}" + ("（预估）" if r["vola_amt_stas"] == "2" else "")
        table.add_row(r["mdtrt_id"], f"{r['rule_id']}\n{r['rule_name']}", {"1": "明确违规", "2": "可疑"}.get(
            r["sev_deg"], r["sev_deg"]), amount, rx, r["vola_cont"])
    console.print(table)
    total = sum(r["vola_amt"] for r in results)
    console.print(f"合计违规金额 {total:,.2f} 元。违规标识（jr_id）可用于 3103 反馈。")
