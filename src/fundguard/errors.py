"""Stable error codes. Messages are Chinese; codes never change once published."""

from __future__ import annotations


class FundGuardError(Exception):
    """Base of every error FundGuard reports to a user."""

    code = "FG000"

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        if code:
            self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


class ConfigError(FundGuardError):
    code = "FG001"


class IngestError(FundGuardError):
    """A whole file cannot be loaded (missing required column, unreadable format …)."""

    code = "FG100"


class StoreError(FundGuardError):
    code = "FG200"


# Row-level reject reasons (ingest). Kept here so that reports and docs share the list.
REJECT_REASONS: dict[str, str] = {
    "R01": "主键为空",
    "R02": "必填字段为空",
    "R03": "日期时间无法解析",
    "R04": "数值无法解析",
    "R05": "文件内主键重复",
    "R06": "行结构错误（列数不符或引号未闭合）",
    "R07": "代码值不在字典范围内",
}


# Web app and JSON API (fundguard.api). FG480–FG499 are reserved for the HTTP layer.
class NotAuthenticated(FundGuardError):
    """No valid session or token (HTTP 401)."""

    code = "FG480"


class CsrfRejected(FundGuardError):
    """A state-changing browser request without a valid CSRF token (HTTP 403)."""

    code = "FG481"


class RequestInvalid(FundGuardError):
    """The request's parameters or body do not validate (HTTP 422)."""

    code = "FG482"


class RouteNotFound(FundGuardError):
    """No such address (HTTP 404)."""

    code = "FG484"


class MethodNotAllowed(FundGuardError):
    """The address exists but not for this HTTP method (HTTP 405)."""

    code = "FG485"


class PayloadTooLarge(FundGuardError):
    """An uploaded file is larger than allowed (HTTP 413)."""

    code = "FG486"


class InternalError(FundGuardError):
    """An unexpected failure; details are logged, never shown (HTTP 500)."""

    code = "FG499"


# 疑点 workflow, accounts and roles (fundguard.workflow). FG401–FG429; the HTTP layer maps each to its status.
class AuthFailed(FundGuardError):
    """Wrong username or password, or a deactivated account (HTTP 401)."""

    code = "FG401"


class Forbidden(FundGuardError):
    """The user's role may not do this (HTTP 403)."""

    code = "FG403"


class NotFound(FundGuardError):
    """Absent, or outside the user's institution scope — the two are never told apart (HTTP 404)."""

    code = "FG404"


class InvalidTransition(FundGuardError):
    """The action is not declared for the item's current state, or the item changed meanwhile (HTTP 409)."""

    code = "FG409"


class ValidationFailed(FundGuardError):
    """Input a service rejects: missing reason, bad amount, weak password, bad attachment … (HTTP 422)."""

    code = "FG422"


class LoginThrottled(FundGuardError):
    """Too many failed logins for this username or address within the window (HTTP 429)."""

    code = "FG429"


# Real-time audit (事前/事中, 3101/3102/3103: fundguard.engine.realtime, fundguard.api.gateway). FG600–FG619.
class RealtimeError(FundGuardError):
    """The real-time audit could not answer (the store or an engine failed); the gateway answers infcode -1."""

    code = "FG600"


class RealtimeRequestError(RealtimeError):
    """A 3101/3102/3103 message that does not follow the interface; ``field`` names the offending field."""

    code = "FG601"

    def __init__(self, message: str, field: str | None = None, *, code: str | None = None):
        super().__init__(message, code=code)
        self.field = field


class UnknownWarning(RealtimeRequestError):
    """A 3103 feedback names a warning (jr_id) that no 3101/3102 answer gave."""

    code = "FG602"
