"""Real-time audit (3101/3102) under load on loopback: latency percentiles and sustained throughput.

Goal (issue 4): a request with 200 order lines and 50 prior encounters of history answers with p99 ≤ 50 ms on
2 cores (stretch 20 ms), and the gateway sustains ≥ 200 requests/s without errors.

Setup: a synthetic city (``fundguard synth``) loaded into a store with the built-in knowledge base; ``--patients``
bench patients each get 50 prior encounters (copies of real encounters of the city, with their lines,
diagnoses and settlements, spread over the year) and one 3101 message for a new inpatient encounter with 200
orders drawn from the city's inpatient lines (real codes and prices). The gateway (``create_gateway_app``,
``--processes`` worker processes, default one per core) runs in its own process under uvicorn; the messages go
over loopback, each request a different patient's message in turn:

1. sequential: one request at a time (``--sequential`` requests, sent with httpx): latency p50/p95/p99;
2. load: one phase per value of ``--concurrency`` (default 4 and 32 connections), each for at most ``--seconds``
   seconds or ``--requests`` requests: throughput, errors (HTTP status or ``infcode`` ≠ 0) and latency
   percentiles under load. A closed loop of N connections keeps N requests in the gateway, so its latency is
   about N / throughput: 4 connections keep both workers busy (the throughput of 32) with requests waiting
   at most one turn; 32 show the queueing of an overloaded gateway. The throughput goal counts as met when
   one phase sustains ≥ 200 req/s without errors at p99 ≤ 50 ms. Sent with ``wrk``
   (Debian package ``wrk``; a Lua script posts the messages in turn) when it is installed, as its C client
   leaves the 2 cores to the gateway; otherwise with httpx (``--loader`` chooses). The line says which.

CPU per request is printed for the gateway (its process and worker processes) and the load generator. Then the
messages go ``--in-process`` rounds through one worker in the benchmark's own process, and its CPU per message is
printed step by step: on a shared machine, steadier than the load phases.

    .venv/bin/python bench/bench_realtime.py [--workdir DIR] [--persons 3000] [--patients 100] [--processes N]
                                             [--national-kb] [--catalogue 130000]

``--national-kb`` imports the national knowledge points (batches 1–17, ``../shared/data``) as a bureau would, and
``--catalogue`` pads the catalogue to a province's size: the reference tables every request looks up are then
as large as in production (the built-in sample knowledge base has a few dozen points).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

GOAL_P99_MS, STRETCH_P99_MS, GOAL_RPS = 50.0, 20.0, 200.0
SHARED_DATA = ROOT.parent / "shared" / "data"
NATIONAL_JSON = SHARED_DATA / "nhsa-liangku" / "two_libraries_all_records.json"
NATIONAL_XLSX = SHARED_DATA / "medimodel" / "liangku_xlsx"
ORDERS, PRIOR = 200, 50


def build_store(workdir: Path, persons: int, patients: int, seed: int = 11, national: bool = False,
                catalogue: int = 0) -> Path:
    """A loaded synthetic city plus ``patients`` bench patients with ``PRIOR`` earlier encounters each;
    ``national``: the national knowledge points of ``../shared/data`` imported too; ``catalogue``: the catalogue
    padded with copies of its rows under new codes to that many codes (a province's size)."""
    from fundguard.kb.builtin import ensure_builtin
    from fundguard.store.db import connect

    db = workdir / "rt.duckdb"
    marker = workdir / f"ready-{persons}-{patients}-{seed}-{int(national)}-{catalogue}"
    if marker.exists():
        return db
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    cli = [sys.executable, "-m", "fundguard.cli.main"]
    subprocess.run(cli + ["synth", "--persons", str(persons), "--seed", str(seed), "--out", str(workdir / "city")],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    subprocess.run(cli + ["load", str(workdir / "city"), "--db", str(db)], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)
    con = connect(db)
    try:
        ensure_builtin(con)
        rng = random.Random(seed)
        encounters = [r[0] for r in con.execute("SELECT mdtrt_id FROM mdtrt_d ORDER BY mdtrt_id").fetchall()]
        mapping = []
        for p in range(patients):
            psn = f"BENCHP{p:05d}"
            for k, old in enumerate(rng.sample(encounters, PRIOR)):
                mapping.append((old, f"BENCHM{p:05d}-{k:02d}", psn, dt.datetime(2025, 1, 2) + dt.timedelta(days=6 * k)))
        con.execute("CREATE TEMP TABLE bench_map (old VARCHAR, new VARCHAR, psn VARCHAR, begn TIMESTAMP)")
        con.executemany("INSERT INTO bench_map VALUES (?, ?, ?, ?)", mapping)
        con.execute("""INSERT INTO mdtrt_d SELECT m.* REPLACE (b.new AS mdtrt_id, b.psn AS psn_no, b.begn AS begntime,
                              b.begn + (coalesce(m.endtime, m.begntime) - m.begntime) AS endtime)
                       FROM mdtrt_d m JOIN bench_map b ON b.old = m.mdtrt_id""")
        con.execute("""INSERT INTO fee_list_d SELECT f.* REPLACE (b.new || '-' || f.bkkp_sn AS bkkp_sn, b.new AS mdtrt_id,
                              b.psn AS psn_no, b.new AS setl_id, b.begn + (f.fee_ocur_time - m.begntime) AS fee_ocur_time)
                       FROM fee_list_d f JOIN bench_map b ON b.old = f.mdtrt_id JOIN mdtrt_d m ON m.mdtrt_id = b.old""")
        con.execute("""INSERT INTO setl_d SELECT s.* REPLACE (b.new AS setl_id, b.new AS mdtrt_id, b.psn AS psn_no,
                              b.begn AS setl_time) FROM setl_d s JOIN bench_map b ON b.old = s.mdtrt_id""")
        con.execute("""INSERT INTO setl_list_diag_d SELECT d.* REPLACE (b.new || '-' || d.setl_list_diag_id AS setl_list_diag_id,
                              b.new AS mdtrt_id, b.psn AS psn_no, b.new AS setl_id)
                       FROM setl_list_diag_d d JOIN bench_map b ON b.old = d.mdtrt_id""")
        con.execute("INSERT INTO psn_info SELECT p.* REPLACE (b.psn AS psn_no, NULL AS die_date) FROM psn_info p "
                    "JOIN (SELECT DISTINCT psn FROM bench_map) b ON true QUALIFY row_number() OVER (PARTITION BY b.psn) = 1")
        if catalogue:
            have = con.execute("SELECT count(DISTINCT hilist_code) FROM hilist").fetchone()[0]
            copies = max(0, -(-(catalogue - have) // max(have, 1)))
            con.execute("INSERT INTO hilist SELECT h.* REPLACE ('ZZ' || lpad(CAST(t.i AS VARCHAR), 6, '0') || h.hilist_code "
                        f"AS hilist_code) FROM hilist AS h, range({copies}) AS t(i)")
    finally:
        con.close()
    if national:
        subprocess.run(cli + ["kb", "import", str(NATIONAL_JSON), *map(str, sorted(NATIONAL_XLSX.glob("*.xlsx"))),
                              "--db", str(db)], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    marker.touch()
    return db


def make_requests(db: Path, patients: int, seed: int = 5, infno: str = "3101", scene: str = "5") -> list[dict]:
    """One message per bench patient: a new inpatient stay with ORDERS orders drawn from real inpatient lines."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        lines = con.execute("""SELECT f.hilist_code, f.hilist_name, f.med_chrgitm_type, coalesce(f.list_type, ''),
                                      CAST(f.pric AS DOUBLE), CAST(f.cnt AS DOUBLE)
                               FROM fee_list_d f JOIN mdtrt_d m USING (mdtrt_id)
                               WHERE m.med_type = '21' AND f.cnt > 0 AND f.mdtrt_id NOT LIKE 'BENCHM%'
                               ORDER BY f.bkkp_sn LIMIT 50000""").fetchall()
        diags = con.execute("SELECT diag_code, diag_name FROM setl_list_diag_d WHERE mdtrt_id NOT LIKE 'BENCHM%' "
                            "ORDER BY setl_list_diag_id LIMIT 5000").fetchall()
        medins = con.execute("SELECT fixmedins_code, fixmedins_name, hosp_lv FROM medins_info "
                             "WHERE fixmedins_type = '1' ORDER BY fixmedins_code LIMIT 20").fetchall()
    finally:
        con.close()
    rng = random.Random(seed)
    out = []
    for p in range(patients):
        mid = f"BENCHNEW{p:05d}"
        code, name, lv = rng.choice(medins)
        adm = dt.datetime(2025, 12, 10, 9, 0)
        orders = []
        for n, (hcode, hname, chrg, list_type, pric, cnt) in enumerate(rng.sample(lines, ORDERS)):
            when = adm + dt.timedelta(days=n % 4, hours=n % 9)
            orders.append({"rx_id": f"RX{n:04d}", "rxno": f"CF{n // 10:03d}", "long_drord_flag": "0",
                           "hilist_type": list_type, "chrg_type": chrg or "", "drord_bhvr": "0", "hilist_code": hcode,
                           "hilist_name": hname or "", "hilist_lv": "01", "hilist_pric": pric,
                           "hosplist_code": hcode, "hosplist_name": hname or "", "cnt": cnt, "pric": pric,
                           "sumamt": round(cnt * pric, 2), "ownpay_amt": 0, "selfpay_amt": 0, "spec": "",
                           "spec_unt": "", "drord_begn_date": when.strftime("%Y-%m-%d %H:%M:%S"),
                           "drord_dept_codg": "A03", "drord_dept_name": "内科", "drord_dr_codg": "D001",
                           "drord_dr_name": "医生", "drord_dr_profttl": "2", "curr_drord_flag": "1"})
        dx = rng.sample(diags, 2)
        out.append({"infno": infno, "msgid": f"BENCH{p:08d}", "fixmedins_code": code, "input": {"data": {
            "syscode": "BENCH", "task_id": f"T{p}", "trig_scen": scene, "patient_dtos": [{
                "patn_id": f"BENCHP{p:05d}", "patn_name": "测试", "gend": rng.choice("12"), "brdy": "1960-05-01",
                "poolarea": "", "curr_mdtrt_id": mid, "fsi_encounter_dtos": [{
                    "mdtrt_id": mid, "medins_id": code, "medins_name": name, "medins_admdvs": "", "medins_type": "1",
                    "medins_lv": lv or "", "adm_date": adm.strftime("%Y-%m-%d %H:%M:%S"), "dscg_date": "",
                    "dscg_main_dise_codg": dx[0][0], "dscg_main_dise_name": dx[0][1] or "", "dr_codg": "D001",
                    "adm_dept_codg": "A03", "adm_dept_name": "内科", "dscg_dept_codg": "", "dscg_dept_name": "",
                    "med_mdtrt_type": "2", "med_type": "21", "matn_stas": "0",
                    "medfee_sumamt": round(sum(o["sumamt"] for o in orders), 2), "ownpay_amt": 0, "selfpay_amt": 0,
                    "setl_totlnum": 0, "insutype": "310", "reim_flag": "0", "out_setl_flag": "0",
                    "fsi_diagnose_dtos": [{"dise_codg": c, "dise_name": n or "", "maindise_flag": "1" if i == 0 else "0"}
                                          for i, (c, n) in enumerate(dx)],
                    "fsi_order_dtos": orders, "fsi_operation_dtos": []}]}]}}})
    return out


def percentiles(values: list[float]) -> tuple[float, float, float]:
    q = statistics.quantiles(values, n=100, method="inclusive")
    return q[49], q[94], q[98]


def serve(db: str, port: int, processes: int) -> None:
    import uvicorn

    from fundguard.api.gateway import create_gateway_app
    from fundguard.store.db import connect

    app = create_gateway_app(connect(db), processes=processes)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


async def _load(url: str, bodies: list[bytes], concurrency: int, limit: int, seconds: float):
    import httpx
    import orjson

    latencies: list[float] = []
    errors: list[str] = []
    counter = iter(range(limit))
    deadline = time.perf_counter() + seconds

    async def client(c: httpx.AsyncClient):
        for i in counter:
            if time.perf_counter() > deadline:
                return
            started = time.perf_counter()
            try:
                r = await c.post(url, content=bodies[i % len(bodies)], headers={"content-type": "application/json"})
                answer = orjson.loads(r.content)
                if r.status_code != 200 or answer.get("infcode") != 0:
                    errors.append(f"{r.status_code} {answer.get('err_msg')}")
            except Exception as exc:  # noqa: BLE001
                errors.append(repr(exc))
            latencies.append((time.perf_counter() - started) * 1000)

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60) as c:
        started = time.perf_counter()
        await asyncio.gather(*(client(c) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return latencies, errors, elapsed


WRK_SCRIPT = """
local bodies, threads, limit = {}, {}, %(limit)d
local n, sent = 0, 0
errors, first = 0, nil  -- globals: done() reads them with thread:get
function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads * 37)  -- threads start at different messages
end
function init(args)
  for i = 0, %(count)d - 1 do
    local f = assert(io.open(string.format("%(dir)s/%%05d.json", i), "rb"))
    bodies[#bodies + 1] = f:read("*a")
    f:close()
  end
  n = tonumber(wrk.thread:get("id"))
end
function request()
  n = n + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, bodies[n %% #bodies + 1])
end
function response(status, headers, body)
  sent = sent + 1
  if status ~= 200 or not string.find(body, '"infcode":0', 1, true) then
    errors = errors + 1
    if first == nil then first = status .. " " .. string.sub(body, 1, 300) end
  end
  if sent >= limit then wrk.thread:stop() end
end
function done(summary, latency, requests)
  local errs, firsts = 0, ""
  for _, t in ipairs(threads) do
    errs = errs + t:get("errors")
    if t:get("first") ~= nil then firsts = t:get("first") end
  end
  io.write(string.format("WRK %%d %%d %%d %%.3f %%.3f %%.3f %%s\\n", summary.requests, summary.duration, errs,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000, firsts))
end
"""


def _wrk(url: str, bodies: list[bytes], concurrency: int, limit: int, seconds: float):
    """The load phase with wrk: (requests, errors, elapsed s, p50/p95/p99 ms, first error text)."""
    threads = min(concurrency, os.cpu_count() or 1)
    with tempfile.TemporaryDirectory(prefix="fg-bench-wrk-") as tmp:
        for i, body in enumerate(bodies):
            Path(tmp, f"{i:05d}.json").write_bytes(body)
        script = Path(tmp, "post.lua")
        script.write_text(WRK_SCRIPT % {"limit": -(-limit // threads), "count": len(bodies), "dir": tmp})
        out = subprocess.run(["wrk", "-t", str(threads), "-c", str(concurrency), "-d", f"{seconds:.0f}s",
                              "--timeout", "60s", "-s", str(script), url],
                             capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRK "))
    _, requests, micros, errors, p50, p95, p99, *first = line.split(" ", 7)
    return int(requests), int(errors), int(micros) / 1e6, (float(p50), float(p95), float(p99)), " ".join(first)


def _cpu(proc) -> tuple[float, float]:
    """CPU seconds of a process, and of its children (the gateway's worker processes)."""
    import psutil

    own = sum(proc.cpu_times()[:2])
    kids = 0.0
    for p in proc.children(recursive=True):
        try:
            kids += sum(p.cpu_times()[:2])
        except psutil.NoSuchProcess:
            pass
    return own, kids


def _own_cpu() -> float:
    """CPU seconds of this process and of its finished children (a wrk run)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _load_phase(url: str, bodies: list[bytes], loader: str, concurrency: int, args, proc) -> tuple[float, int, float]:
    """One load phase at ``concurrency`` connections; prints its line; returns (req/s, errors, p99 ms)."""
    cpu0 = (_cpu(proc), _own_cpu())
    if loader == "wrk":
        count, errors, elapsed, (p50, p95, p99), first = _wrk(url, bodies, concurrency, args.requests, args.seconds)
    else:
        lat, err, elapsed = asyncio.run(_load(url, bodies, concurrency, args.requests, args.seconds))
        count, errors, first = len(lat), len(err), "; ".join(err[:3])
        p50, p95, p99 = percentiles(lat)
    cpu1 = (_cpu(proc), _own_cpu())
    http_ms, workers_ms = ((cpu1[0][i] - cpu0[0][i]) / count * 1000 for i in (0, 1))
    rps = count / elapsed
    print(f"load ({loader}, {concurrency} connections): {count} requests in {elapsed:.1f} s = {rps:.0f} req/s, "
          f"{errors} errors, p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms; CPU per request: "
          f"gateway {http_ms + workers_ms:.1f} ms (HTTP process {http_ms:.1f}, worker processes {workers_ms:.1f}), "
          f"load generator {(cpu1[1] - cpu0[1]) / count * 1000:.1f} ms", flush=True)
    if errors:
        print("first errors:", first)
    if loader == "wrk" and count >= args.requests:
        print(f"(the cap of {args.requests} requests was reached before {args.seconds:.0f} s: wrk counts the whole "
              "duration, so the rate above is a lower bound)")
    return rps, errors, p99


def in_process(db: Path, bodies: list[bytes], rounds: int) -> None:
    """CPU per message of one worker in this process, by step (no HTTP, no other process on the cores): steadier
    than the load phases on a shared machine, so changes to the worker are best compared with it."""
    import orjson

    from fundguard.engine.realtime import feedback, lite, results
    from fundguard.engine.realtime.service import RealtimeService
    from fundguard.engine.realtime.worker import Analyst, _quiet_gc, decode, envelope_answer, prepare
    from fundguard.store.db import connect

    tuned = lite.tune_process()  # as a worker process does (False if this process used SQLite already)
    con = connect(db)
    service = RealtimeService(con, record=False, workers=1)
    analyst = Analyst(*service._analyst_args())
    version = service.history.ensure()
    _quiet_gc()  # as a worker process does once it is ready
    steps = dict.fromkeys(("decode", "validation and mapping", "rules (SQLite)", "grouping", "answer and record"), 0.0)
    clock = time.process_time
    try:
        for n in range(rounds + 1):
            if n == 1:  # the first round warms up
                steps = dict.fromkeys(steps, 0.0)
            for body in bodies:
                t0 = clock()
                decoded = decode(body)
                t1 = clock()
                analysis = prepare(decoded, analyst.rules, analyst.history_days)
                t2 = clock()
                universe = analysis.universes[0]
                rows = analyst.executor.run(universe, version)
                t3 = clock()
                found = results.group(rows, analyst.executor.kp_info, analyst.params, analyst.executor.evidence)
                t4 = clock()
                answer = envelope_answer(0, analysis.msgid, {"result": results.answer(universe, found, None)})
                orjson.dumps(answer)
                feedback.analysis_record(analysis, answer)
                t5 = clock()
                for step, (a, b) in zip(steps, ((t0, t1), (t1, t2), (t2, t3), (t3, t4), (t4, t5))):
                    steps[step] += b - a
    finally:
        analyst.close()
        service.close()
        con.close()
    count = rounds * len(bodies)
    print(f"in-process CPU per message (one worker, no HTTP, {count} messages, SQLite tuned: {tuned}): "
          f"{sum(steps.values()) / count * 1000:.2f} ms = "
          + " + ".join(f"{step} {value / count * 1000:.2f}" for step, value in steps.items()), flush=True)


def main() -> None:
    import httpx
    import orjson
    import psutil

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "fg-bench-realtime")
    ap.add_argument("--persons", type=int, default=3000)
    ap.add_argument("--patients", type=int, default=100)
    ap.add_argument("--sequential", type=int, default=200)
    ap.add_argument("--concurrency", default="4,32",
                    help="connections of the load phases, comma-separated: one phase per value (default 4,32)")
    ap.add_argument("--requests", type=int, default=20000)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--port", type=int, default=18731)
    ap.add_argument("--processes", type=int, default=os.cpu_count() or 1,
                    help="gateway worker processes (0: worker threads in the gateway process)")
    ap.add_argument("--loader", choices=("auto", "wrk", "httpx"), default="auto")
    ap.add_argument("--national-kb", action="store_true",
                    help="also import the national knowledge points of ../shared/data (a bureau's real setting)")
    ap.add_argument("--catalogue", type=int, default=0, metavar="CODES",
                    help="pad the catalogue to this many codes (a province's catalogue: 130000)")
    ap.add_argument("--in-process", type=int, default=3, metavar="ROUNDS",
                    help="afterwards, time ROUNDS rounds of the messages through one worker in this process, step "
                         "by step (0: skip)")
    ap.add_argument("--serve", nargs=3, metavar=("DB", "PORT", "PROCESSES"), help=argparse.SUPPRESS)
    args, _ = ap.parse_known_args()  # bench/run.py passes every benchmark the same arguments
    if args.serve:
        serve(args.serve[0], int(args.serve[1]), int(args.serve[2]))
        return
    levels = [int(x) for x in str(args.concurrency).split(",") if x.strip()]
    loader = ("wrk" if shutil.which("wrk") else "httpx") if args.loader == "auto" else args.loader
    t0 = time.perf_counter()
    workdir = args.workdir
    if args.national_kb or args.catalogue:
        if args.national_kb and not NATIONAL_JSON.exists():
            raise SystemExit(f"--national-kb: {NATIONAL_JSON} is absent (the shared data folder is not here)")
        workdir = workdir.with_name(f"{workdir.name}-kb{int(args.national_kb)}-cat{args.catalogue}")
    db = build_store(workdir, args.persons, args.patients, national=args.national_kb, catalogue=args.catalogue)
    bodies = [orjson.dumps(m) for m in make_requests(db, args.patients)]
    setting = ("national knowledge base" if args.national_kb else "built-in knowledge base") + (
        f", catalogue of {args.catalogue} codes" if args.catalogue else "")
    print(f"store {db} ({setting}) ready in {time.perf_counter() - t0:.1f} s; {len(bodies)} messages of {ORDERS} orders, "
          f"{PRIOR} prior encounters each ({sum(map(len, bodies)) / len(bodies) / 1024:.0f} KiB per message); "
          f"gateway with {args.processes} worker processes" if args.processes else "gateway with worker threads")
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(db), str(args.port), str(args.processes)],
                              cwd=ROOT)
    url = f"http://127.0.0.1:{args.port}/fsi/api/rsfComIfsService/callService"
    try:
        for _ in range(300):
            try:
                httpx.post(url, content=b"{}", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        warm = asyncio.run(_load(url, bodies, 2, len(bodies), 120))
        if warm[1]:
            raise SystemExit(f"warm-up failed: {warm[1][:3]}")
        lat, err, elapsed = asyncio.run(_load(url, bodies, 1, args.sequential, args.seconds))
        p50, p95, p99 = percentiles(lat)
        sequential_p99 = p99
        print(f"sequential (httpx): {len(lat)} requests, {len(err)} errors, p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
              f"p99 {p99:.1f} ms, {len(lat) / elapsed:.0f} req/s")
        proc = psutil.Process(server.pid)
        met_load = []
        for concurrency in levels:
            rps, errors, p99 = _load_phase(url, bodies, loader, concurrency, args, proc)
            if not errors and rps >= GOAL_RPS and p99 <= GOAL_P99_MS:
                met_load.append(concurrency)
        print(f"goal p99 ≤ {GOAL_P99_MS:.0f} ms (stretch {STRETCH_P99_MS:.0f}) for single requests: "
              f"{'met' if sequential_p99 <= GOAL_P99_MS else 'NOT met'}; goal ≥ {GOAL_RPS:.0f} req/s without errors "
              f"and p99 ≤ {GOAL_P99_MS:.0f} ms at the same time: "
              + (f"met ({', '.join(map(str, met_load))} connections)" if met_load else "NOT met"))
    finally:
        server.terminate()
        server.wait(timeout=30)
    if args.in_process:
        in_process(db, bodies, args.in_process)


if __name__ == "__main__":
    main()
