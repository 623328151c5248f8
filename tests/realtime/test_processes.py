"""The gateway with worker processes (``processes=N``): the same answers as with worker threads; 3103 and the
call log stay in the gateway's process; a worker process that dies is replaced."""

from __future__ import annotations

import copy

import orjson
import psutil
import pytest

from fundguard.api import gateway_schema
from tests.realtime.conftest import encounter, example, gateway_client, post, rules_of

STAMPS = ("refmsg_time", "respond_time")


def _messages() -> list:
    outpatient = example(trig_scen="2")
    encounter(outpatient).update(med_mdtrt_type="1", med_type="11")
    narrowed = example(rule_ids=["GZ10000301004000"])
    return [example(), outpatient, narrowed, b"{not json", {"infno": "3101", "msgid": "M1", "input": {}}]


def _workers(but: tuple = ()) -> list[psutil.Process]:
    return [p for p in psutil.Process().children()
            if "fundguard.engine.realtime.worker" in " ".join(p.cmdline()) and p not in but]


@pytest.fixture(scope="module")
def process_client(kb_con):
    with gateway_client(kb_con, processes=2) as c:
        yield c


def test_worker_processes_answer_as_worker_threads(client, process_client):
    for message in _messages():
        expected, found = post(client, message), post(process_client, message)
        for answer in (expected, found):
            for stamp in STAMPS:
                answer.pop(stamp)
        assert found == expected


def test_feedback_and_the_call_log_with_worker_processes(kb_con, process_client):
    results = post(process_client, example())["output"]["result"]
    feedback = copy.deepcopy(gateway_schema.EXAMPLE_3103)
    feedback["msgid"] = "FEEDBACK-PROCESSES"
    feedback["input"]["data"]["warns"] = [{"warn_rslt_id": results[0]["jr_id"], "dspo_way": "2"}]
    assert post(process_client, feedback)["output"] == {"feedback_cnt": 1}
    feedback["input"]["data"]["warns"] = [{"warn_rslt_id": "JR0000", "dspo_way": "2"}]
    assert post(process_client, feedback)["err_msg"].startswith("[FG602]")
    process_client.service.flush()
    logged = kb_con.execute("SELECT infcode, count(*) FROM rt_calls WHERE msgid = 'FEEDBACK-PROCESSES' "
                            "GROUP BY 1 ORDER BY 1").fetchall()
    assert logged == [(-1, 1), (0, 1)]
    assert kb_con.execute("SELECT count(*) FROM rt_feedback WHERE msgid = 'FEEDBACK-PROCESSES'").fetchone()[0] == 1


def test_a_worker_process_that_dies_is_replaced(kb_con):
    from fundguard.engine.realtime.service import RealtimeService

    others = tuple(_workers())  # the module's gateway
    service = RealtimeService(kb_con, processes=1, record=False)
    try:
        assert rules_of(service.call(example())) == ["GZ10000102014000", "GZ10000301004000"]
        (worker,) = _workers(others)
        worker.kill()
        worker.wait(10)
        lost = service.call(example())
        assert lost["infcode"] == -1 and lost["err_msg"].startswith("[FG600] 实时审核工作进程意外退出")
        assert rules_of(service.call(example())) == ["GZ10000102014000", "GZ10000301004000"]
        (replacement,) = _workers(others)
        assert replacement.pid != worker.pid
    finally:
        service.close()
    assert _workers(others) == []


TUNING_PROBE = """
import ctypes, sqlite3, sys
from fundguard.engine.realtime import lite
applied = lite.tune_process()
con = lite.connect()
con.execute("CREATE TEMP TABLE t (a TEXT)")
con.executemany("INSERT INTO t VALUES (?)", [(str(i) * 20,) for i in range(2000)])
assert con.execute("SELECT count(*), max(a) FROM t ORDER BY 1").fetchone()[0] == 2000
used = -1
if applied:
    lib = next(line.split()[-1] for line in open("/proc/self/maps") if "/libsqlite3.so" in line)
    lib = ctypes.CDLL(lib)
    lib.sqlite3_memory_used.restype = ctypes.c_int64
    used = lib.sqlite3_memory_used()
print(applied, used)
"""


def test_worker_processes_run_sqlite_without_serialization_mutexes():
    """A worker process switches SQLite to multi-thread mode without memory statistics before its first
    connection (lite.tune_process): the library then counts no memory, and connections still work."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", TUNING_PROBE], capture_output=True, text=True, check=True).stdout
    applied, used = out.split()
    if applied != "True":
        pytest.skip("此环境的 Python 未动态链接 libsqlite3（或不是 Linux），工作进程不调整 SQLite 配置")
    assert used == "0"  # with statistics on, the 2,000 rows above hold far more than 0 bytes


def test_worker_processes_keep_the_garbage_collector_off_their_startup_objects():
    """A worker process freezes what it holds after start-up (rules, statements) and collects rarely."""
    import subprocess
    import sys

    probe = ("import gc\nfrom fundguard.engine.realtime.worker import _quiet_gc\nbefore = gc.get_freeze_count()\n"
             "_quiet_gc()\nprint(before, gc.get_freeze_count(), gc.get_threshold()[0])")
    before, frozen, threshold = map(int, subprocess.run([sys.executable, "-c", probe], capture_output=True,
                                                        text=True, check=True).stdout.split())
    assert before == 0 and frozen > 10_000  # the imported modules' objects at least
    assert threshold == 5000


def test_more_messages_than_worker_processes_at_once(client, process_client):
    """Messages sent together wait for an idle worker process; each gets its own answer."""
    import concurrent.futures

    messages = []
    for n in range(8):
        message = example()
        message["msgid"] = f"MANY{n}"
        message["input"]["data"]["patient_dtos"][0]["gend"] = "12"[n % 2]
        messages.append(message)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        together = list(pool.map(lambda m: post(process_client, m), messages))
    for message, found in zip(messages, together):
        expected = post(client, message)
        for answer in (expected, found):
            for stamp in STAMPS:
                answer.pop(stamp)
        assert found == expected


def test_a_cancelled_wait_for_a_worker_process_loses_no_worker(kb_con):
    """A message cancelled while waiting for a worker (its client gone) leaves the pool whole."""
    import asyncio

    from fundguard.engine.realtime.service import RealtimeService

    service = RealtimeService(kb_con, processes=1, record=False)
    pool = service._pool

    async def scenario():
        held = await pool._acquire()
        waiting = asyncio.ensure_future(pool._acquire())
        await asyncio.sleep(0.01)
        assert not waiting.done()
        waiting.cancel()
        pool._release(held)  # handed to the cancelled waiter first, which gives it back
        await asyncio.sleep(0.01)
        again = await asyncio.wait_for(pool._acquire(), 5)
        assert again is held
        late = asyncio.ensure_future(pool._acquire())
        await asyncio.sleep(0)  # now waiting
        pool._release(again)  # the hand-over is queued
        await asyncio.sleep(0)  # it runs: the waiter has the worker, its task has not resumed yet
        late.cancel()  # cancelled with the worker in hand: it gives it back
        await asyncio.sleep(0.01)
        assert late.cancelled()
        last = await asyncio.wait_for(pool._acquire(), 5)
        assert last is held
        pool._release(last)
        return orjson.loads(await service.answer(orjson.dumps(example())))

    try:
        assert rules_of(asyncio.run(scenario())) == ["GZ10000102014000", "GZ10000301004000"]
    finally:
        service.close()
