"""Jinja2 set-up for the pages: filters (元 with thousands separators, dates, percentages), the navigation per
role, the CSRF token, and whether the vendored front-end packages (charts) are present."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

WEB = Path(__file__).parent
STATIC = WEB / "static"
templates = Jinja2Templates(directory=str(WEB / "templates"))

# (permission or None, path, label): the navigation, shown only where the role may go.
NAV: tuple[tuple[str | None, str, str], ...] = (
    ("dashboard.read", "/", "监管总览"),
    ("findings.read", "/findings", "疑点清单"),
    ("findings.read", "/overdue", "逾期督办"),
    ("rules.read", "/rules", "规则目录"),
    ("rules.quality", "/rules/quality", "规则质量"),
    ("users.manage", "/users", "账号管理"),
)


def yuan(value: Any, digits: int = 2) -> str:
    if value is None or value == "":
        return "—"
    return f"{Decimal(str(value)):,.{digits}f}"


def wan(value: Any) -> str:
    """Large amounts in 万元 for headline figures."""
    if value is None:
        return "—"
    v = Decimal(str(value))
    return f"{v / 10000:,.2f} 万" if abs(v) >= 100000 else f"{v:,.2f}"


def num(value: Any) -> str:
    return "—" if value is None else f"{int(value):,}"


def pct(value: Any, digits: int = 1) -> str:
    return "—" if value is None else f"{float(value) * 100:.{digits}f}%"


def date(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d")
    return str(value)[:10]


def datetime(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)[:16]


def to_json(value: Any) -> Markup:
    """JSON for a <script type="application/json"> data block (not executed; CSP allows it)."""
    text = json.dumps(value, ensure_ascii=False, default=_json_default)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _json_default(value: Any):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def filesize(value: Any) -> str:
    n = int(value or 0)
    if n < 1024:
        return f"{n} 字节"
    return f"{n / 1024:,.1f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:,.1f} MB"


SEV_LABELS = {1: "明确违规", 2: "可疑"}


def sev(value: Any) -> Markup:
    label = SEV_LABELS.get(int(value), str(value)) if value is not None else "—"
    css = "sev1" if value == 1 else "sev2"
    return Markup(f'<span class="tag {css}">{label}</span>')


templates.env.filters.update(yuan=yuan, wan=wan, num=num, pct=pct, date=date, datetime=datetime, json=to_json,
                             sev=sev, filesize=filesize)


@lru_cache(maxsize=1)
def _vendor_files() -> tuple[str, ...]:
    manifest = json.loads((WEB / "vendor.json").read_text(encoding="utf-8"))
    return tuple(manifest["files"])


def vendor_ready() -> bool:
    """True when every vendored front-end file is present (``make setup`` copies them)."""
    return all((STATIC / "vendor" / name).exists() for name in _vendor_files())


def query_with(request: Request, **changes: Any) -> str:
    """The current query string with some parameters changed (paging and sorting links)."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    return "?" + urlencode(params)


def render(request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200,
           headers: dict[str, str] | None = None) -> HTMLResponse:
    from fundguard.api.security import session_of

    principal = getattr(request.state, "principal", None)
    session = session_of(request)
    ctx = {
        "principal": principal,
        "nav": [(path, label) for perm, path, label in NAV if principal and (perm is None or principal.can(perm))],
        "csrf_token": session.csrf if session else "",
        "charts": vendor_ready(),
        "path": request.url.path,
        "query_with": lambda **kw: query_with(request, **kw),
        **(context or {}),
    }
    return templates.TemplateResponse(request, name, ctx, status_code=status_code, headers=headers)


def render_error(request: Request, code: str, message: str, status: int,
                 headers: dict[str, str] | None = None) -> HTMLResponse:
    titles = {401: "需要登录", 403: "无权访问", 404: "未找到", 405: "请求方式不正确", 409: "操作与当前状态不符",
              413: "上传内容太大", 422: "输入有误", 429: "请稍后再试", 500: "系统错误"}
    return render(request, "error.html", {"code": code, "message": message, "status": status,
                                          "title": titles.get(status, "出错了")}, status_code=status, headers=headers)
