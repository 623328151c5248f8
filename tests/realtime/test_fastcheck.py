"""The msgspec fast path of the 3101/3102 validation gives exactly what the Python validator gives.

Each valid message below says whether the fast path takes it (``fastcheck.analysis`` returns the data) or leaves
it to the Python validator (returns None); either way ``fastcheck.check_analysis`` must return what
``fields.check_analysis`` returns: equal, and with the same repr (types, key order). Each invalid message must be
left to the Python validator and raise the same error (type, code, message, field path).
"""

from __future__ import annotations

import copy
import typing
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from fundguard.engine.realtime import fastcheck, fields, worker
from fundguard.errors import RealtimeRequestError
from fundguard.rules.library import default_library
from tests.realtime.conftest import encounter, example

FAST, SLOW = "fast", "slow"


def _data(message: dict) -> dict:
    return message["input"]["data"]


def _patient(message: dict, index: int = 0) -> dict:
    return _data(message)["patient_dtos"][index]


def _order(message: dict, index: int = 0) -> dict:
    return encounter(message)["fsi_order_dtos"][index]


def _envelope(message: dict, json: bool = True) -> dict:
    """The envelope as the worker has it: the message through JSON (as received), checked by ``fields``."""
    body = orjson.loads(orjson.dumps(message)) if json else copy.deepcopy(message)
    return fields.check_envelope(body)


def _dates(m: dict) -> None:
    enc = encounter(m)
    enc.update(adm_date="2025-03-08", dscg_date="  ")  # date only; blanks mean none
    _order(m, 0)["drord_begn_date"] = "20250310"  # yyyyMMdd
    _order(m, 1)["drord_begn_date"] = " 2025-03-10 09:00:00 "
    _order(m, 2)["drord_stop_date"] = "2025-03-12T08:00:00+08:00"  # ISO, time zone dropped
    enc["fsi_diagnose_dtos"][0]["dise_date"] = "2025-03-08 10:20"
    _patient(m)["brdy"] = "1958-03-12 00:00:00"


def _unknown_and_null(m: dict) -> None:
    _data(m).update(task_id=None, ext={"a": [1, 2]}, version=3)
    _patient(m).update(fsi_his_data_dto={"his": "HIS5", "n": 1}, note="unknown")
    encounter(m).update(wardno=None, acct_payamt=None, fsi_operation_dtos=None, his_extra=[1, {"x": None}])
    _order(m).update(grpno=None, drord_stop_date=None, hilist_memo=None, memo=None, price_text="12.5")
    encounter(m)["fsi_diagnose_dtos"][1].update(dise_date=None, dise_name=None)


def _rule_ids_list(m: dict) -> None:
    _data(m).update(trig_scen=None, rule_ids=[" FG-A01", "FG-A02 "])


def _rule_ids_text(m: dict) -> None:
    _data(m).update(trig_scen="", rule_ids="FG-A01，FG-A02, ,FG-A03")


def _several_patients(m: dict) -> None:
    first = copy.deepcopy(encounter(m))
    first.update(mdtrt_id="MDT2025010200003", adm_date="2025-01-02 08:00:00", dscg_date="2025-01-09 10:00:00",
                 fsi_operation_dtos=[{"setl_list_oprn_id": "OP1", "oprn_code": "00.6600", "oprn_name": "冠状动脉介入",
                                      "main_oprn_flag": "1", "oprn_date": "2025-01-03 14:00:00", "anst_way": "局麻"},
                                     {"setl_list_oprn_id": "OP2", "main_oprn_flag": "0", "oprn_date": ""}])
    second = copy.deepcopy(_patient(m))
    second.update(patn_id="110105196001010022", patn_name="李某", gend="2", curr_mdtrt_id="MDT2025030900021")
    stay = second["fsi_encounter_dtos"][0]
    stay.update(mdtrt_id="MDT2025030900021")
    del stay["fsi_operation_dtos"]  # optional: absent
    second["fsi_encounter_dtos"] = [first, stay]  # the same rx_ids in two encounters is allowed
    _data(m)["patient_dtos"].append(second)


def _long_texts(m: dict) -> None:
    _patient(m)["patn_name"] = "王" * 50  # at the limit, in characters
    _order(m)["hilist_memo"] = "限" * 500
    _order(m)["hilist_name"] = "😀" * 200


