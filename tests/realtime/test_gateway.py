"""The gateway: platform envelope in and out, scenes, rule_ids, history, batching, errors that name the field."""

from __future__ import annotations

import concurrent.futures
import copy

import orjson
import pytest

from fundguard.api import gateway_schema
from tests.realtime.conftest import URL, encounter, example, gateway_client, post, rules_of

TIMES = ("refmsg_time", "respond_time")


def test_the_documented_example_is_the_real_answer(client):
    answer = post(client, gateway_schema.EXAMPLE_3101)
    documented = {k: v for k, v in gateway_schema.EXAMPLE_3101_ANSWER.items() if k not in TIMES}
    assert {k: v for k, v in answer.items() if k not in TIMES} == documented
    result = {r["rule_id"]: r for r in answer["output"]["result"]}
    assert result["GZ10000301004000"]["judge_result_detail_dtos"][0]["rx_id"] == "RX0002"
    assert "限女性使用，患者性别为男" in result["GZ10000301004000"]["vola_cont"]
    assert result["GZ10000102014000"]["vola_amt"] == 20.0  # one of the two 住院诊查费 of the day
    assert {r["vola_amt_stas"] for r in answer["output"]["result"]} == {"2"}  # no fund amount yet: estimated
    assert all(r["task_id"] == "TASK-20250310-0001" for r in answer["output"]["result"])


def test_fund_amount_of_the_request_makes_amounts_computed(client):
    message = example()
    enc = encounter(message)
    enc["hifp_payamt"] = round(enc["medfee_sumamt"] * 0.8, 2)  # the fund pays 80 % of the in-scope amount
    result = {r["rule_id"]: r for r in post(client, message)["output"]["result"]}
    assert result["GZ10000301004000"]["vola_amt"] == pytest.approx(56.8 * 0.8, abs=0.01)
    assert result["GZ10000301004000"]["vola_amt_stas"] == "1"


@pytest.mark.parametrize("scene, expected", [
    ("3", []),  # 住院登记: no order-level rule runs
    ("5", ["GZ10000102014000", "GZ10000301004000"]),  # 住院执行医嘱
    ("8", ["GZ10000102014000", "GZ10000301004000"]),  # 住院结算
])
def test_trigger_scene_picks_the_rules(client, scene, expected):
    assert rules_of(post(client, example(trig_scen=scene))) == expected


def test_rule_ids_narrow_the_scene_and_alone_select_rules(client):
    assert rules_of(post(client, example(rule_ids=["GZ10000301004000"]))) == ["GZ10000301004000"]
    assert rules_of(post(client, example(trig_scen=None, rule_ids=["GZ10000102014000"]))) == ["GZ10000102014000"]
    # a rule that only runs after payment (事后) is not a real-time rule: asking for it gives nothing
    assert rules_of(post(client, example(trig_scen=None, rule_ids=["GZ10000204001000"]))) == []


def test_in_encounter_rules_run_only_in_3102(client):
    """FG-A08 (床位费天数超住院天数) lists only 事中: 3102 at discharge runs it, 3101 does not."""
    message = example(trig_scen="8")
    enc = encounter(message)
    enc["dscg_date"] = "2025-03-10 10:00:00"  # a stay of 2 days, 3 bed days charged on the 10th
    enc["fsi_order_dtos"][3]["cnt"] = 3
    enc["fsi_order_dtos"][3]["sumamt"] = 150.0
    assert "FG-A08" not in rules_of(post(client, message))
    message["infno"] = "3102"
    answer = post(client, message)
    a08 = [r for r in answer["output"]["result"] if r["rule_id"] == "FG-A08"]
    assert len(a08) == 1 and a08[0]["judge_result_detail_dtos"][0]["rx_id"] == "RX0004"
    assert a08[0]["vola_amt"] == 50.0  # one bed day too many


def test_only_current_orders_are_warned_about(client):
    message = example()
    encounter(message)["fsi_order_dtos"][1]["curr_drord_flag"] = "0"  # 黄体酮: an order warned about before
    assert rules_of(post(client, message)) == ["GZ10000102014000"]


