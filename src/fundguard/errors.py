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