def _integers(m: dict) -> None:
    _order(m).update(cnt=3, pric=20, sumamt=60, hilist_pric=999_999_999_999)
    encounter(m).update(medfee_sumamt=-0.0, setl_totlnum=1)


def _numeric_text(m: dict) -> None:
    _order(m).update(cnt="2", pric=" 98.5")


def _number_for_text(m: dict) -> None:
    _order(m)["rx_id"] = 1001
    _patient(m)["gend"] = 1


def _number_in_rule_ids(m: dict) -> None:
    _data(m)["rule_ids"] = ["FG-A01", 101]


VALID: dict[str, tuple[Callable[[dict], None], str]] = {
    "documented example (empty dscg_date)": (lambda m: None, FAST),
    "date only, yyyyMMdd, blanks, ISO with zone": (_dates, FAST),
    "unknown fields, null optional fields": (_unknown_and_null, FAST),
    "rule_ids as a list": (_rule_ids_list, FAST),
    "rule_ids as 'R1,R2' text": (_rule_ids_text, FAST),
    "several patients and encounters, operations present and absent": (_several_patients, FAST),
    "texts at their length limit": (_long_texts, FAST),
    "integers for numbers": (_integers, FAST),
    "numeric strings for numbers": (_numeric_text, SLOW),
    "numbers for texts": (_number_for_text, SLOW),
    "a number in rule_ids": (_number_in_rule_ids, SLOW),
}


@pytest.mark.parametrize("json", [True, False], ids=["decoded JSON", "Python dict"])
@pytest.mark.parametrize("name", list(VALID))
def test_valid_messages_give_the_same_data(name, json):
    change, path = VALID[name]
    message = example()
    change(message)
    fast = fastcheck.analysis(_envelope(message, json))
    assert (FAST if fast is not None else SLOW) == path
    expected = fields.check_analysis(_envelope(message, json))
    got = fastcheck.check_analysis(_envelope(message, json))
    assert got == expected and repr(got) == repr(expected)
    if fast is not None:
        assert fast == expected and repr(fast) == repr(expected)


def _set(where: str, **values: Any) -> Callable[[dict], None]:
    def change(m: dict) -> None:
        target = {"data": _data(m), "patient": _patient(m), "encounter": encounter(m), "order": _order(m)}[where]
        target.update(values)
    return change


def _delete(m: dict) -> None:
    del _patient(m)["patn_id"]


def _duplicate_rx_id(m: dict) -> None:
    _order(m, 2)["rx_id"] = _order(m, 1)["rx_id"]


def _python_only(m: dict) -> None:
    encounter(m)["fsi_order_dtos"] = tuple(encounter(m)["fsi_order_dtos"])


class _Mapping(dict):
    pass


P, E, O = "input.data.patient_dtos[0]", "input.data.patient_dtos[0].fsi_encounter_dtos[0]", \
    "input.data.patient_dtos[0].fsi_encounter_dtos[0].fsi_order_dtos[0]"