def _amlodipine_visit() -> dict:
    """An outpatient visit on 2025-03-11 with one order of amlodipine (XC08CAA001A001010100001) for a week."""
    message = example(trig_scen="2")
    enc = encounter(message)
    enc.update(med_mdtrt_type="1", med_type="11", adm_date="2025-03-11 08:00:00")
    order = enc["fsi_order_dtos"][0]
    order.update(hilist_code="XC08CAA001A001010100001", hilist_name="苯磺酸氨氯地平片", cnt=1, pric=14, sumamt=14,
                 drord_begn_date="2025-03-11 08:00:00", drord_stop_date="2025-03-18 08:00:00")
    enc["fsi_order_dtos"] = [order]
    return message


def test_history_in_the_store_is_used(kb_con):
    """重复开药 (GZ10000301006000): a 30-day supply bought 10 days ago at another institution is in the store."""
    from fastapi.testclient import TestClient

    from fundguard.api.gateway import create_gateway_app
    from fundguard.rules.cases import build_store
    from fundguard.store.db import connect

    con = connect(":memory:")
    build_store({"mdtrt_d": [{"mdtrt_id": "OLD1", "psn_no": "110105195803120011", "fixmedins_code": "H9",
                              "med_type": "11", "begntime": "2025-03-01 08:00:00"}],
                 "fee_list_d": [{"bkkp_sn": "F1", "mdtrt_id": "OLD1", "hilist_code": "XC08CAA001A001010100001",
                                 "hilist_name": "苯磺酸氨氯地平片", "pric": 60, "prd_days": 30}]}, con)
    message = _amlodipine_visit()
    with TestClient(create_gateway_app(con, workers=1)) as c:
        result = post(c, message)["output"]["result"]
    con.close()
    assert [r["rule_id"] for r in result] == ["GZ10000301006000"]
    assert "OLD1" not in result[0]["jr_id"] and result[0]["judge_result_detail_dtos"][0]["rx_id"] == "RX0001"
    assert result[0]["vola_amt"] == 14.0  # 20 days of the earlier supply left: the whole 7-day supply


def test_concurrent_requests_are_answered_as_if_alone(client):
    """Requests batched together (several patients, the same patient twice) get exactly their own answers."""
    messages = []
    for n in range(12):
        message = example()
        message["msgid"] = f"M{n}"
        patient = message["input"]["data"]["patient_dtos"][0]
        patient["gend"] = "12"[n % 2]
        patient["patn_id"] = f"P{n % 5}"
        encounter(message)["fsi_order_dtos"][2]["cnt"] = 1 + n % 3
        messages.append(message)
    alone = [post(client, m) for m in messages]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        together = list(pool.map(lambda m: post(client, m), messages))
    strip = lambda a: {k: v for k, v in a.items() if k not in TIMES}
    assert [strip(a) for a in together] == [strip(a) for a in alone]
    assert {len(a["output"]["result"]) for a in alone} == {0, 1, 2}


BAD = [
    (b"{not json", "不是有效的 JSON"),
    (b"[1, 2]", "JSON 对象"),
    ({"msgid": "X", "input": {}}, "$.infno"),
    ({"infno": "9999", "msgid": "X", "input": {}}, "$.infno"),
    ({"infno": "3101", "msgid": "X", "input": {}}, "input.data"),
    ("drop:rx_id", "fsi_order_dtos[2].rx_id"),
    ("set:cnt=abc", "fsi_order_dtos[0].cnt"),
    ("set:brdy=1958/13/45", "patient_dtos[0].brdy"),
    ("set:fsi_order_dtos={}", "fsi_order_dtos"),
    ("set:gend=true", "patient_dtos[0].gend"),
    ("set:trig_scen=99", "trig_scen"),
    ("set:rule_ids=GZ99999999999999", "rule_ids"),
    ("set:curr_mdtrt_id=NOPE", "curr_mdtrt_id"),
    ("set:mdtrt_id=" + "9" * 60, "fsi_encounter_dtos[0].mdtrt_id"),
]


def _bad(spec):
    if not isinstance(spec, str) or ":" not in spec:
        return spec
    message = example()
    data = message["input"]["data"]
    patient = data["patient_dtos"][0]
    enc = patient["fsi_encounter_dtos"][0]
    action, rest = spec.split(":", 1)
    if action == "drop":
        del enc["fsi_order_dtos"][2][rest]
        return message
    name, value = rest.split("=", 1)
    value = {"true": True, "{}": {}}.get(value, value)
    for target in (enc["fsi_order_dtos"][0], data, patient, enc):
        if name in target:
            if name == "rule_ids":
                value = [value]
            target[name] = value
            return message
    if name == "trig_scen":
        data[name] = value
        return message
    raise AssertionError(spec)


