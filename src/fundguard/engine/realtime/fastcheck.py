"""The fast path of ``fields.check_analysis``: the ``input.data`` of a 3101/3102 message checked by msgspec.

The msgspec types are generated from ``fields.DTOS`` (the one table of fields): ``TypedDict`` s with text
lengths as ``msgspec.Meta(max_length=…)``, numbers as ``float`` within ``±fields.MAX_NUMBER``, dates as text
(converted afterwards with ``fields.parse_datetime``, as ``fields`` does: "" means none). ``msgspec.convert``
checks the decoded message against them in C; a short walk then converts the dates and ``rule_ids``, refuses
containers ``convert`` tolerates and ``fields`` does not (a tuple for a list, a dict subclass for an object), and
runs the conditions of ``check_analysis`` (current encounter listed, admission date, unique ``rx_id`` …).

The fast path only takes the strict common case (dates in any form ``fields.parse_datetime`` reads included).
Anything else (a numeric string for a number, a number for a text or in ``rule_ids``, a value ``fields``
refuses, a failed condition) makes ``analysis`` return None, and
``check_analysis`` runs the Python validator, which accepts the lenient case or raises its usual Chinese error:
results and errors are those of ``fields`` by construction; the fast path only decides how fast they come.

Why convert the JSON decoded by orjson rather than decode the bytes straight into the types
(``msgspec.json.decode(raw, type=…)``): msgspec skips fields it does not know without checking their UTF-8 or the
range of their numbers (``"\\xff"``, ``1E400``), so it would accept messages orjson refuses as invalid JSON, and
checking the UTF-8 of a message first costs about what the single pass saves.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Annotated, Any, NotRequired, TypedDict

import msgspec

from fundguard.engine.realtime import fields
from fundguard.engine.realtime.fields import DTOS, Field

_NUMBER = Annotated[float, msgspec.Meta(gt=-fields.MAX_NUMBER, lt=fields.MAX_NUMBER)]  # ints are taken, bools not
_NOT_A_DATE = object()


class _Refused(Exception):
    """The fast path does not take this message; the Python validator will."""


def _value_type(field: Field, types: dict[str, Any]) -> Any:
    kind = field.kind
    if kind == "str":
        return Annotated[str, msgspec.Meta(max_length=field.length)] if field.length else str
    if kind == "num":
        return _NUMBER
    if kind in ("date", "datetime"):
        return str  # "yyyy-MM-dd HH:mm:ss" and "" are converted after msgspec
    if kind == "strs":
        return list[str] | str  # converted after msgspec by fields' own code ("R1,R2" is taken)
    if kind == "obj":
        return Any  # kept as given (fields keeps the object itself); checked after msgspec
    return list[_typed_dict(kind[5:], types)]  # list:<dto>


def _typed_dict(dto: str, types: dict[str, Any]) -> Any:
    """The msgspec type of a DTO of ``fields.DTOS``: required fields present and not null, the others optional
    and nullable; unknown fields are dropped, as ``fields.check`` does."""
    if dto not in types:
        annotations = {}
        for f in DTOS[dto]:
            value = _value_type(f, types)
            annotations[f.name] = value if f.required else NotRequired[value | None]
        types[dto] = TypedDict(f"Fast{dto.title()}", annotations)  # type: ignore[operator]
    return types[dto]


@dataclass(frozen=True)
class _Plan:
    """What is left to do on a DTO after ``msgspec.convert``."""

    datetimes: tuple[str, ...]
    dates: tuple[str, ...]
    strs: tuple[Field, ...]
    objs: tuple[str, ...]
    lists: tuple[tuple[str, str], ...]  # (field, dto of its items)


def _plan(dto: str) -> _Plan:
    of = DTOS[dto]
    return _Plan(datetimes=tuple(f.name for f in of if f.kind == "datetime"),
                 dates=tuple(f.name for f in of if f.kind == "date"),
                 strs=tuple(f for f in of if f.kind == "strs"),
                 objs=tuple(f.name for f in of if f.kind == "obj"),
                 lists=tuple((f.name, f.kind[5:]) for f in of if f.kind.startswith("list:")))


_TYPES: dict[str, Any] = {}
ANALYSIS_TYPE = _typed_dict("analysis", _TYPES)
_PLANS = {dto: _plan(dto) for dto in _TYPES}
# DTOs whose only work after msgspec is datetime fields (orders, diagnoses, operations): their datetime fields
_LEAVES = {dto: p.datetimes for dto, p in _PLANS.items() if not (p.dates or p.strs or p.objs or p.lists)}


@functools.lru_cache(maxsize=4096)  # the orders of an encounter share a few dates
def _moment(text: str) -> Any:
    """A date text as ``fields`` converts it: None for "" (or blanks), ``_NOT_A_DATE`` if ``fields`` refuses it."""
    text = text.strip()
    if not text:
        return None
    parsed = fields.parse_datetime(text)
    return _NOT_A_DATE if parsed is None else parsed


def _finish(src: Any, out: dict[str, Any], dto: str) -> None:
    """Complete ``out`` (``src`` as converted by msgspec) into what ``fields.check`` returns for ``src``."""
    if type(src) is not dict:  # msgspec.convert also takes dict subclasses and other mappings; fields does not
        raise _Refused
    plan = _PLANS[dto]
    for names, to_date in ((plan.datetimes, False), (plan.dates, True)):
        for name in names:
            value = out.get(name)
            if value is not None:
                value = _moment(value)
                if value is _NOT_A_DATE:
                    raise _Refused
                out[name] = value.date() if to_date and value is not None else value
    for field in plan.strs:
        if out.get(field.name) is not None:  # fields' own conversion of the value as given (raises if refused)
            out[field.name] = fields._value(field.name, field, src[field.name])
    for name in plan.objs:
        value = out.get(name)
        if value is not None and not isinstance(value, dict):
            raise _Refused
    for name, sub in plan.lists:
        items = src.get(name)
        if items is None:
            continue
        if type(items) is not list:  # msgspec.convert also takes tuples and sets
            raise _Refused
        leaf = _LEAVES.get(sub)
        if leaf is None:
            for item, done in zip(items, out[name]):
                _finish(item, done, sub)
            continue
        moment, not_a_date = _moment, _NOT_A_DATE
        for item, done in zip(items, out[name]):  # _finish inlined for the many orders of an encounter
            if type(item) is not dict:
                raise _Refused
            for field in leaf:
                value = done.get(field)
                if value is not None:
                    value = moment(value)
                    if value is not_a_date:
                        raise _Refused
                    done[field] = value


def _conditions_hold(data: dict[str, Any]) -> bool:
    """The conditions ``fields.check_analysis`` puts on checked data (it says which one fails)."""
    if not data.get("trig_scen") and not data.get("rule_ids"):
        return False
    if not data["patient_dtos"]:
        return False
    for patient in data["patient_dtos"]:
        encounters = patient["fsi_encounter_dtos"]
        if patient["curr_mdtrt_id"] not in [e["mdtrt_id"] for e in encounters]:
            return False
        for enc in encounters:
            if enc.get("adm_date") is None:
                return False
            orders = enc["fsi_order_dtos"]
            if len({o["rx_id"] for o in orders}) != len(orders):
                return False
            for order in orders:
                if order.get("drord_begn_date") is None:
                    return False
    return True


def analysis(envelope: dict[str, Any]) -> dict[str, Any] | None:
    """What ``fields.check_analysis(envelope)`` returns, or None where the fast path does not take the message
    (``envelope`` as ``fields.check_envelope`` returns it)."""
    src = envelope["input"].get("data")
    if type(src) is not dict:
        return None
    try:
        data = msgspec.convert(src, ANALYSIS_TYPE)
        _finish(src, data, "analysis")
    except Exception:  # noqa: BLE001 - whatever the fast path does not take, the Python validator judges
        return None
    return data if _conditions_hold(data) else None


def check_analysis(envelope: dict[str, Any]) -> dict[str, Any]:
    """``fields.check_analysis``: the same data or the same error, on the fast path when it takes the message."""
    data = analysis(envelope)
    return fields.check_analysis(envelope) if data is None else data

