"""The national platform's gateway path, served by FundGuard: POST /fsi/api/rsfComIfsService/callService.

A hospital's HIS posts the platform's message envelope there; ``infno`` picks the transaction: 3101 事前分析,
3102 事中分析, 3103 事前事中服务反馈 (data contract §5). Every answer is the platform's envelope with HTTP
200: ``infcode`` 0 and ``output`` on success, ``infcode`` -1 and a Chinese ``err_msg`` naming the field on a
bad message (malformed JSON, a missing field, a wrong type) — never a 500. The rules run in the service's
workers (``engine.realtime.service``: threads, or processes of their own); the event loop only passes
the bytes on.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import duckdb
import orjson
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response

from fundguard.api import gateway_schema as schema
from fundguard.errors import FundGuardError, RealtimeError, RealtimeRequestError

log = logging.getLogger("fundguard.gateway")
PATH = "/fsi/api/rsfComIfsService/callService"
MAX_BODY = 16 * 1024 * 1024

router = APIRouter(tags=["国家医保平台接口（事前事中审核）"])

_REQUEST_SCHEMA = {"$ref": "#/components/schemas/GatewayRequest"}
_OPENAPI_EXTRA = {
    "requestBody": {
        "required": True,
        "description": "平台交易信封。infno=3101 事前分析、3102 事中分析（input 同 3101）、3103 反馈。",
        "content": {"application/json": {
            "schema": _REQUEST_SCHEMA,
            "examples": {
                "3101": {"summary": "3101 事前分析：住院执行医嘱（trig_scen 5），男性患者开具限女性药品、诊查费一日两次",
                         "value": schema.EXAMPLE_3101},
                "3102": {"summary": "3102 事中分析：同一就诊的住院结算（trig_scen 8），输入结构与 3101 相同",
                         "value": {**schema.EXAMPLE_3101, "infno": "3102",
                                   "input": {"data": {**schema.EXAMPLE_3101["input"]["data"], "trig_scen": "8"}}}},
                "3103": {"summary": "3103 反馈：一条返回修改医嘱，一条继续执行（须填写原因）",
                         "value": schema.EXAMPLE_3103},
            }}},
    },
}


def _answer(body: bytes) -> Response:
    return Response(body, media_type="application/json")


async def answer_message(service, raw: bytes, size: int | None = None) -> bytes:
    """The answer envelope, as JSON, to the message ``raw`` (the request body as received; ``size``: its
    length when the body was too long to keep)."""
    try:
        size = len(raw) if size is None else size
        if size > MAX_BODY:
            raise RealtimeRequestError(f"报文过大（{size:,} 字节，上限 {MAX_BODY:,}）")
        return await service.answer(raw)  # decoded and checked by a worker
    except FundGuardError as exc:
        return orjson.dumps(service.error(exc))
    except Exception:
        log.exception("gateway failure")
        return orjson.dumps(service.error(RealtimeError("内部错误，请稍后重试或联系管理员")))


# the web app's headers for every answer (api.app), sent by the fast path itself
_HEADERS = [(b"content-type", b"application/json"), (b"x-content-type-options", b"nosniff"),
            (b"cache-control", b"no-store")]


class FastPath:
    """ASGI middleware answering POST on the gateway path before the web framework sees it.

    A HIS posts every order signing here, hundreds of times a second. Installed outside the framework's own
    middleware (``install``), it skips routing, dependency solving and the exception and telemetry layers;
    with ``pool`` (no dispatcher thread) it cut the HTTP process's share of the gateway's CPU from about 11 %
    to about 8.5 % on the bench. The route above stays: it documents the interface in OpenAPI and answers the
    same way."""

    def __init__(self, app, service) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != PATH:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size <= MAX_BODY:  # a longer body is refused: it is read to its end, not kept
                chunks.append(chunk)
            if not message.get("more_body", False):
                break
        raw = b"" if size > MAX_BODY else chunks[0] if len(chunks) == 1 else b"".join(chunks)
        body = await answer_message(self.service, raw, size)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [*_HEADERS, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


@router.post(
    PATH,
    summary="事前/事中审核网关（3101 事前分析、3102 事中分析、3103 反馈）",
    description=("与国家医保信息平台相同的网关地址与报文格式，HIS 无需改造即可指向本系统。"
                 "规则与事后智能审核相同（元数据环节含“事前”或“事中”的规则），按触发场景 trig_scen 与 rule_ids 选择；"
                 "结合分析库中该参保人的既往就诊（频次、疗程、跨次重复、同时两地就医等）。"
                 "任何错误都以 infcode=-1 与中文 err_msg（写明字段）答复，HTTP 状态始终为 200。"),
    response_class=Response,
    responses={200: {"model": schema.GatewayAnswer, "description": "平台应答信封",
                     "content": {"application/json": {"examples": {
                         "3101": {"summary": "3101 应答：两条违规", "value": schema.EXAMPLE_3101_ANSWER},
                         "3103": {"summary": "3103 应答", "value": schema.EXAMPLE_3103_ANSWER},
                         "error": {"summary": "报文错误：缺少必填字段", "value": schema.EXAMPLE_ERROR_ANSWER}}}}}},
    openapi_extra=_OPENAPI_EXTRA,
)
async def call_service(request: Request) -> Response:
    return _answer(await answer_message(request.app.state.fg_realtime, await request.body()))


def _merge_openapi(app: FastAPI) -> None:
    """Add the message models to the app's OpenAPI components (the route reads its body itself)."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema and "GatewayRequest" in app.openapi_schema.get("components", {}).get("schemas", {}):
            return app.openapi_schema
        spec = original()
        defs = schema.GatewayRequest.model_json_schema(ref_template="#/components/schemas/{model}")
        components = spec.setdefault("components", {}).setdefault("schemas", {})
        for name, definition in defs.pop("$defs", {}).items():
            components.setdefault(name, definition)
        components.setdefault("GatewayRequest", defs)
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


def install(app: FastAPI, con: duckdb.DuckDBPyConnection, **options: Any) -> None:
    """Serve the gateway path on ``app`` with a real-time service over the store ``con``."""
    from fundguard.engine.realtime.service import RealtimeService

    service = RealtimeService(con, **options)
    app.state.fg_realtime = service
    app.include_router(router)
    build = app.build_middleware_stack  # the fast path goes outside the framework's own middleware too

    def build_middleware_stack():
        return FastPath(build(), service)

    app.build_middleware_stack = build_middleware_stack  # type: ignore[method-assign]
    _merge_openapi(app)
    original = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app_: FastAPI):
        async with original(app_) as state:
            try:
                yield state
            finally:
                service.close()

    app.router.lifespan_context = lifespan


def create_gateway_app(con: duckdb.DuckDBPyConnection, **options: Any) -> FastAPI:
    """A minimal app serving only the gateway (tests, benchmark, a gateway-only deployment). Unless ``options``
    say otherwise, the rules run in ``realtime_processes`` worker processes (setting; 0: threads)."""
    from fundguard.config import get_settings

    options.setdefault("processes", get_settings().realtime_processes)
    app = FastAPI(title="FundGuard 事前事中审核网关", version="1.0",
                  description="国家医保信息平台 3101/3102/3103 接口（事前提醒、事中审核、反馈）。",
                  docs_url="/docs", openapi_url="/openapi.json")
    install(app, con, **options)
    return app