@pytest.mark.parametrize("spec, field", BAD, ids=[str(b[1]) for b in BAD])
def test_bad_messages_get_the_platform_error_answer(client, spec, field):
    answer = post(client, _bad(spec))
    assert answer["infcode"] == -1 and answer["output"] is None
    assert field in answer["err_msg"] and answer["err_msg"].startswith("[FG60")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in answer["err_msg"])  # Chinese


def test_the_error_answer_echoes_the_msgid(client):
    message = _bad("drop:rx_id")
    assert post(client, message)["inf_refmsgid"] == message["msgid"]


def test_feedback_and_override_rate(kb_con):
    from fastapi.testclient import TestClient

    from fundguard.api.gateway import create_gateway_app
    from fundguard.engine.realtime import override_stats

    app = create_gateway_app(kb_con, workers=1)
    with TestClient(app) as c:
        results = post(c, example())["output"]["result"]
        by_rule = {r["rule_id"]: r["jr_id"] for r in results}
        feedback = copy.deepcopy(gateway_schema.EXAMPLE_3103)
        feedback["input"]["data"]["warns"] = [
            {"warn_rslt_id": by_rule["GZ10000301004000"], "dspo_way": "2", "dspo_way_rea": ""},
            {"warn_rslt_id": by_rule["GZ10000102014000"], "dspo_way": "1", "dspo_way_rea": "病情需要"}]
        answer = post(c, feedback)
        assert answer["infcode"] == 0 and answer["output"] == {"feedback_cnt": 2}
        feedback["input"]["data"]["warns"] = [{"warn_rslt_id": "JR0000", "dspo_way": "2"}]
        assert "warns[0].warn_rslt_id" in post(c, feedback)["err_msg"]
        feedback["input"]["data"]["warns"] = [{"warn_rslt_id": by_rule["GZ10000102014000"], "dspo_way": "1"}]
        assert "dspo_way_rea" in post(c, feedback)["err_msg"]
        app.state.fg_realtime.flush()
    stats = {s.rule_id: s for s in override_stats(kb_con)}
    assert (stats["GZ10000102014000"].continued, stats["GZ10000102014000"].returned) == (1, 0)
    assert stats["GZ10000102014000"].override_rate == 1.0
    assert stats["GZ10000301004000"].override_rate == 0.0 and stats["GZ10000301004000"].warnings >= 1
    calls = dict(kb_con.execute("SELECT infcode, count(*) FROM rt_calls GROUP BY 1").fetchall())
    assert calls[0] >= 2 and calls[-1] >= 2


def test_openapi_documents_the_gateway_in_chinese(client):
    spec = client.get("/openapi.json").json()
    operation = spec["paths"][URL]["post"]
    body = operation["requestBody"]["content"]["application/json"]
    assert set(body["examples"]) == {"3101", "3102", "3103"}
    assert body["schema"] == {"$ref": "#/components/schemas/GatewayRequest"}
    order = spec["components"]["schemas"]["OrderDto"]
    assert "rx_id" in order["required"] and "处方" in order["properties"]["rx_id"]["description"]
    answers = operation["responses"]["200"]["content"]["application/json"]["examples"]
    assert answers["3101"]["value"]["output"]["result"][0]["rule_name"] == "医疗服务项目限定频次"


def test_install_on_an_existing_app(kb_con):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from fundguard.api import gateway

    app = FastAPI()

    @app.get("/ping")
    def ping():
        return {"ok": True}

    gateway.install(app, kb_con, workers=1, record=False)
    with TestClient(app) as c:
        assert c.get("/ping").json() == {"ok": True}
        assert rules_of(post(c, example())) == ["GZ10000102014000", "GZ10000301004000"]
        assert "/fsi/api/rsfComIfsService/callService" in c.get("/openapi.json").json()["paths"]
    assert app.state.fg_realtime._closed  # the lifespan closed the service


