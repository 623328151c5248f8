"""Turn query parameters (JSON API or page forms) into the workflow's ItemFilter, leniently for forms:
an empty field means "any", a bad value is a RequestInvalid error in Chinese."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from fundguard.errors import RequestInvalid

# state= values besides the State codes: open (default: every state not yet closed), closed, all.
STATE_CHOICES = {"open": "未办结", "closed": "已办结", "all": "全部状态"}
SORT_KEYS = {"vola_amt": "金额", "sev_deg": "严重程度", "period": "期间", "deadline": "办理时限", "rule_id": "规则",
             "fixmedins_code": "机构", "state": "状态", "imported_at": "生成时间"}
DEFAULT_SORT = "sev_deg,-vola_amt"  # 明确违规 first, then the largest amounts
FILTER_FIELDS = ("rule_id", "fixmedins_code", "psn_no", "period_from", "period_to", "sev_deg", "state", "min_amt",
                 "max_amt", "assignee_id", "overdue", "q")
FIELD_LABELS = {"rule_id": "规则", "fixmedins_code": "机构", "psn_no": "参保人", "period_from": "起始期间",
                "period_to": "截止期间", "sev_deg": "严重程度", "state": "状态", "min_amt": "最低金额",
                "max_amt": "最高金额", "assignee_id": "经办人", "overdue": "是否逾期", "q": "关键词", "page": "页码",
                "page_size": "每页条数", "sort": "排序"}


@dataclass
class Query:
    filter: Any
    sort: str
    page: int
    page_size: int
    state_choice: str


def _int(name: str, value: str, lo: int = 1, hi: int = 10**9) -> int:
    try:
        number = int(value)
    except ValueError:
        raise RequestInvalid(f"{FIELD_LABELS.get(name, name)}应为整数：{value!r}") from None
    if not lo <= number <= hi:
        raise RequestInvalid(f"{FIELD_LABELS.get(name, name)}应在 {lo}–{hi} 之间")
    return number


def parse_sort(value: str | None) -> str:
    if not value:
        return DEFAULT_SORT
    keys = []
    for part in value.split(","):
        key = part.strip()
        if key.lstrip("-") not in SORT_KEYS:
            raise RequestInvalid(f"不支持按 {key!r} 排序（可用：{'、'.join(SORT_KEYS)}，前加 - 为降序）")
        keys.append(key)
    return ",".join(keys)


def item_query(params: Mapping[str, Any], *, max_page_size: int = 500) -> Query:
    """ItemFilter, sort and paging from query parameters; empty values mean "any"."""
    from fundguard.workflow.views import ItemFilter

    raw = {k: str(params.get(k)).strip() for k in FILTER_FIELDS if params.get(k) not in (None, "")}
    raw = {k: v for k, v in raw.items() if v != ""}
    state_choice = raw.pop("state", "open")
    values: dict[str, Any] = dict(raw)
    if state_choice == "open":
        values["closed"] = False
    elif state_choice == "closed":
        values["closed"] = True
    elif state_choice != "all":
        values["state"] = state_choice
    if "overdue" in values:
        values["overdue"] = values["overdue"] in ("1", "true", "yes", "是")
    if "period_from" in values:
        values["period_from"] = values["period_from"][:7]
    if "period_to" in values:
        values["period_to"] = values["period_to"][:7]
    try:
        flt = ItemFilter(**values)
    except ValidationError as exc:
        fields = sorted({FIELD_LABELS.get(str(e["loc"][0]), str(e["loc"][0])) for e in exc.errors() if e["loc"]})
        raise RequestInvalid(f"筛选条件不正确：{'、'.join(fields) or '格式错误'}",) from None
    page = _int("page", str(params.get("page") or 1))
    page_size = _int("page_size", str(params.get("page_size") or 50), 1, max_page_size)
    return Query(flt, parse_sort(params.get("sort")), page, page_size, state_choice)


def list_items(items, principal, query: Query, *, page: int | None = None, page_size: int | None = None):
    """ItemService.list_items with the query's filter and sort (several comma-separated keys allowed)."""
    page, page_size = page or query.page, page_size or query.page_size
    return items.list_items(principal, query.filter, sort=query.sort, page=page, page_size=page_size)