INVALID: dict[str, tuple[Callable[[dict], None], str | None, bool]] = {  # change, field path, JSON-able
    "missing required field": (_delete, f"{P}.patn_id", True),
    "required field null": (_set("order", hilist_code=None), f"{O}.hilist_code", True),
    "text too long": (_set("order", rx_id="R" * 51), f"{O}.rx_id", True),
    "Chinese text too long": (_set("patient", patn_name="王" * 51), f"{P}.patn_name", True),
    "text for a list": (_set("encounter", fsi_diagnose_dtos="I63.9"), f"{E}.fsi_diagnose_dtos", True),
    "list for a text": (_set("order", hilist_code=["x"]), f"{O}.hilist_code", True),
    "bool for a number": (_set("order", cnt=True), f"{O}.cnt", True),
    "bool for a text": (_set("patient", gend=True), f"{P}.gend", True),
    "number out of range": (_set("encounter", medfee_sumamt=1e12), f"{E}.medfee_sumamt", True),
    "not a number": (_set("order", cnt="两盒"), f"{O}.cnt", True),
    "NaN": (_set("order", cnt=float("nan")), f"{O}.cnt", False),
    "not a date": (_set("order", drord_begn_date="昨天"), f"{O}.drord_begn_date", True),
    "number for a date": (_set("encounter", dscg_date=20250310), f"{E}.dscg_date", True),
    "empty admission date": (_set("encounter", adm_date=""), f"{E}.adm_date", True),
    "empty order start date": (_set("order", drord_begn_date=""), f"{O}.drord_begn_date", True),
    "duplicated rx_id": (_duplicate_rx_id, f"{E}.fsi_order_dtos[2].rx_id", True),
    "curr_mdtrt_id not among encounters": (_set("patient", curr_mdtrt_id="MDT-OTHER"), f"{P}.curr_mdtrt_id", True),
    "neither trig_scen nor rule_ids": (_set("data", trig_scen="", rule_ids=[]), "input.data.trig_scen", True),
    "no patient": (_set("data", patient_dtos=[]), "input.data.patient_dtos", True),
    "syscode null": (_set("data", syscode=None), "input.data.syscode", True),
    "data null": (lambda m: m["input"].update(data=None), "input.data", True),
    "data a list": (lambda m: m["input"].update(data=[]), "input.data", True),
    "rule_ids a number": (_set("data", rule_ids=5), "input.data.rule_ids", True),
    "a tuple for a list": (_python_only, f"{E}.fsi_order_dtos", False),
    "a set for rule_ids": (_set("data", rule_ids={"FG-A01"}), "input.data.rule_ids", False),
    "a dict subclass for an object": (_set("patient", fsi_encounter_dtos=[_Mapping(mdtrt_id="M")]),
                                      f"{P}.fsi_encounter_dtos[0]", False),
}


def _error(check: Callable[[dict], Any], envelope: dict) -> tuple:
    with pytest.raises(RealtimeRequestError) as err:
        check(envelope)
    return type(err.value), err.value.code, err.value.message, err.value.field


@pytest.mark.parametrize("name", list(INVALID))
def test_invalid_messages_give_the_same_error(name):
    change, field, json = INVALID[name]
    message = example()
    change(message)
    assert fastcheck.analysis(_envelope(message, json)) is None
    expected = _error(fields.check_analysis, _envelope(message, json))
    assert _error(fastcheck.check_analysis, _envelope(message, json)) == expected
    assert expected[3] == field and expected[1] == "FG601"


def test_a_missing_data_is_the_python_validators_error():
    message = example()
    del message["input"]["data"]
    envelope = _envelope(message)
    assert fastcheck.analysis(envelope) is None
    assert _error(fastcheck.check_analysis, envelope) == _error(fields.check_analysis, _envelope(message))


def _item_type(hint: Any) -> Any:
    """``X`` of ``list[X]`` or ``list[X] | None``."""
    lists = [hint] if typing.get_origin(hint) is list else [a for a in typing.get_args(hint) if typing.get_origin(a) is list]
    return typing.get_args(lists[0])[0]


def test_the_types_come_from_the_field_table():
    types = {"analysis": fastcheck.ANALYSIS_TYPE}
    for dto in ("analysis", "patient", "encounter"):  # follow the lists down the tree
        hints = typing.get_type_hints(types[dto])  # NotRequired[...] unwrapped
        for f in fields.DTOS[dto]:
            if f.kind.startswith("list:"):
                types[f.kind[5:]] = _item_type(hints[f.name])
    assert set(types) == {"analysis", "patient", "encounter", "diagnose", "order", "operation"}
    for dto, typed in types.items():
        assert list(typed.__annotations__) == [f.name for f in fields.DTOS[dto]]
        assert typed.__required_keys__ == {f.name for f in fields.DTOS[dto] if f.required}


def test_the_worker_takes_the_fast_path(monkeypatch):
    rules = default_library()
    message = example()
    _several_patients(message)
    expected = fields.check_analysis(_envelope(message))

    def refuse(envelope):
        raise AssertionError("the Python validator should not run")

    monkeypatch.setattr(fields, "check_analysis", refuse)
    analysis = worker.prepare(worker.decode(orjson.dumps(message)), rules, None)
    assert analysis.data == expected and repr(analysis.data) == repr(expected)
    assert [u.mdtrt_id for u in analysis.universes] == ["MDT2025030800017", "MDT2025030900021"]
    _numeric_text(message)  # a lenient message still goes to the Python validator
    with pytest.raises(AssertionError, match="should not run"):
        worker.prepare(worker.decode(orjson.dumps(message)), rules, None)
