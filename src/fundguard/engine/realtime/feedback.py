"""What the real-time audit said and what doctors did with it (3103), and the override rate per rule.

``rt_calls`` logs every gateway message (time taken, infcode), ``rt_results`` every warning answered to a
3101/3102, ``rt_feedback`` every 3103 disposition: 继续执行 (dspo_way 1, with a reason) or 返回修改 (2).
``override_stats`` gives, per rule, how often doctors overrode its warnings: a rule that is mostly overridden
is probably too strict or badly targeted. Answers are written by a background thread in small batches.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from fundguard.errors import UnknownWarning

REALTIME_DDL = (
    """CREATE TABLE IF NOT EXISTS rt_calls (
        call_id VARCHAR, infno VARCHAR, msgid VARCHAR, task_id VARCHAR, trig_scen VARCHAR, fixmedins_code VARCHAR,
        called_at TIMESTAMP, patients INTEGER, orders INTEGER, results INTEGER, millis DOUBLE, infcode INTEGER,
        err_msg VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS rt_results (
        call_id VARCHAR, jr_id VARCHAR, task_id VARCHAR, infno VARCHAR, rule_id VARCHAR, rule_name VARCHAR,
        sev_deg VARCHAR, vola_bhvr_type VARCHAR, patn_id VARCHAR, mdtrt_id VARCHAR, fixmedins_code VARCHAR,
        rx_ids VARCHAR, vola_amt DECIMAL(18,2), vola_amt_stas VARCHAR, vola_cont VARCHAR, created_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS rt_feedback (
        jr_id VARCHAR, rule_id VARCHAR, warn_type VARCHAR, dspo_way VARCHAR, dspo_way_rea VARCHAR, msgid VARCHAR,
        fixmedins_code VARCHAR, opter VARCHAR, received_at TIMESTAMP)""",
    "CREATE TABLE IF NOT EXISTS rt_meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
)
DISPOSITIONS = {"1": "继续执行", "2": "返回修改"}
log = logging.getLogger("fundguard.realtime")


def init_realtime_schema(con: duckdb.DuckDBPyConnection) -> None:
    for ddl in REALTIME_DDL:
        con.execute(ddl)


CALL_COLUMNS = ("call_id", "infno", "msgid", "task_id", "trig_scen", "fixmedins_code", "called_at", "patients",
                "orders", "results", "millis", "infcode", "err_msg")
RESULT_COLUMNS = ("call_id", "jr_id", "task_id", "infno", "rule_id", "rule_name", "sev_deg", "vola_bhvr_type",
                  "patn_id", "mdtrt_id", "fixmedins_code", "rx_ids", "vola_amt", "vola_amt_stas", "vola_cont",
                  "created_at")


Record = tuple  # (rt_calls row with its millis left None, [rt_results rows]): what a worker hands the recorder
MILLIS = CALL_COLUMNS.index("millis")


def analysis_record(analysis, answer: dict[str, Any]) -> Record:
    """The call-log rows of an answered 3101/3102 (built where the answer is made, a worker process maybe)."""
    call_id = uuid.uuid4().hex
    now = dt.datetime.now()
    envelope, data = analysis.envelope, analysis.data
    items = answer["output"]["result"]
    orders = sum(len(e["fsi_order_dtos"]) for u in analysis.universes for e in u.patient["fsi_encounter_dtos"])
    call = (call_id, analysis.infno, analysis.msgid, data.get("task_id"), data.get("trig_scen"),
            envelope.get("fixmedins_code") or (analysis.universes[0].current.get("medins_id")
                                               if analysis.universes else None),
            now, len(analysis.universes), orders, len(items), None, 0, None)
    rows = []
    for u in analysis.universes:
        for r in items:
            if r["patn_id"] != u.psn_no or r["mdtrt_id"] != u.mdtrt_id:
                continue
            rx = ";".join(d["rx_id"] for d in r["judge_result_detail_dtos"] if d["rx_id"])
            rows.append((call_id, r["jr_id"], r["task_id"], analysis.infno, r["rule_id"], r["rule_name"],
                         r["sev_deg"], r["vola_bhvr_type"], r["patn_id"], r["mdtrt_id"], u.current.get("medins_id"),
                         rx or None, r["vola_amt"], r["vola_amt_stas"], r["vola_cont"], now))
    return call, rows


def call_record(*, infno: str | None, msgid: str | None, answer: dict[str, Any],
                fixmedins_code: str | None = None) -> Record:
    """The call-log row of a call without results (an error answer, a 3103)."""
    return (uuid.uuid4().hex, infno, msgid, None, None, fixmedins_code, dt.datetime.now(), 0, 0, 0,
            None, answer["infcode"], answer["err_msg"] or None), []


class Recorder:
    """Writes call and result rows off the request path, every ``interval`` seconds in one batch (DuckDB pays
    a few milliseconds per statement, whatever its size); ``flush`` writes at once and waits."""

    def __init__(self, con: duckdb.DuckDBPyConnection, interval: float = 0.5):
        self.cur = con.cursor()
        self.interval = interval
        self._pending: list = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._written = threading.Condition(self._lock)
        self._generation = 0  # batches taken so far; flush waits until its items are written
        self._done = 0
        self._stop = False
        self._thread = threading.Thread(target=self._write_loop, name="fg-realtime-recorder", daemon=True)
        self._thread.start()

    def put(self, record: Record, millis: float) -> None:
        call, rows = record
        with self._lock:
            self._pending.append(((*call[:MILLIS], millis, *call[MILLIS + 1:]), rows))

    def _write_loop(self) -> None:
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            with self._lock:
                items, self._pending = self._pending, []
                generation = self._generation = self._generation + 1
                stop = self._stop
            if items:
                try:
                    self._write(items)
                except duckdb.Error:  # the log must never break answering; a failed write loses these rows only
                    log.exception("real-time call log write failed")
            with self._lock:
                self._done = generation
                self._written.notify_all()
            if stop:
                return

    def _write(self, items: list) -> None:
        calls = [c for c, _ in items]
        rows = [r for _, rs in items for r in rs]
        for table, columns, data in (("rt_calls", CALL_COLUMNS, calls), ("rt_results", RESULT_COLUMNS, rows)):
            if not data:
                continue
            arrow = pa.table({c: [d[i] for d in data] for i, c in enumerate(columns)})
            self.cur.register("__rt_log", arrow)
            try:
                self.cur.execute(f"INSERT INTO {table} BY NAME SELECT * FROM __rt_log")
            finally:
                self.cur.unregister("__rt_log")

    def flush(self) -> None:
        """Write everything recorded so far and wait until it is stored."""
        with self._lock:
            target = self._generation + 1
        self._wake.set()
        with self._lock:
            while self._done < target and self._thread.is_alive():
                self._written.wait(1.0)
                self._wake.set()

    def close(self) -> None:
        with self._lock:
            self._stop = True
        self._wake.set()
        self._thread.join(timeout=30)
        try:
            self.cur.close()
        except duckdb.Error:
            pass


def store_feedback(con: duckdb.DuckDBPyConnection, envelope: dict[str, Any], data: dict[str, Any]) -> int:
    """Store a 3103 message's dispositions; every warn_rslt_id must be a jr_id some 3101/3102 answered."""
    cur = con.cursor()
    try:
        ids = sorted({w["warn_rslt_id"] for w in data["warns"]})
        known = dict(cur.execute(
            "SELECT jr_id, arg_max(rule_id, created_at) FROM rt_results WHERE jr_id IN (SELECT unnest(?::VARCHAR[])) "
            "GROUP BY jr_id", [ids]).fetchall())
        for i, warn in enumerate(data["warns"]):
            if warn["warn_rslt_id"] not in known:
                raise UnknownWarning(
                    f"字段 input.data.warns[{i}].warn_rslt_id（违规标识）{warn['warn_rslt_id']!r} 不是本系统 3101/3102 "
                    "返回过的违规标识（jr_id）", f"input.data.warns[{i}].warn_rslt_id")
        now = dt.datetime.now()
        cur.executemany(
            "INSERT INTO rt_feedback VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [[w["warn_rslt_id"], known[w["warn_rslt_id"]], data["warn_type"], w["dspo_way"],
              (w.get("dspo_way_rea") or None), envelope["msgid"], envelope.get("fixmedins_code"),
              envelope.get("opter"), now] for w in data["warns"]])
        return len(data["warns"])
    finally:
        cur.close()