def test_a_failing_request_does_not_fail_the_others(kb_con, monkeypatch):
    from fundguard.engine.realtime.executor import Executor
    from fundguard.engine.realtime.service import RealtimeService

    original = Executor.run

    def run(self, universe, version):
        if universe.psn_no == "BOOM":
            raise RuntimeError("simulated engine failure")
        return original(self, universe, version)

    monkeypatch.setattr(Executor, "run", run)
    service = RealtimeService(kb_con, workers=1, record=False)
    good, bad = example(), example()
    bad["input"]["data"]["patient_dtos"][0]["patn_id"] = "BOOM"
    try:
        futures = [service.submit(m) for m in (good, bad, good)]  # queued together for the one worker
        first, second, third = (orjson.loads(service.wait(f, 60)) for f in futures)
    finally:
        service.close()
    assert rules_of(first) == rules_of(third) == ["GZ10000102014000", "GZ10000301004000"]
    assert second["infcode"] == -1 and second["err_msg"].startswith("[FG600] 实时审核执行失败")


def test_new_data_in_the_store_reaches_the_answers(kb_con):
    """The mirror follows the store: rows loaded while the gateway runs are used after the next check."""
    import time

    from fundguard.engine.realtime.service import RealtimeService
    from fundguard.rules.cases import build_store
    from fundguard.store.db import connect

    con = connect(":memory:")
    build_store({"mdtrt_d": [{"mdtrt_id": "OLD0", "psn_no": "P-OTHER", "begntime": "2025-01-01 08:00:00"}]}, con)
    service = RealtimeService(con, workers=1, record=False)
    service.history.check_every = 0.0
    message = _amlodipine_visit()
    try:
        assert rules_of(service.call(message)) == []
        build_store({"mdtrt_d": [{"mdtrt_id": "OLD1", "psn_no": "110105195803120011", "fixmedins_code": "H9",
                                  "begntime": "2025-03-01 08:00:00"}],
                     "fee_list_d": [{"bkkp_sn": "F1", "mdtrt_id": "OLD1", "hilist_code": "XC08CAA001A001010100001",
                                     "pric": 60, "prd_days": 30}]}, con)
        version = service.history.version
        service.history.ensure()  # notices the change and rebuilds in the background
        for _ in range(200):
            if service.history.version > version:
                break
            time.sleep(0.05)
        assert rules_of(service.call(message)) == ["GZ10000301006000"]
    finally:
        service.close()
        con.close()


def test_a_mirror_left_for_other_rules_is_rebuilt(tmp_path, monkeypatch):
    """A mirror of the same data is reused at start-up, unless the rules now read other columns or tables."""
    from fundguard.engine.realtime import history
    from fundguard.rules.cases import build_store
    from fundguard.store.db import connect

    con = connect(tmp_path / "store.duckdb")
    build_store({"mdtrt_d": [{"mdtrt_id": "OLD0", "psn_no": "P1", "begntime": "2025-01-01 08:00:00"}]}, con)
    path = tmp_path / "mirror.sqlite"
    try:
        history.HistoryStore(con, path=path).ensure()
        built = path.stat().st_mtime_ns
        history.HistoryStore(con, path=path).ensure()
        assert path.stat().st_mtime_ns == built  # reused
        monkeypatch.setattr(history, "layout_key", lambda: "another-layout")
        history.HistoryStore(con, path=path).ensure()
        assert history.HistoryStore(con, path=path)._built_key().startswith("another-layout|")
    finally:
        con.close()


def test_the_fast_path_answers_before_the_framework(kb_con, monkeypatch):
    """POST on the gateway path is answered by the outermost ASGI layer (its own headers, the same envelope);
    other methods still reach the framework's route, and an oversized body gets the error answer."""
    from fundguard.api import gateway

    with gateway_client(kb_con, workers=1, record=False) as c:
        r = c.post(gateway.PATH, content=orjson.dumps(example()), headers={"content-type": "application/json"})
        assert r.status_code == 200
        assert r.headers["cache-control"] == "no-store" and r.headers["x-content-type-options"] == "nosniff"
        assert int(r.headers["content-length"]) == len(r.content)
        assert rules_of(r.json()) == ["GZ10000102014000", "GZ10000301004000"]
        assert c.get(gateway.PATH).status_code == 405  # not the fast path's: FastAPI's answer
        monkeypatch.setattr(gateway, "MAX_BODY", 100)
        big = c.post(gateway.PATH, content=orjson.dumps(example())).json()
        assert big["infcode"] == -1 and big["err_msg"].startswith("[FG601] 报文过大")
