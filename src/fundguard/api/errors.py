"""One JSON error envelope for every API error: ``{"code": "FGxxx", "message": "中文…", "detail": …}``.

Every error leaving the HTTP layer goes through here: FundGuard errors raised by the services, request
validation errors, unknown addresses (404), wrong methods (405) and unexpected failures (500). Addresses
under ``/api/`` and every non-browser client get the JSON envelope; a browser (Accept: text/html) gets the same
code and message as an HTML page, and a page request without a session is sent to the login page.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from fundguard import errors as fg

log = logging.getLogger("fundguard.api")

# HTTP status by error class name, looked up along the class hierarchy (subclasses inherit their parent's).
STATUS_BY_CLASS: dict[str, int] = {
    "NotAuthenticated": 401,
    "AuthFailed": 401,
    "Forbidden": 403,
    "CsrfRejected": 403,
    "NotFound": 404,
    "RouteNotFound": 404,
    "MethodNotAllowed": 405,
    "InvalidTransition": 409,
    "PayloadTooLarge": 413,
    "ValidationFailed": 422,
    "RequestInvalid": 422,
    "LoginThrottled": 429,
    "InternalError": 500,
}

# Chinese wording for pydantic's error types (the rest fall back to a generic phrase).
_VALIDATION_TEXT = {
    "missing": "缺少必填项",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "decimal_parsing": "应为数字",
    "bool_parsing": "应为是/否",
    "date_from_datetime_parsing": "应为日期（yyyy-MM-dd）",
    "date_parsing": "应为日期（yyyy-MM-dd）",
    "string_type": "应为文本",
    "string_too_short": "太短",
    "string_too_long": "太长",
    "string_pattern_mismatch": "格式不正确",
    "greater_than_equal": "数值太小",
    "less_than_equal": "数值太大",
    "greater_than": "数值太小",
    "less_than": "数值太大",
    "enum": "不是可选的值",
    "literal_error": "不是可选的值",
    "list_type": "应为列表",
    "too_short": "至少需要一项",
    "too_long": "项数太多",
    "json_invalid": "不是有效的 JSON",
    "model_attributes_type": "应为 JSON 对象",
    "dict_type": "应为 JSON 对象",
    "value_error": "取值不正确",
}
_LOCATION = {"query": "查询参数", "body": "请求体", "path": "路径参数", "header": "请求头", "cookie": "Cookie",
             "form": "表单"}


def status_for(exc: fg.FundGuardError) -> int:
    for cls in type(exc).__mro__:
        if cls.__name__ in STATUS_BY_CLASS:
            return STATUS_BY_CLASS[cls.__name__]
    return 400


def error_for_code(code: str | None, message: str) -> fg.FundGuardError:
    """An error of the class that owns ``code`` (so it maps to the right HTTP status)."""
    for name in dir(fg):
        cls = getattr(fg, name)
        if isinstance(cls, type) and issubclass(cls, fg.FundGuardError) and cls.code == code:
            return cls(message)
    return fg.FundGuardError(message, code=code or "FG000")


def envelope(code: str, message: str, detail: Any = None) -> dict[str, Any]:
    return {"code": code, "message": message, "detail": detail}


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_response(request: Request, exc: fg.FundGuardError, status: int | None = None,
                   detail: Any = None) -> Response:
    status = status or status_for(exc)
    headers = {}
    retry_after = getattr(exc, "retry_after", None)
    if retry_after:
        headers["Retry-After"] = str(int(retry_after))
    detail = detail if detail is not None else getattr(exc, "detail", None)
    if is_api(request) or not _wants_html(request):
        return JSONResponse(envelope(exc.code, exc.message, detail), status_code=status, headers=headers)
    if status == 401 and request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
    from fundguard.web.render import render_error  # pages are optional for the API's own tests

    return render_error(request, exc.code, exc.message, status, headers)


def _wants_html(request: Request) -> bool:
    """Browsers ask for text/html when they navigate or submit a form; every other client gets the envelope."""
    return "text/html" in request.headers.get("accept", "")


def _validation_detail(errors: list[dict]) -> list[dict]:
    out = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ())]
        where = _LOCATION.get(loc[0], loc[0]) if loc else ""
        field = ".".join(loc[1:]) if len(loc) > 1 else where
        out.append({"field": field, "in": where, "type": err.get("type"),
                    "message": _VALIDATION_TEXT.get(err.get("type", ""), "取值不正确")})
    return out


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(fg.FundGuardError)
    async def _fundguard(request: Request, exc: fg.FundGuardError) -> Response:
        return error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        detail = _validation_detail(list(exc.errors()))
        summary = "；".join(f"{d['field']}：{d['message']}" for d in detail[:5])
        return error_response(request, fg.RequestInvalid(f"请求参数不正确（{summary}）"), detail=detail)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            err: fg.FundGuardError = fg.RouteNotFound("找不到该地址或资源")
        elif exc.status_code == 405:
            err = fg.MethodNotAllowed(f"该地址不支持 {request.method} 请求")
        elif exc.status_code == 413:
            err = fg.PayloadTooLarge("上传的内容太大")
        else:
            err = fg.FundGuardError(f"请求无法处理（HTTP {exc.status_code}）", code="FG490")
        response = error_response(request, err, status=exc.status_code)
        if exc.status_code == 405 and exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(request, fg.InternalError("服务器内部错误，已记录日志，请稍后重试或联系管理员"))


# OpenAPI: the envelope as a documented response of every route.
class ErrorBody(BaseModel):
    code: str = Field(examples=["FG404"], description="稳定的错误代码")
    message: str = Field(examples=["疑点不存在或无权查看"], description="中文错误说明")
    detail: Any = Field(default=None, description="补充信息（如字段校验结果），可为空")


_STATUS_TEXT = {401: "未登录或登录已过期", 403: "无权执行该操作", 404: "不存在或无权查看", 409: "当前状态不允许该操作",
                422: "参数不正确", 429: "登录失败次数过多，请稍后再试"}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text} for status, text in _STATUS_TEXT.items()
}
