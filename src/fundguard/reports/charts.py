"""Charts of the screening results (matplotlib, Agg backend), as PNG bytes for the web app or files for reports.

Chinese labels need a CJK font: the first installed one of ``CJK_FONTS`` (WenQuanYi Zen Hei, Noto Sans CJK, …) is
used; without one the charts are still drawn (Chinese characters may show as boxes) and ``font_name()`` says so.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
from functools import lru_cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
import matplotlib.pyplot as plt
from matplotlib import font_manager

CJK_FILES = ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
             "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
CJK_FONTS = ("WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC",
             "SimHei", "Microsoft YaHei", "PingFang SC")
RED, BLUE, GREY = "#C0392B", "#2E75B6", "#B4BCC8"


@lru_cache(maxsize=1)
def font_name() -> str | None:
    """Register and select a CJK font; None when no CJK font is installed."""
    for path in CJK_FILES:
        if Path(path).exists():
            try:
                font_manager.fontManager.addfont(path)
            except Exception:  # noqa: BLE001,S112 - an unreadable font file: try the next one
                continue
    have = {f.name for f in font_manager.fontManager.ttflist}
    chosen = next((name for name in CJK_FONTS if name in have), None)
    plt.rcParams["font.sans-serif"] = ([chosen] if chosen else []) + ["DejaVu Sans"]
    plt.rcParams["font.family"] = "sans-serif"
    plt.rcParams["axes.unicode_minus"] = False
    return chosen


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _run(con, run_id):
    from fundguard.screening.queries import latest_run

    return run_id or latest_run(con)


def risk_top_png(con, subject_type: str, limit: int = 20, run_id: int | None = None) -> bytes:
    """Horizontal bars of the highest risk scores, coloured by risk level."""
    font_name()
    from fundguard.screening.queries import risk_ranking

    rows = risk_ranking(con, subject_type, limit=limit, run_id=_run(con, run_id))
    names = {"medins": "机构", "doctor": "医师", "person": "参保人", "group": "疑似团伙"}
    fig, ax = plt.subplots(figsize=(8, 0.32 * max(len(rows), 3) + 1.2))
    labels = [f"{r['subject_name'] or r['subject_id']}（{r['subject_id']}）"[:34] for r in rows][::-1]
    scores = [r["score"] for r in rows][::-1]
    colors = [RED if r["risk_level"] == "高风险" else (BLUE if r["risk_level"] == "中风险" else GREY) for r in rows][::-1]
    ax.barh(range(len(rows)), scores, color=colors)
    ax.set_yticks(range(len(rows)), labels, fontsize=8)
    ax.set_xlim(0, 1)
    ax.axvline(0.6, color=RED, lw=0.8, ls="--")
    ax.axvline(0.3, color=BLUE, lw=0.8, ls=":")
    ax.set_xlabel("风险评分（虚线：高风险 0.6，点线：中风险 0.3）")
    ax.set_title(f"{names.get(subject_type, subject_type)}风险排名（前{len(rows)}名）")
    return _png(fig)


def peer_distribution_png(con, indicator: str, subject_id: str, subject_type: str = "medins",
                          run_id: int | None = None) -> bytes:
    """The indicator's values across the subject's peer group, the subject highlighted with its 水位 and robust z."""
    font_name()
    from fundguard.screening.indicators import BY_CODE

    run_id = _run(con, run_id)
    me = con.execute("""SELECT value, peer_group, pct_rank, robust_z, peer_median FROM screen_indicators
                        WHERE run_id = ? AND subject_type = ? AND subject_id = ? AND indicator = ?""",
                     [run_id, subject_type, subject_id, indicator]).fetchone()
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ind = BY_CODE.get(indicator)
    title = ind.name if ind else indicator
    if me is None:
        ax.text(0.5, 0.5, "该对象没有这一指标", ha="center", va="center")
        ax.set_axis_off()
        return _png(fig)
    peers = con.execute("""SELECT subject_id, value FROM screen_indicators WHERE run_id = ? AND subject_type = ?
                           AND indicator = ? AND peer_group = ? ORDER BY value""",
                        [run_id, subject_type, indicator, me[1]]).fetchall()
    share = ind is not None and ind.kind in ("share", "rate")
    scale = 100.0 if share else 1.0
    vals = [v * scale for _, v in peers]
    ax.hist(vals, bins=min(30, max(5, len(vals) // 2)), color=GREY, edgecolor="white")
    ax.axvline(me[0] * scale, color=RED, lw=2, label=f"本对象 {me[0] * scale:,.1f}{'%' if share else ''}")
    ax.axvline((me[4] or 0) * scale, color=BLUE, lw=1.2, ls="--", label=f"同类中位数 {(me[4] or 0) * scale:,.1f}{'%' if share else ''}")
    name = _name(con, subject_type, subject_id)
    ax.set_title(f"{title}：同类（{me[1]}，{len(peers)}个）分布 —— {name} 水位P{int((me[2] or 0) * 100)}，稳健z={me[3] or 0:.1f}")
    ax.set_xlabel(f"{title}{'（%）' if share else ''}")
    ax.set_ylabel("个数")
    ax.legend(fontsize=8)
    return _png(fig)


def admissions_timeline_png(con, fixmedins_code: str, run_id: int | None = None) -> bytes:
    """Daily admissions of one institution over the screening period, burst days (S02) in red."""
    font_name()
    run_id = _run(con, run_id)
    info = con.execute("SELECT period_begin, period_end FROM screen_runs WHERE run_id = ?", [run_id]).fetchone() \
        if run_id else None
    where = "" if info is None else f" AND CAST(begntime AS DATE) BETWEEN DATE '{info[0]}' AND DATE '{info[1]}'"
    rows = con.execute(f"""SELECT CAST(begntime AS DATE) AS d, count(*) FROM mdtrt_d
                           WHERE fixmedins_code = ? AND (med_type LIKE '2%' OR med_type = '52') {where}
                           GROUP BY 1 ORDER BY 1""", [fixmedins_code]).fetchall()
    hit = con.execute("SELECT metrics FROM screen_results WHERE run_id = ? AND screen_id = 'S02' AND subject_type = 'medins' "
                      "AND subject_id = ?", [run_id, fixmedins_code]).fetchone() if run_id else None
    bursts = {dt.date.fromisoformat(d) for d in (json.loads(hit[0]).get("高峰日", []) if hit else [])}
    fig, ax = plt.subplots(figsize=(10, 3.4))
    days = [r[0] for r in rows]
    ax.bar(days, [r[1] for r in rows], width=1.0, color=[RED if d in bursts else BLUE for d in days])
    name = _name(con, "medins", fixmedins_code)
    ax.set_title(f"{name}逐日入院人次（红色为入院高峰日，共{len(bursts)}天）")
    ax.set_ylabel("入院人次")
    fig.autofmt_xdate()
    return _png(fig)


def item_trend_png(con, fixmedins_code: str, hilist_code: str) -> bytes:
    """Monthly fees of one drug or consumable at one institution (the S09 surge)."""
    font_name()
    rows = con.execute("""SELECT date_trunc('month', fee_ocur_time)::DATE, sum(det_item_fee_sumamt), any_value(hilist_name)
                          FROM fee_list_d WHERE fixmedins_code = ? AND hilist_code = ? GROUP BY 1 ORDER BY 1""",
                       [fixmedins_code, hilist_code]).fetchall()
    fig, ax = plt.subplots(figsize=(8, 3.2))
    ax.bar([r[0].strftime("%Y-%m") for r in rows], [float(r[1]) for r in rows], color=BLUE)
    item = rows[0][2] if rows else hilist_code
    ax.set_title(f"{_name(con, 'medins', fixmedins_code)}：{item}逐月费用")
    ax.set_ylabel("费用（元）")
    ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    return _png(fig)


def group_network_png(con, group_id: str, run_id: int | None = None) -> bytes:
    """A group's members linked by their same-day admissions to its institution (edge width = how often), coloured
    by village, with the doctors who admitted them (networkx spring layout, fixed seed)."""
    font_name()
    import networkx as nx

    run_id = _run(con, run_id)
    row = con.execute("SELECT members, fixmedins_code, doctors FROM screen_groups WHERE run_id = ? AND group_id = ?",
                      [run_id, group_id]).fetchone()
    fig, ax = plt.subplots(figsize=(7.5, 6.5))
    if row is None:
        ax.text(0.5, 0.5, "没有这个团伙", ha="center")
        ax.set_axis_off()
        return _png(fig)
    members, medins, doctors = json.loads(row[0]), row[1], json.loads(row[2])
    stays = con.execute("""SELECT psn_no, CAST(begntime AS DATE), chfpdr_code FROM mdtrt_d
                           WHERE fixmedins_code = ? AND list_contains(?, psn_no)""", [medins, members]).fetchall()
    vil = dict(con.execute("SELECT psn_no, vlg_code FROM psn_info WHERE list_contains(?, psn_no)", [members]).fetchall())
    g = nx.Graph()
    g.add_nodes_from(members)
    by_day: dict = {}
    for psn, day, doc in stays:
        by_day.setdefault(day, []).append(psn)
        if doc in doctors:
            g.add_edge(psn, doc, kind="doctor")
    for same in by_day.values():
        for i, a in enumerate(same):
            for b in same[i + 1:]:
                if a != b:
                    w = g.get_edge_data(a, b, {}).get("weight", 0) + 1
                    g.add_edge(a, b, weight=w, kind="coadm")
    pos = nx.spring_layout(g, seed=7, weight="weight")
    villages = sorted({v for v in vil.values() if v})
    cmap = plt.get_cmap("tab10")
    person_nodes = [n for n in g.nodes if n in members]
    nx.draw_networkx_edges(g, pos, ax=ax, edgelist=[(a, b) for a, b, d in g.edges(data=True) if d.get("kind") == "coadm"],
                           width=[0.3 + 0.4 * d["weight"] for _, _, d in g.edges(data=True) if d.get("kind") == "coadm"],
                           edge_color="#9DB3CC", alpha=0.5)
    nx.draw_networkx_edges(g, pos, ax=ax, edgelist=[(a, b) for a, b, d in g.edges(data=True) if d.get("kind") == "doctor"],
                           edge_color="#C9A66B", alpha=0.4, style="dashed")
    nx.draw_networkx_nodes(g, pos, ax=ax, nodelist=person_nodes, node_size=70,
                           node_color=[cmap(villages.index(vil[n]) % 10) if vil.get(n) in villages else GREY for n in person_nodes])
    docs = [d for d in doctors if d in g]
    nx.draw_networkx_nodes(g, pos, ax=ax, nodelist=docs, node_size=260, node_color="#7F6000", node_shape="s")
    ax.set_title(f"疑似团伙{group_id}：{len(members)}人在{_name(con, 'medins', medins)}同日入院的关系\n"
                 f"（连线越粗同日入院次数越多，颜色区分村，棕色方块为经治医师）")
    ax.set_axis_off()
    return _png(fig)


def _name(con, subject_type: str, subject_id: str) -> str:
    if subject_type == "medins":
        row = con.execute("SELECT fixmedins_name FROM medins_info WHERE fixmedins_code = ?", [subject_id]).fetchone()
        return row[0] if row and row[0] else subject_id
    return subject_id


def write_charts(con, out_dir: str | Path, run_id: int | None = None, top: int = 3) -> list[Path]:
    """The standard chart set of a run: risk rankings, admission timelines of the institutions with bursts, peer
    distributions behind the strongest peer-comparison hits, item surges and the strongest groups."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    run_id = _run(con, run_id)
    written: list[Path] = []

    def save(name: str, data: bytes) -> None:
        path = out / name
        path.write_bytes(data)
        written.append(path)

    for stype in ("medins", "doctor", "person"):
        save(f"risk_top_{stype}.png", risk_top_png(con, stype, run_id=run_id))
    q = "SELECT subject_id, metrics FROM screen_results WHERE run_id = ? AND screen_id = ? AND subject_type = ? ORDER BY rank LIMIT ?"
    for sid, _ in con.execute(q, [run_id, "S02", "medins", top]).fetchall():
        save(f"admissions_{sid}.png", admissions_timeline_png(con, sid, run_id=run_id))
    from fundguard.screening.indicators import BY_CODE

    by_name = {i.name: code for code, i in BY_CODE.items()}
    for screen in ("S08", "S10"):
        for sid, metrics in con.execute(q, [run_id, screen, "medins", top]).fetchall():
            first = next((k for k in json.loads(metrics) if k in by_name), None)
            if first in by_name:
                save(f"peer_{by_name[first]}_{sid}.png", peer_distribution_png(con, by_name[first], sid, run_id=run_id))
    for sid, _ in con.execute("SELECT subject_id, metrics FROM screen_results WHERE run_id = ? AND screen_id = 'S09' "
                              "AND subject_type = 'item' AND strength > 0 ORDER BY rank LIMIT ?", [run_id, top]).fetchall():
        medins, item = sid.split(":", 1)
        save(f"item_{medins}_{item}.png", item_trend_png(con, medins, item))
    for (gid,) in con.execute("SELECT group_id FROM screen_groups WHERE run_id = ? ORDER BY strength DESC LIMIT ?",
                              [run_id, top]).fetchall():
        save(f"group_{gid}.png", group_network_png(con, gid, run_id=run_id))
    return written
