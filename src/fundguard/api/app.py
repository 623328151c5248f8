"""The FastAPI application: pages, the JSON API under /api/v1, static files and the real-time gateway.

One DuckDB connection per process (each request gets its own cursor) for findings, claims and screening; the
workflow database (SQLAlchemy) for 疑点 state, accounts and the audit log. No business logic here: routes call
the services, and the services enforce roles and institution scope.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles

from fundguard.api import gateway
from fundguard.api.errors import install_error_handlers
from fundguard.api.security import SessionCodec, load_secret
from fundguard.config import Settings, get_settings

log = logging.getLogger("fundguard.api")

API_TAGS = [
    {"name": "登录", "description": "登录、退出与当前用户。浏览器用会话 Cookie（写操作需带 X-CSRF-Token 请求头），"
                                  "其他系统用登录返回的令牌（Authorization: Bearer …）。"},
    {"name": "疑点", "description": "疑点清单、详情与证据链、导出、流转（初审、复审、推送、申诉、调查核实、违规处理）、分派、附件。"},
    {"name": "统计", "description": "监管总览、逾期督办、机构与参保人画像。"},
    {"name": "规则", "description": "规则目录与规则质量（初审确认/排除反馈的准确率）。"},
    {"name": "账号", "description": "账号管理（管理员）与可分派的工作人员。"},
]


async def _expire_overdue_hourly(app: FastAPI) -> None:
    """Items pushed to an institution that did not answer by the appeal deadline become 视同认可 (by the system),
    checked at start-up and every hour while the app runs."""
    while True:
        try:
            results = await asyncio.to_thread(app.state.items.expire_overdue)
            if results:
                log.info("expired %d overdue items", sum(1 for r in results if r.ok))
        except Exception:  # never let the housekeeping task die; the next round tries again
            log.exception("expire_overdue failed")
        await asyncio.sleep(3600)


def create_app(settings: Settings | None = None, *, db_path: str | Path | None = None) -> FastAPI:
    """Build the app on a store (``db_path`` or the configured one) and the configured workflow database."""
    from fundguard.store.db import connect
    from fundguard.workflow.db import open_workflow_db
    from fundguard.workflow.service import ItemService
    from fundguard.workflow.users import UserService

    settings = settings or get_settings()
    con = connect(db_path, settings=settings)
    wf = open_workflow_db(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        task = asyncio.create_task(_expire_overdue_hourly(app))
        yield
        task.cancel()
        wf.dispose()
        con.close()

    app = FastAPI(
        title="FundGuard 医保基金智能监管系统 API",
        version="1.0",
        description="疑点处理工作流与监管数据的 JSON 接口。所有错误返回统一格式 "
                    "`{\"code\": \"FGxxx\", \"message\": \"中文说明\", \"detail\": …}`。"
                    "权限由服务层按角色与机构范围校验：定点机构账号只能看到本机构已推送的疑点。",
        openapi_tags=API_TAGS,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.con = con
    app.state.wf = wf
    app.state.users = UserService(wf)
    app.state.items = ItemService(wf)
    app.state.sessions = SessionCodec(load_secret(settings), max_age_s=settings.session_hours * 3600)

    install_error_handlers(app)

    @app.middleware("http")
    async def _headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if not request.url.path.startswith("/static/") and request.url.path != "/api/docs":
            response.headers.setdefault("Cache-Control", "no-store")
            response.headers.setdefault(
                "Content-Security-Policy",
                "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
                "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
        return response

    from fundguard.api import rest_auth, rest_items, rest_reports, rest_rules
    from fundguard.web import pages_auth, pages_items, pages_main
    from fundguard.web.render import STATIC

    for module in (rest_auth, rest_items, rest_reports, rest_rules):
        app.include_router(module.router, prefix="/api/v1")
    for module in (pages_auth, pages_main, pages_items):
        app.include_router(module.router, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    @app.get("/api/docs", include_in_schema=False)
    def api_docs():
        """Swagger UI from the vendored npm package (offline); a plain pointer to the spec when it is absent."""
        from fastapi.openapi.docs import get_swagger_ui_html
        from fastapi.responses import HTMLResponse

        from fundguard.web.render import vendor_ready

        if not vendor_ready():
            return HTMLResponse("<!doctype html><meta charset='utf-8'><title>接口文档</title>"
                                "<p>接口文档组件未安装（运行 make setup 安装前端依赖）。接口规范："
                                "<a href='/api/v1/openapi.json'>/api/v1/openapi.json</a></p>")
        return get_swagger_ui_html(openapi_url=app.openapi_url, title="FundGuard 接口文档",
                                   swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
                                   swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
                                   swagger_favicon_url="/static/favicon.svg",
                                   swagger_ui_parameters={"validatorUrl": None})

    gateway.install(app, con)
    return app
