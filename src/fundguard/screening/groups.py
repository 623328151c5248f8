"""Groups: S07 同户同村同期住院 (significant co-admission events) and S13 疑似组织住院团伙 (graph communities).

The graph has persons, institutions and doctors. Person–person edges carry the evidence of organised admission:
co-admission to the same institution within ``coadm_days`` days that repeats (≥ 2 times), or happens inside a
significant S07 event or on a burst day of an institution with systematic bursts (S02 strength ≥ 0.5), plus shared
household between persons already linked. Communities are found among persons
with Louvain (networkx, fixed seed); each community's institution and doctors are the hubs its members share.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict

import numpy as np

from fundguard.screening.context import Ctx

STAYS = "SELECT * FROM sc_enc WHERE ip AND NOT planned AND med_type <> '52' AND coalesce(age, 99) >= 1"
VILLAGE = "regexp_extract(coalesce(p.addr, ''), '([^市县区镇乡]+村)', 1)"


def s07_events(ctx: Ctx) -> None:
    con, p = ctx.con, ctx.p("S07")
    w = max(1, int(p["window_days"]))
    b = ctx.period.begin.isoformat()
    days = max(ctx.period.days, 1)
    rows = []
    for kind, col, min_n in (("village", "vlg_code", int(p["min_village"])), ("household", "fmly_no", int(p["min_household"]))):
        rows += [(kind, *r) for r in con.execute(f"""
            WITH s AS (SELECT *, CAST(floor(date_diff('day', DATE '{b}', begn_date) / {w}) AS INTEGER) AS slot FROM ({STAYS})),
                 inst AS (SELECT fixmedins_code, count(*) / (SELECT count(*) FROM s) AS share FROM s GROUP BY 1),
                 grp AS (SELECT {col} AS g, count(*) AS n_g FROM s WHERE {col} IS NOT NULL GROUP BY 1),
                 ev AS (SELECT fixmedins_code, {col} AS g, slot, count(DISTINCT psn_no) AS n, list(DISTINCT psn_no) AS persons,
                               list(mdtrt_id) AS ids, min(begn_date) AS day
                        FROM s WHERE {col} IS NOT NULL GROUP BY ALL HAVING count(DISTINCT psn_no) >= {min_n})
            SELECT ev.fixmedins_code, ev.g, ev.day, ev.n, ev.persons, ev.ids,
                   greatest(grp.n_g - ev.n, 1) / {days} * {w} * inst.share AS lam
            FROM ev JOIN grp USING (g) JOIN inst USING (fixmedins_code)""").fetchall()]
    con.execute("""CREATE OR REPLACE TEMP TABLE _s07 (kind VARCHAR, fixmedins_code VARCHAR, g VARCHAR, day DATE, n INTEGER,
                   persons VARCHAR[], ids VARCHAR[], lam DOUBLE, p DOUBLE, strength DOUBLE)""")
    if not rows:
        return
    from scipy.stats import poisson

    n = np.array([r[4] for r in rows], float)
    lam = np.array([r[7] for r in rows], float)
    pv = poisson.sf(n - 1, lam)
    keep = [(*r, float(q), min(1.0, -math.log10(max(q, 1e-300)) / 12)) for r, q in zip(rows, pv) if q < float(p["p_max"])]
    if not keep:
        return
    con.executemany("INSERT INTO _s07 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", keep)
    for kind in ("village", "household"):
        ctx.flag(f"{kind}_event", f"SELECT unnest(ids) AS mdtrt_id FROM _s07 WHERE kind = '{kind}'")
    con.execute("""CREATE OR REPLACE TEMP TABLE _s07_psn AS
        SELECT psn, kind, fixmedins_code, day, n, strength, g FROM (SELECT unnest(persons) AS psn, * FROM _s07)""")
    ctx.add_hits("S07", """
        WITH a AS (SELECT x.psn, max(x.strength) AS top, count(*) AS k, arg_max(x.kind, x.strength) AS kind,
                          arg_max(x.fixmedins_code, x.strength) AS medins, arg_max(x.day, x.strength) AS day,
                          arg_max(x.n, x.strength) AS n
                   FROM _s07_psn x GROUP BY 1)
        SELECT 'person', a.psn, NULL, a.medins, least(1.0, a.top + 0.15 * (a.k - 1)), a.k,
               json_object('同期事件数', a.k, '类型', CASE a.kind WHEN 'village' THEN '同村' ELSE '同户' END,
                           '机构', m.fixmedins_name, '示例日期', a.day, '示例人数', a.n)::VARCHAR,
               format('与{}{}人于{}同期入住{}（共{}次同期入院事件）',
                      CASE a.kind WHEN 'village' THEN '同村村民共' ELSE '同户家庭成员共' END, a.n, a.day, m.fixmedins_name, a.k)
        FROM a JOIN sc_medins m ON m.fixmedins_code = a.medins""")
    ctx.add_hits("S07", """
        SELECT 'medins', fixmedins_code, NULL, fixmedins_code, least(1.0, sum(strength) / 3.0), count(*),
               json_object('同村事件', count(*) FILTER (WHERE kind = 'village'),
                           '同户事件', count(*) FILTER (WHERE kind = 'household'), '涉及人次', sum(n),
                           '最大单次人数', max(n))::VARCHAR,
               format('发生{}次同村、{}次同户同期入院聚集事件，共{}人次（单次最多{}人同日入院）',
                      count(*) FILTER (WHERE kind = 'village'), count(*) FILTER (WHERE kind = 'household'), sum(n), max(n))
        FROM _s07 GROUP BY fixmedins_code""")


def _edges(ctx: Ctx) -> list[tuple]:
    d = max(0, int(ctx.p("S13")["coadm_days"]))
    shifts = " UNION ALL ".join(
        f"SELECT least(a.psn_no, b.psn_no) AS p1, greatest(a.psn_no, b.psn_no) AS p2, a.fixmedins_code, a.begn_date AS day "
        f"FROM s a JOIN s b ON b.fixmedins_code = a.fixmedins_code AND b.begn_date = a.begn_date + {k} "
        f"AND {'a.psn_no < b.psn_no' if k == 0 else 'a.psn_no <> b.psn_no'}" for k in range(d + 1))
    parts = []
    if _exists(ctx.con, "_s07_psn"):         # together in a significant same-village / same-household event
        parts.append("SELECT least(x.psn, y.psn) AS p1, greatest(x.psn, y.psn) AS p2, count(*) AS n_ev FROM _s07_psn x "
                     "JOIN _s07_psn y ON x.fixmedins_code = y.fixmedins_code AND x.day = y.day AND x.kind = y.kind "
                     "AND x.g = y.g AND x.psn < y.psn GROUP BY 1, 2")
    if _exists(ctx.con, "_s02_enc"):         # admitted together on a burst day of an institution with systematic bursts
        parts.append("SELECT least(a.psn_no, b.psn_no) AS p1, greatest(a.psn_no, b.psn_no) AS p2, count(*) AS n_ev "
                     "FROM _s02_enc a "
                     "JOIN _s02_enc b ON a.fixmedins_code = b.fixmedins_code AND a.begn_date = b.begn_date "
                     "AND a.psn_no < b.psn_no WHERE a.fixmedins_code IN (SELECT subject_id FROM _hits "
                     "WHERE screen_id = 'S02' AND subject_type = 'medins' AND strength >= 0.5) GROUP BY 1, 2")
    ev = (f"SELECT p1, p2, sum(n_ev) AS n_ev FROM ({' UNION ALL '.join(parts)}) GROUP BY 1, 2" if parts else
          "SELECT NULL::VARCHAR AS p1, NULL::VARCHAR AS p2, 0 AS n_ev WHERE false")
    return ctx.con.execute(f"""
        WITH s AS (SELECT DISTINCT psn_no, fixmedins_code, begn_date FROM ({STAYS})),
             pr AS (SELECT p1, p2, count(DISTINCT (fixmedins_code, day)) AS n, mode(fixmedins_code) AS medins
                    FROM ({shifts}) GROUP BY 1, 2),
             ev AS ({ev})
        SELECT coalesce(pr.p1, ev.p1), coalesce(pr.p2, ev.p2), coalesce(pr.n, 0), coalesce(ev.n_ev, 0)
        FROM pr FULL JOIN ev ON ev.p1 = pr.p1 AND ev.p2 = pr.p2
        WHERE coalesce(pr.n, 0) >= 2 OR coalesce(ev.n_ev, 0) > 0""").fetchall()


def _exists(con, name: str) -> bool:
    return con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [name]).fetchone()[0] > 0


def s13_communities(ctx: Ctx) -> None:
    import networkx as nx

    con, p = ctx.con, ctx.p("S13")
    edges = _edges(ctx)
    g = nx.Graph()
    for a, b, n, n_ev in edges:
        g.add_edge(("p", a), ("p", b), weight=float(n + n_ev), coadm=int(n), events=int(n_ev))
    if g.number_of_nodes() == 0:
        return
    persons = [x[1] for x in g.nodes]
    con.execute("CREATE OR REPLACE TEMP TABLE _s13_p (psn_no VARCHAR)")
    con.executemany("INSERT INTO _s13_p VALUES (?)", [(x,) for x in persons])
    info = {r[0]: r[1:] for r in con.execute(f"""
        SELECT p.psn_no, p.fmly_no, p.vlg_code, {VILLAGE}, p.idet FROM sc_psn p JOIN _s13_p USING (psn_no)""").fetchall()}
    # shared household between linked persons
    by_fmly = defaultdict(list)
    for psn, (fmly, *_rest) in info.items():
        if fmly:
            by_fmly[fmly].append(psn)
    for members in by_fmly.values():
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                e = g.get_edge_data(("p", a), ("p", b))
                if e is None:
                    g.add_edge(("p", a), ("p", b), weight=0.5, coadm=0, events=0, household=True)
                else:
                    e["household"] = True
    stays = con.execute(f"""SELECT s.psn_no, s.fixmedins_code, s.doc_code, s.light FROM ({STAYS}) s
                            JOIN _s13_p USING (psn_no)""").fetchall()
    person_stays = defaultdict(list)
    for psn, medins, doc, light in stays:
        person_stays[psn].append((medins, doc, light))
        g.add_edge(("p", psn), ("m", medins), kind="stay")          # hubs: institutions and doctors
        if doc:
            g.add_edge(("p", psn), ("d", doc), kind="doctor")
    pg = g.subgraph([n for n in g.nodes if n[0] == "p"])
    comms = nx.community.louvain_communities(pg, weight="weight", resolution=float(p["resolution"]), seed=int(p["seed"]))
    in_events = defaultdict(set)
    if _exists(con, "_s07_psn"):
        for psn, kind in con.execute("SELECT DISTINCT psn, kind FROM _s07_psn").fetchall():
            in_events[kind].add(psn)
    names = dict(con.execute("SELECT fixmedins_code, fixmedins_name FROM sc_medins").fetchall())
    docs = dict(con.execute("SELECT doc_code, doc_name FROM sc_doc").fetchall())
    groups = []
    for comm in comms:
        members = sorted(x[1] for x in comm)
        if len(members) < int(p["min_size"]):
            continue
        groups.append(_score_group(members, pg, info, person_stays, names, docs, in_events))
    groups.sort(key=lambda x: (-x["strength"], -x["size"], x["members"][0]))
    rows, hits_g, hits_p, hits_m = [], [], [], []
    min_s = float(p["min_strength"])
    for k, grp in enumerate(groups, start=1):
        gid = f"G{k:04d}"
        grp["group_id"] = gid
        rows.append((ctx.run_id, gid, grp["size"], grp["medins"], grp["strength"], json.dumps(grp["members"]),
                     json.dumps(grp["doctors"], ensure_ascii=False), json.dumps(grp["metrics"], ensure_ascii=False),
                     json.dumps(grp["reasons"], ensure_ascii=False)))
        label = f"{grp['village'] or grp['medins_name']}等{grp['size']}人"
        hits_g.append(("group", gid, label, grp["medins"], grp["strength"], float(grp["size"]),
                       json.dumps(grp["metrics"], ensure_ascii=False), "；".join(grp["reasons"][:3])))
        if grp["strength"] >= min_s:
            for psn in grp["members"]:
                hits_p.append(("person", psn, None, grp["medins"], grp["strength"], float(grp["size"]),
                               json.dumps({"团伙": gid, "人数": grp["size"]}, ensure_ascii=False),
                               f"属于疑似组织住院团伙{gid}（{grp['size']}人）：{grp['reasons'][0]}"))
            if grp["medins"]:
                hits_m.append(("medins", grp["medins"], None, grp["medins"], grp["strength"] * grp["metrics"]["机构集中度"],
                               float(grp["size"]), json.dumps({"团伙": gid, "人数": grp["size"]}, ensure_ascii=False),
                               f"疑似组织住院团伙{gid}（{grp['size']}人）集中在本机构住院：{grp['reasons'][0]}"))
    if rows:
        con.executemany("INSERT INTO screen_groups VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    ctx.add_hit_rows("S13", hits_g)
    best_p = {}
    for h in hits_p:                      # a person in one group only (Louvain partitions), keep the strongest anyway
        if h[1] not in best_p or h[4] > best_p[h[1]][4]:
            best_p[h[1]] = h
    ctx.add_hit_rows("S13", list(best_p.values()))
    best_m = {}
    for h in hits_m:
        if h[1] not in best_m or h[4] > best_m[h[1]][4]:
            best_m[h[1]] = h
    ctx.add_hit_rows("S13", list(best_m.values()))


def _score_group(members, pg, info, person_stays, names, docs, in_events) -> dict:
    sub = pg.subgraph([("p", m) for m in members])
    w = [d for _, _, d in sub.edges(data=True)]
    coadm = sum(d.get("coadm", 0) for d in w)
    events = sum(d.get("events", 0) for d in w)
    rep = float(np.mean([d.get("coadm", 0) + d.get("events", 0) for d in w])) if w else 0.0
    size = len(members)
    vil = Counter(info.get(m, (None, None, None, None))[1] for m in members)
    vil.pop(None, None)
    top_vil, top_vil_n = (vil.most_common(1)[0] if vil else (None, 0))
    vlg_share = top_vil_n / size
    vil_names = Counter(info.get(m, (None, None, ""))[2] for m in members if info.get(m, (None, None, ""))[1] == top_vil)
    village = (vil_names.most_common(1)[0][0] if vil_names else "") or ""
    n_vil = len(vil)
    inst = Counter(s[0] for m in members for s in person_stays[m])
    medins, medins_n = inst.most_common(1)[0] if inst else (None, 0)
    inst_share = medins_n / max(sum(inst.values()), 1)
    here = [s for m in members for s in person_stays[m] if s[0] == medins]
    doc = Counter(s[1] for s in here if s[1])
    light_share = sum(1 for s in here if s[2]) / max(len(here), 1)
    key_share = sum(1 for m in members if info.get(m, (None,) * 4)[3]) / size
    size_f = min(1.0, (size - 2) / 6)
    rep_f = min(1.0, max(0.0, rep - 1) / 2)
    strength = min(1.0, size_f * (0.4 * rep_f + 0.3 * max(vlg_share, 0.0) + 0.3 * inst_share) + 0.1 * key_share
                   + 0.1 * light_share)
    mname = names.get(medins, medins or "")
    # which ties hold the group together: same village, same household, or neither
    tie_w = sum(d.get("coadm", 0) + d.get("events", 0) for d in w) or 1
    same_vlg = sum(d.get("coadm", 0) + d.get("events", 0) for a, b, d in sub.edges(data=True)
                   if info.get(a[1], (None, None))[1] and info.get(a[1], (None, None))[1] == info.get(b[1], (None, None))[1])
    vlg_tie = same_vlg / tie_w
    fmly_n = Counter(info.get(m, (None,))[0] for m in members)
    fmly_n.pop(None, None)
    in_shared_fmly = sum(c for c in fmly_n.values() if c >= 2)
    vlg_event = sum(1 for m in members if m in in_events["village"]) / size
    reasons = []
    if vlg_tie >= 0.3 or vlg_event >= 0.3:
        more = f"等{n_vil}个村" if n_vil > 1 else ""
        reasons.append(f"同村同期住院：{village or '同一村'}{more}的{size}名村民多次在同一天或相邻日入住{mname}"
                       f"（成员间同期入院{coadm + events}次，其中同村之间{same_vlg}次；{vlg_event:.0%}的成员参与同村成批入院）")
    if in_shared_fmly >= 2:
        lead = "" if reasons else f"{size}人多次在同一天或相邻日入住{mname}（成员间同期入院{coadm + events}次），其中"
        reasons.append(f"同户同期住院：{lead}{in_shared_fmly}名成员与同户家庭成员一同入院")
    if not reasons:
        reasons.append(f"多人多次同期入院：{size}人在{mname}成员间同期入院{coadm + events}次")
    if key_share >= 0.3:
        reasons.append(f"低保、特困、五保、建档立卡等特殊人群占{key_share:.0%}")
    if light_share >= 0.3:
        reasons.append(f"在{mname}的住院中轻症诊断占{light_share:.0%}")
    if doc:
        top = doc.most_common(2)
        reasons.append("集中由" + "、".join(f"{docs.get(d, d)}（{d}）" for d, _ in top) +
                       f"收治（{sum(c for _, c in top)}/{len(here)}人次）")
    metrics = {"人数": size, "成员间同期入院次数": coadm + events, "平均每对重复次数": round(rep, 2),
               "同村集中度": round(vlg_share, 3), "同村关系占比": round(vlg_tie, 3), "参与同村成批入院的成员占比": round(vlg_event, 3), "同户成员数": in_shared_fmly, "机构集中度": round(inst_share, 3), "特殊人群占比": round(key_share, 3),
               "轻症住院占比": round(light_share, 3), "集中机构": mname, "村": village}
    return {"members": members, "size": size, "strength": round(strength, 4), "medins": medins, "medins_name": mname,
            "village": village, "doctors": [d for d, _ in doc.most_common(5)], "metrics": metrics, "reasons": reasons}