@dataclass(frozen=True)
class OverrideStat:
    rule_id: str
    rule_name: str
    warnings: int  # warnings answered to 3101/3102
    feedbacks: int  # 3103 dispositions received
    continued: int  # 继续执行 (the doctor overrode the warning)
    returned: int  # 返回修改 (the doctor changed the order)
    override_rate: float | None  # continued / feedbacks; None without feedback


def override_stats(con: duckdb.DuckDBPyConnection) -> list[OverrideStat]:
    """Per rule that ever warned: warnings, 继续执行 and 返回修改 counts, override rate (highest first)."""
    init_realtime_schema(con)
    rows = con.execute("""
        WITH w AS (SELECT rule_id, max(rule_name) AS rule_name, count(*) AS warnings FROM rt_results GROUP BY rule_id),
             f AS (SELECT rule_id, count(*) AS feedbacks, count(*) FILTER (WHERE dspo_way = '1') AS continued,
                          count(*) FILTER (WHERE dspo_way = '2') AS returned
                   FROM rt_feedback GROUP BY rule_id)
        SELECT w.rule_id, w.rule_name, w.warnings, coalesce(f.feedbacks, 0), coalesce(f.continued, 0),
               coalesce(f.returned, 0)
        FROM w LEFT JOIN f ON f.rule_id = w.rule_id""").fetchall()
    stats = [OverrideStat(r[0], r[1], r[2], r[3], r[4], r[5], (r[4] / r[3]) if r[3] else None) for r in rows]
    stats.sort(key=lambda s: (-(s.override_rate if s.override_rate is not None else -1), -s.warnings, s.rule_id))
    return stats
