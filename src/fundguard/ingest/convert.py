"""SQL expressions that turn raw (text or native) columns into typed values, and detect bad values."""

from __future__ import annotations

from fundguard.store.db import quote

_TS_FORMATS = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M", "%Y%m%d%H%M%S", "%Y-%m-%d", "%Y/%m/%d", "%Y%m%d",
)
_FORMAT_LIST = "[" + ", ".join(f"'{f}'" for f in _TS_FORMATS) + "]"


def is_text(src_type: str) -> bool:
    return src_type.upper() in ("VARCHAR", "TEXT", "STRING")


def reason_for(target: str) -> str | None:
    """Reject code when a non-empty value cannot be converted to ``target``; None for text."""
    t = target.upper()
    if t in ("TIMESTAMP", "DATE"):
        return "R03"
    if t.startswith("DECIMAL") or t in ("INTEGER", "BIGINT", "DOUBLE"):
        return "R04"
    return None


def parse_expr(column: str, src_type: str, target: str) -> str:
    """Expression converting raw column ``column`` (of ``src_type``) into ``target``."""
    c = quote(column)
    t = target.upper()
    if not is_text(src_type):
        if t == "VARCHAR":
            return f"CAST({c} AS VARCHAR)"
        if t == "DATE" and src_type.upper().startswith("TIMESTAMP"):
            return f"CAST({c} AS DATE)"
        return f"TRY_CAST({c} AS {target})"
    v = f"nullif(trim({c}), '')"
    if t == "VARCHAR":
        return v
    # The ISO cast is fast and covers the national format; strptime handles the other layouts.
    if t == "TIMESTAMP":
        return f"coalesce(TRY_CAST({v} AS TIMESTAMP), try_strptime({v}, {_FORMAT_LIST}))"
    if t == "DATE":
        return f"coalesce(TRY_CAST({v} AS DATE), CAST(try_strptime({v}, {_FORMAT_LIST}) AS DATE))"
    if t == "INTEGER" or t == "BIGINT":
        d = f"TRY_CAST(replace({v}, ',', '') AS DECIMAL(38,6))"
        return f"CASE WHEN {d} = floor({d}) THEN TRY_CAST({d} AS {t}) END"
    return f"TRY_CAST(replace({v}, ',', '') AS {target})"


def present_expr(column: str, src_type: str) -> str:
    """True when the raw value is present (not NULL and, for text, not blank)."""
    c = quote(column)
    if is_text(src_type):
        return f"({c} IS NOT NULL AND trim({c}) <> '')"
    return f"({c} IS NOT NULL)"
