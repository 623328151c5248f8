"""The real-time audit service: answer gateway messages on worker threads or worker processes.

``await RealtimeService.answer(message)`` gives the answer envelope as JSON to a message (the bytes received,
or decoded JSON); ``submit(message)`` returns a future of it, and ``call(body)`` answers synchronously. A
message is answered by a ``worker.Analyst`` (validation, mapping, rules on its own SQLite connection to the
mirror, answer): in a thread of this process (``workers``, the default), which takes the next message from a
queue, or, with ``processes=N``, in one of N worker processes (``pool``), which use N cores where threads share
one (the GIL); the event loop of the web server then talks to them itself. This process keeps what needs the
store: the mirror (``history``), 3103 feedback and the call log, which a writer thread records (``feedback``)
off the request path.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import duckdb
import orjson

from fundguard.engine.realtime import feedback as fb
from fundguard.engine.realtime import fields
from fundguard.engine.realtime.history import HISTORY_DAYS, HistoryStore
from fundguard.engine.realtime.pool import ProcessPool
from fundguard.engine.realtime.worker import (
    Analysis,
    Analyst,
    Reply,
    decode,
    envelope_answer,
    error_answer,
    prepare,
)
from fundguard.errors import FundGuardError, RealtimeError
from fundguard.rules.library import Rule, default_library


class RealtimeService:
    def __init__(self, con: duckdb.DuckDBPyConnection, *, workers: int = 2, processes: int = 0,
                 rules: list[Rule] | tuple[Rule, ...] | None = None, history_days: int | None = HISTORY_DAYS,
                 record: bool = True, params: dict[str, dict[str, Any]] | None = None,
                 mirror: str | Path | None = None, scope: set[str] | None = None):
        self.con = con
        self.rules = tuple(rules if rules is not None else default_library())
        self.params = params or {}  # rule_id -> parameter overrides, as for a batch audit
        self.history_days = history_window(self.rules, self.params, history_days)
        if record:  # without recording, the service never writes to the store (read-only stores)
            fb.init_realtime_schema(con)
        if mirror is None and scope is None:
            mirror = default_mirror(con)
        self.history = HistoryStore(con, self.history_days, path=mirror, scope=scope)
        self.history.ensure(force=False)
        self._queue: queue.Queue = queue.Queue()
        self.recorder = fb.Recorder(con) if record else None
        self._closed = False
        self._loop_lock = threading.Lock()
        self._pool = ProcessPool(processes, self._analyst_args()) if processes > 0 else None
        self._loop: asyncio.AbstractEventLoop | None = None  # for synchronous callers of a process pool
        self._threads = [threading.Thread(target=self._work, name=f"fg-realtime-{i}", daemon=True)
                         for i in range(max(1, workers))] if self._pool is None else []
        for thread in self._threads:
            thread.start()

    # ---- public ---------------------------------------------------------------------------------------
    def call(self, body: Any, *, timeout: float = 60.0) -> dict[str, Any]:
        """Answer one gateway message (already decoded JSON) synchronously."""
        try:
            return orjson.loads(self.wait(self.submit(body), timeout))
        except FundGuardError as exc:
            return self.error(exc, body)

    def prepare(self, body: Any) -> Analysis | None:
        """Validate a message: the ``Analysis`` of a 3101/3102 to run, or None for a 3103."""
        return prepare(body, self.rules, self.history_days)

    def submit(self, message: bytes | dict) -> concurrent.futures.Future:
        """Queue a message (the bytes received, or decoded JSON): a future of the answer envelope as JSON."""
        if self._closed:
            raise RealtimeError("实时审核服务已关闭")
        if self._pool is not None:
            return asyncio.run_coroutine_threadsafe(self.answer(message), self._own_loop())
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._queue.put((message, future, time.perf_counter()))
        return future

    async def answer(self, message: bytes | dict) -> bytes:
        """The answer envelope to a message (the bytes received, or decoded JSON), as JSON."""
        if self._pool is None:
            return await asyncio.wrap_future(self.submit(message))
        received = time.perf_counter()
        try:
            version = self.history.current()
            if version is None:  # time to check the store: a database query, maybe a rebuild
                version = await asyncio.to_thread(self.history.ensure)
            reply = await self._pool.handle(message, version)
            if reply.feedback:  # a 3103: written to the store
                return orjson.dumps(await asyncio.to_thread(self._feedback, message))
            self._record(reply, received)
            return reply.answer
        except Exception as exc:  # noqa: BLE001 - every message gets an answer
            return orjson.dumps(self.error(_failure(exc), _decoded(message)))

    def _own_loop(self) -> asyncio.AbstractEventLoop:
        """An event loop in a thread of its own, for synchronous callers of the process pool."""
        with self._loop_lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                threading.Thread(target=self._loop.run_forever, name="fg-realtime-loop", daemon=True).start()
            return self._loop

    def wait(self, future: concurrent.futures.Future, timeout: float) -> bytes:
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError as exc:
            raise RealtimeError(f"实时审核超时（{timeout:.0f} 秒）") from exc

    def error(self, exc: FundGuardError, body: Any = None) -> dict[str, Any]:
        answer, record = error_answer(exc, body)
        if self.recorder is not None:
            self.recorder.put(record, 0.0)
        return answer

    def feedback(self, envelope: dict[str, Any]) -> dict[str, Any]:
        data = fields.check_feedback(envelope)
        if self.recorder is not None:
            self.recorder.flush()
        saved = fb.store_feedback(self.con, envelope, data)
        answer = envelope_answer(0, envelope["msgid"], {"feedback_cnt": saved})
        if self.recorder is not None:
            self.recorder.put(fb.call_record(infno="3103", msgid=envelope["msgid"], answer=answer,
                                             fixmedins_code=envelope.get("fixmedins_code")), 0.0)
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
        if self._pool is not None:
            self._pool.close()
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self.recorder is not None:
            self.recorder.close()
        self.history.close()

    # ---- workers --------------------------------------------------------------------------------------
    def _analyst_args(self) -> tuple:
        return self.rules, self.params, self.history_days, self.history.path

    def _work(self) -> None:
        """A worker thread: answers queued messages with its own analyst until the queue says stop."""
        analyst = Analyst(*self._analyst_args())  # SQLite connections stay in the thread that made them
        try:
            while (item := self._queue.get()) is not None:
                message, future, received = item
                try:
                    reply = analyst.handle(message, self.history.ensure())
                    if reply.feedback:
                        answer = orjson.dumps(self._feedback(message))
                    else:
                        self._record(reply, received)
                        answer = reply.answer
                except Exception as exc:  # noqa: BLE001 - every waiting request gets an answer
                    answer = orjson.dumps(self.error(_failure(exc), _decoded(message)))
                future.set_result(answer)
        finally:
            analyst.close()

    def _record(self, reply: Reply, received: float) -> None:
        if reply.record is not None and self.recorder is not None:
            self.recorder.put(reply.record, (time.perf_counter() - received) * 1000)

    def _feedback(self, message: bytes | dict) -> dict[str, Any]:
        """Answer a 3103 (the worker found it one); its errors are answered like any other."""
        body = _decoded(message)
        try:
            return self.feedback(fields.check_envelope(body))
        except FundGuardError as exc:
            return self.error(exc, body)


def _failure(exc: Exception) -> FundGuardError:
    return exc if isinstance(exc, FundGuardError) else RealtimeError(
        f"实时审核执行失败：{type(exc).__name__}: {exc}"[:500])


def _decoded(message: bytes | dict) -> Any:
    """A queued message as JSON (None if it is none)."""
    if isinstance(message, dict):
        return message
    try:
        return decode(message)
    except FundGuardError:
        return None


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
