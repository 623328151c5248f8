"""The real-time audit service: validate a message, run the rules on worker threads, answer.

``RealtimeService.call(body)`` answers one gateway message (3101, 3102 or 3103) with the platform's
envelope; the gateway uses ``prepare`` (on the event loop) and ``submit`` (to the workers) instead. Each worker
thread owns a SQLite connection to the mirror (``executor``, ``history``) and takes every request waiting in
the queue in turn (``max_batch`` at a time). Answers and feedback are
recorded (``feedback``) by a writer thread, off the request path.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from fundguard.engine.findings import _kp_info
from fundguard.engine.realtime import feedback as fb
from fundguard.engine.realtime import fields, results, scenes
from fundguard.engine.realtime.executor import Executor
from fundguard.engine.realtime.history import HISTORY_DAYS, HistoryStore
from fundguard.engine.realtime.mapping import Universe, map_patient
from fundguard.errors import FundGuardError, RealtimeError, RealtimeRequestError
from fundguard.rules.library import Rule, default_library

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
    received: float = field(default_factory=time.perf_counter)


class RealtimeService:
    def __init__(self, con: duckdb.DuckDBPyConnection, *, workers: int = 2, max_batch: int = 1,
                 rules: list[Rule] | tuple[Rule, ...] | None = None, history_days: int | None = HISTORY_DAYS,
                 record: bool = True, params: dict[str, dict[str, Any]] | None = None,
                 mirror: str | Path | None = None, scope: set[str] | None = None):
        self.con = con
        self.rules = tuple(rules if rules is not None else default_library())
        self.params = params or {}  # rule_id -> parameter overrides, as for a batch audit
        self.history_days = history_window(self.rules, self.params, history_days)
        self.max_batch = max_batch
        if record:  # without recording, the service never writes to the store (read-only stores)
            fb.init_realtime_schema(con)
        if mirror is None and scope is None:
            mirror = default_mirror(con)
        self.history = HistoryStore(con, self.history_days, path=mirror, scope=scope)
        self.history.ensure(force=False)
        self._queue: queue.Queue = queue.Queue()
        self._kp_cache: dict[str, dict] = {}
        self._kp_version = -1
        self._kp_lock = threading.Lock()
        self.recorder = fb.Recorder(con) if record else None
        self._closed = False
        self._threads = [threading.Thread(target=self._work, name=f"fg-realtime-{i}", daemon=True)
                         for i in range(max(1, workers))]
        for thread in self._threads:
            thread.start()

    # ---- public ---------------------------------------------------------------------------------------
    def call(self, body: Any, *, timeout: float = 60.0) -> dict[str, Any]:
        """Answer one gateway message (already decoded JSON) synchronously."""
        msgid = body.get("msgid") if isinstance(body, dict) and isinstance(body.get("msgid"), str) else None
        try:
            prepared = self.prepare(body)
            if prepared is None:
                return self.feedback(fields.check_envelope(body))
            return self.wait(self.submit(prepared), timeout)
        except FundGuardError as exc:
            return self.error(exc, msgid, body)

    def prepare(self, body: Any) -> Analysis | None:
        """Validate a message: the ``Analysis`` of a 3101/3102 to run, or None for a 3103 (see ``feedback``)."""
        envelope = fields.check_envelope(body)
        infno = envelope["infno"]
        if infno not in INFNOS:
            raise RealtimeRequestError(f"字段 $.infno（交易编号）的值 {infno!r} 不受支持：本网关提供 3101 事前分析、"
                                       "3102 事中分析、3103 事前事中服务反馈", "$.infno")
        if infno == "3103":
            return None
        data = fields.check_analysis(envelope)
        universes = []
        for patient in data["patient_dtos"]:
            current = next(e for e in patient["fsi_encounter_dtos"] if e["mdtrt_id"] == patient["curr_mdtrt_id"])
            chosen = scenes.select(self.rules, infno, data.get("trig_scen"), data.get("rule_ids"), current)
            universes.append(map_patient(patient, chosen, self.history_days or 36500))
        return Analysis(infno=infno, msgid=envelope["msgid"], envelope=envelope, data=data, universes=universes)

    def submit(self, analysis: Analysis) -> concurrent.futures.Future:
        if self._closed:
            raise RealtimeError("实时审核服务已关闭")
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._queue.put((analysis, future))
        return future

    def wait(self, future: concurrent.futures.Future, timeout: float) -> dict[str, Any]:
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError as exc:
            raise RealtimeError(f"实时审核超时（{timeout:.0f} 秒）") from exc

    def error(self, exc: FundGuardError, msgid: str | None, body: Any = None) -> dict[str, Any]:
        answer = envelope_answer(ERROR_CODE, msgid, None, f"[{exc.code}] {exc.message}")
        if self.recorder is not None:
            infno = body.get("infno") if isinstance(body, dict) and isinstance(body.get("infno"), str) else None
            self.recorder.call(infno=infno, msgid=msgid, answer=answer, millis=0.0)
        return answer

    def feedback(self, envelope: dict[str, Any]) -> dict[str, Any]:
        data = fields.check_feedback(envelope)
        if self.recorder is not None:
            self.recorder.flush()
        saved = fb.store_feedback(self.con, envelope, data)
        answer = envelope_answer(0, envelope["msgid"], {"feedback_cnt": saved})
        if self.recorder is not None:
            self.recorder.call(infno="3103", msgid=envelope["msgid"], answer=answer, millis=0.0,
                               fixmedins_code=envelope.get("fixmedins_code"))
        return answer

    def refresh(self) -> None:
        """Take the store's current data now (history snapshot, knowledge), not at the next periodic check."""
        self.history.ensure(force=True)

    def flush(self) -> None:
        """Wait until every answer so far is recorded (rt_calls, rt_results)."""
        if self.recorder is not None:
            self.recorder.flush()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=30)
        if self.recorder is not None:
            self.recorder.close()
        self.history.close()

    # ---- workers --------------------------------------------------------------------------------------
    def _work(self) -> None:
        executor = Executor(self.history, self.params)  # SQLite connections stay in the thread that made them
        try:
            self._serve(executor)
        finally:
            executor.close()

    def _serve(self, executor: Executor) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            while len(batch) < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)  # leave the stop signal for this worker's next round
                    break
                batch.append(more)
            self._run(executor, batch)

    def _run(self, executor: Executor, batch: list[tuple[Analysis, concurrent.futures.Future]]) -> None:
        try:
            self._answer(executor, batch)
        except Exception as exc:  # noqa: BLE001 - every waiting request gets an answer
            if len(batch) > 1:  # one bad request must not fail the others: answer them one by one
                for item in batch:
                    self._run(executor, [item])
                return
            message = exc if isinstance(exc, FundGuardError) else RealtimeError(
                f"实时审核执行失败：{type(exc).__name__}: {exc}"[:500])
            for analysis, future in batch:
                if not future.done():
                    future.set_result(envelope_answer(ERROR_CODE, analysis.msgid, None,
                                                      f"[{message.code}] {message.message}"))

    def _answer(self, executor: Executor, batch: list[tuple[Analysis, concurrent.futures.Future]]) -> None:
        version = self.history.ensure()
        kp_info = self._kp_lookup(version)
        answers = []
        for analysis, future in batch:
            out = []
            for universe in analysis.universes:
                found = results.group(executor.run(universe, version), kp_info, self.params)
                out += results.answer(universe, found, analysis.data.get("task_id"))
            answers.append((analysis, future, envelope_answer(0, analysis.msgid, {"result": out})))
        for analysis, future, answer in answers:
            if self.recorder is not None:
                self.recorder.analysis(analysis, answer, (time.perf_counter() - analysis.received) * 1000)
            future.set_result(answer)

    def _kp_lookup(self, version: int):
        with self._kp_lock:
            if version != self._kp_version:
                self._kp_cache.clear()
                self._kp_version = version

        def lookup(ids: set[str]) -> dict[str, dict]:
            missing = {i for i in ids if i not in self._kp_cache}
            if missing:
                cur = self.con.cursor()
                try:
                    found = _kp_info(cur, missing)
                finally:
                    cur.close()
                with self._kp_lock:
                    self._kp_cache.update(found)
            return {i: self._kp_cache[i] for i in ids if i in self._kp_cache}

        return lookup


def default_mirror(con: duckdb.DuckDBPyConnection) -> Path | None:
    """The mirror of a store file lives next to it; an in-memory store gets a temporary one."""
    row = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    return HistoryStore.path_for(row[0]) if row and row[0] else None


def history_window(rules, params: dict[str, dict[str, Any]], days: int | None) -> int | None:
    """The history window: at least ``days``, and longer than every day-count parameter of a real-time rule
    (look-backs, readmission and course gaps), so that no rule misses an earlier encounter it would use."""
    if days is None:
        return None
    longest = 0
    for rule in rules:
        if not {"事前", "事中"} & set(rule.meta.stages):
            continue
        for name, value in rule.meta.param_values(params.get(rule.rule_id)).items():
            if name.endswith("_days") and isinstance(value, (int, float)) and not isinstance(value, bool):
                longest = max(longest, int(value))
    return max(days, longest + 35)


def new_msgid() -> str:
    return uuid.uuid4().hex[:30]
