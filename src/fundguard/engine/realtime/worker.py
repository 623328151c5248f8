"""What a worker does with one gateway message, in a thread of the service or in a process of its own.

An ``Analyst`` needs no connection to the store: it decodes and validates a message (``fields``), maps each
patient onto the national tables (``scenes``, ``mapping``), runs the rules on its own SQLite connection to the
mirror (``executor``) and returns the answer envelope as JSON with the rows the call log keeps
(``feedback.analysis_record``). The service keeps what needs the store: 3103 feedback, the call log, the mirror.

``serve_process`` runs an ``Analyst`` in a child process (``RealtimeService(processes=N)``; its parent side:
``pool``): the GIL then no longer caps a gateway at one core. The parent sends each message as the bytes it
received and gets the ``Reply`` back over a socket.
"""

from __future__ import annotations

import datetime as dt
import gc
import signal
import sys
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import orjson

from fundguard.engine.realtime import fastcheck, fields, lite, results, scenes
from fundguard.engine.realtime import feedback as fb
from fundguard.engine.realtime.executor import Executor
from fundguard.engine.realtime.mapping import Universe, map_patient
from fundguard.errors import FundGuardError, RealtimeError, RealtimeRequestError
from fundguard.rules.library import Rule

INFNOS = ("3101", "3102", "3103")
ERROR_CODE = -1


def now_text() -> str:
    return dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")


def envelope_answer(infcode: int, msgid: str | None, output: Any, err_msg: str = "") -> dict[str, Any]:
    """The platform's answer envelope."""
    stamp = now_text()
    return {"infcode": infcode, "inf_refmsgid": msgid or "", "refmsg_time": stamp, "respond_time": stamp,
            "err_msg": err_msg, "output": output}


@dataclass
class Analysis:
    """A validated 3101/3102 message, mapped and ready to run."""

    infno: str
    msgid: str
    envelope: dict[str, Any]
    data: dict[str, Any]
    universes: list[Universe]


@dataclass
class Reply:
    """A worker's answer to one message: the envelope as JSON and the call-log rows (``feedback.Record``).
    ``feedback`` marks a valid-looking 3103, which the service answers (it writes to the store)."""

    answer: bytes = b""
    record: fb.Record | None = None
    feedback: bool = False


def decode(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise RealtimeRequestError(f"报文不是有效的 JSON：{exc}"[:300]) from None


def text_field(body: Any, name: str) -> str | None:
    """A top-level text field of a message that may be invalid (for error answers and the call log)."""
    value = body.get(name) if isinstance(body, dict) else None
    return value if isinstance(value, str) else None


def error_answer(exc: FundGuardError, body: Any) -> tuple[dict[str, Any], fb.Record]:
    """The error envelope for a message, and its call-log row."""
    msgid = text_field(body, "msgid")
    answer = envelope_answer(ERROR_CODE, msgid, None, f"[{exc.code}] {exc.message}")
    return answer, fb.call_record(infno=text_field(body, "infno"), msgid=msgid, answer=answer)


def prepare(body: Any, rules: tuple[Rule, ...], history_days: int | None) -> Analysis | None:
    """Validate a message: the ``Analysis`` of a 3101/3102 to run, or None for a 3103."""
    envelope = fields.check_envelope(body)
    infno = envelope["infno"]
    if infno not in INFNOS:
        raise RealtimeRequestError(f"字段 $.infno（交易编号）的值 {infno!r} 不受支持：本网关提供 3101 事前分析、"
                                   "3102 事中分析、3103 事前事中服务反馈", "$.infno")
    if infno == "3103":
        return None
    data = fastcheck.check_analysis(envelope)  # fields.check_analysis, on msgspec in the common case
    universes = []
    for patient in data["patient_dtos"]:
        current = next(e for e in patient["fsi_encounter_dtos"] if e["mdtrt_id"] == patient["curr_mdtrt_id"])
        chosen = scenes.select(rules, infno, data.get("trig_scen"), data.get("rule_ids"), current)
        universes.append(map_patient(patient, chosen, history_days or 36500))
    return Analysis(infno=infno, msgid=envelope["msgid"], envelope=envelope, data=data, universes=universes)


class Analyst:
    """Answers 3101/3102 messages; create and use it in one thread (its SQLite connection stays there)."""

    def __init__(self, rules: tuple[Rule, ...], params: dict[str, dict[str, Any]], history_days: int | None,
                 mirror: str):
        self.rules = rules
        self.params = params
        self.history_days = history_days
        self.executor = Executor(mirror, params)

    def handle(self, job: bytes | dict, version: int) -> Reply:
        """Answer one message (as received, or decoded) against mirror ``version``; never raises."""
        body = job
        try:
            if isinstance(job, bytes):
                body = decode(job)
            analysis = prepare(body, self.rules, self.history_days)
            if analysis is None:
                return Reply(feedback=True)
            answer = self.analyse(analysis, version)
            return Reply(orjson.dumps(answer), fb.analysis_record(analysis, answer))
        except Exception as exc:  # noqa: BLE001 - every message gets an answer
            error = exc if isinstance(exc, FundGuardError) else RealtimeError(
                f"实时审核执行失败：{type(exc).__name__}: {exc}"[:500])
            answer, record = error_answer(error, body if isinstance(body, dict) else None)
            return Reply(orjson.dumps(answer), record)

    def analyse(self, analysis: Analysis, version: int) -> dict[str, Any]:
        out = []
        for universe in analysis.universes:
            found = results.group(self.executor.run(universe, version), self.executor.kp_info, self.params,
                                  self.executor.evidence)
            out += results.answer(universe, found, analysis.data.get("task_id"))
        return envelope_answer(0, analysis.msgid, {"result": out})

    def close(self) -> None:
        self.executor.close()


def _quiet_gc() -> None:
    """Keep the cyclic garbage collector off the long-lived objects and out of most requests: a request's
    objects are freed by reference counting (no cycles), yet with Python's defaults a collection ran about
    once per request, scanning the rule library's parsed SQL too (measured: 0.5 ms of a ~9 ms request; after
    this, 0.08 ms)."""
    gc.collect()
    gc.freeze()  # what exists now (rules, statements, connection) is never scanned again
    gc.set_threshold(5000, 10, 10)


def serve_process(conn: Connection) -> None:
    """A worker process: its arguments, then (mirror version, message) in and ``Reply`` out, until None or
    the parent is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the parent stops its workers
    lite.tune_process()  # before the executor's connection: this process's only SQLite user
    rules, params, history_days, mirror = conn.recv()
    for rule in scenes.realtime_rules(rules, "事前") + scenes.realtime_rules(rules, "事中"):
        lite.rule_sql(rule, params.get(rule.rule_id))  # transpile before the first message, not during it
    analyst = Analyst(rules, params, history_days, mirror)
    _quiet_gc()
    try:
        while True:
            try:
                item = conn.recv()
            except EOFError:
                return
            if item is None:
                return
            conn.send(analyst.handle(item[1], item[0]))
    finally:
        analyst.close()


def main() -> None:
    """Entry point of a worker process; the descriptor of its socket to the parent is the first argument."""
    serve_process(Connection(int(sys.argv[1])))
