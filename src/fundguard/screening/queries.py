"""Read functions for the web app and reports: ranked risk lists and subject profiles of the latest screening run.

Subject types: 'medins' (定点医药机构), 'doctor' (医师), 'person' (参保人), and 'group' (疑似团伙).
A ``fixmedins_code`` restricts a list to that institution (hospital users): the institution itself, its doctors,
the persons who had encounters there and the groups centred on it; ``rank`` is then the position inside that
restricted list and ``global_rank`` the position in the whole list.
"""

from __future__ import annotations

import json

SUBJECT_TYPES = ("medins", "doctor", "person", "group")


def _tables_exist(con) -> bool:
    return con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'screen_runs'").fetchone()[0] > 0


def latest_run(con) -> int | None:
    if not _tables_exist(con):
        return None
    return con.execute("SELECT max(run_id) FROM screen_runs WHERE status = 'ok'").fetchone()[0]


def run_info(con, run_id: int | None = None) -> dict | None:
    run_id = run_id or latest_run(con)
    if run_id is None:
        return None
    row = con.execute("""SELECT run_id, started_at, finished_at, period_label, period_begin, period_end, audit_run_id,
                                stage_seconds, encounters, fee_lines, params FROM screen_runs WHERE run_id = ?""",
                      [run_id]).fetchone()
    keys = ("run_id", "started_at", "finished_at", "period_label", "period_begin", "period_end", "audit_run_id",
            "stage_seconds", "encounters", "fee_lines", "params")
    info = dict(zip(keys, row))
    for k in ("stage_seconds", "params"):
        info[k] = json.loads(info[k]) if info[k] else {}
    return info


def _check(subject_type: str) -> None:
    if subject_type not in SUBJECT_TYPES:
        raise ValueError(f"对象类型应为 {'、'.join(SUBJECT_TYPES)} 之一，收到 {subject_type!r}")


def risk_ranking(con, subject_type: str, limit: int = 50, fixmedins_code: str | None = None,
                 run_id: int | None = None) -> list[dict]:
    """Highest risk first: subject_id, subject_name, score, rank, reasons (Chinese), plus risk_level,
    fixmedins_code, global_rank, n_subjects."""
    _check(subject_type)
    run_id = run_id or latest_run(con)
    if run_id is None:
        return []
    where, args = "r.run_id = ? AND r.subject_type = ?", [run_id, subject_type]
    if fixmedins_code:
        where += """ AND (r.fixmedins_code = ? OR r.subject_id IN (SELECT subject_id FROM screen_subject_medins
                     WHERE run_id = ? AND subject_type = ? AND fixmedins_code = ?))"""
        args += [fixmedins_code, run_id, subject_type, fixmedins_code]
        if subject_type == "medins":
            where, args = "r.run_id = ? AND r.subject_type = ? AND r.subject_id = ?", [run_id, subject_type, fixmedins_code]
    rows = con.execute(f"""SELECT r.subject_id, r.subject_name, r.score, r.rank, r.reasons, r.risk_level, r.fixmedins_code,
                                  r.n_subjects FROM risk_scores r WHERE {where} ORDER BY r.rank LIMIT ?""",
                       args + [int(limit)]).fetchall()
    return [{"subject_id": r[0], "subject_name": r[1], "score": round(r[2], 4), "rank": i, "reasons": json.loads(r[4]),
             "risk_level": r[5], "fixmedins_code": r[6], "global_rank": r[3], "n_subjects": r[7]}
            for i, r in enumerate(rows, start=1)]


def subject_profile(con, subject_type: str, subject_id: str, run_id: int | None = None) -> dict | None:
    """Score, rank, reasons, the evidence behind the score, screen hits with their metrics, indicator values against
    peers (水位, robust z) and, for persons and groups, the groups involved. None when the subject was not screened."""
    _check(subject_type)
    run_id = run_id or latest_run(con)
    if run_id is None:
        return None
    row = con.execute("""SELECT subject_name, fixmedins_code, score, rank, n_subjects, risk_level, model, evidence, reasons
                         FROM risk_scores WHERE run_id = ? AND subject_type = ? AND subject_id = ?""",
                      [run_id, subject_type, subject_id]).fetchone()
    hits = con.execute("""SELECT screen_id, screen_name, strength, rank, metrics, reason, fixmedins_code FROM screen_results
                          WHERE run_id = ? AND subject_type = ? AND subject_id = ? ORDER BY strength DESC, screen_id""",
                       [run_id, subject_type, subject_id]).fetchall()
    inds = con.execute("""SELECT indicator, value, peer_group, peer_n, peer_median, peer_p90, pct_rank, robust_z, comparable
                          FROM screen_indicators WHERE run_id = ? AND subject_type = ? AND subject_id = ?
                          ORDER BY robust_z DESC NULLS LAST""", [run_id, subject_type, subject_id]).fetchall()
    if row is None and not hits and not inds:
        return None
    from fundguard.screening.indicators import BY_CODE

    profile = {
        "subject_type": subject_type, "subject_id": subject_id, "run_id": run_id,
        "subject_name": row[0] if row else subject_id,
        "fixmedins_code": row[1] if row else None, "score": round(row[2], 4) if row else 0.0,
        "rank": row[3] if row else None, "n_subjects": row[4] if row else None,
        "risk_level": row[5] if row else "低风险", "model": row[6] if row else None,
        "evidence": json.loads(row[7]) if row else {}, "reasons": json.loads(row[8]) if row else [],
        "screens": [{"screen_id": h[0], "screen_name": h[1], "strength": h[2], "rank": h[3],
                     "metrics": json.loads(h[4]) if h[4] else {}, "reason": h[5], "fixmedins_code": h[6]} for h in hits],
        "indicators": [{"indicator": i[0], "name": BY_CODE[i[0]].name if i[0] in BY_CODE else i[0], "value": i[1],
                        "peer_group": i[2], "peer_n": i[3], "peer_median": i[4], "peer_p90": i[5],
                        "percentile": round(100 * (i[6] or 0)), "robust_z": None if i[7] is None else round(i[7], 2),
                        "comparable": i[8]} for i in inds],
    }
    if subject_type == "group":
        g = con.execute("SELECT size, fixmedins_code, strength, members, doctors, metrics, reasons FROM screen_groups "
                        "WHERE run_id = ? AND group_id = ?", [run_id, subject_id]).fetchone()
        if g:
            profile["group"] = {"size": g[0], "fixmedins_code": g[1], "strength": g[2], "members": json.loads(g[3]),
                                "doctors": json.loads(g[4]), "metrics": json.loads(g[5]), "reasons": json.loads(g[6])}
    if subject_type == "person":
        profile["groups"] = [r[0] for r in con.execute(
            "SELECT group_id FROM screen_groups WHERE run_id = ? AND list_contains(CAST(members AS JSON)::VARCHAR[], ?)",
            [run_id, subject_id]).fetchall()]
    return profile


def screen_list(con, screen_id: str, subject_type: str | None = None, limit: int = 100,
                run_id: int | None = None) -> list[dict]:
    """One screen's ranked hits (for the web app's per-screen pages and the export)."""
    run_id = run_id or latest_run(con)
    if run_id is None:
        return []
    where, args = "run_id = ? AND screen_id = ?", [run_id, screen_id]
    if subject_type:
        where += " AND subject_type = ?"
        args.append(subject_type)
    rows = con.execute(f"""SELECT subject_type, subject_id, subject_name, fixmedins_code, rank, strength, metric, metrics,
                                  reason FROM screen_results WHERE {where} ORDER BY subject_type, rank LIMIT ?""",
                       args + [int(limit)]).fetchall()
    return [{"subject_type": r[0], "subject_id": r[1], "subject_name": r[2], "fixmedins_code": r[3], "rank": r[4],
             "strength": r[5], "metric": r[6], "metrics": json.loads(r[7]) if r[7] else {}, "reason": r[8]} for r in rows]


def indicator_table(con, subject_type: str, indicator: str | None = None, fixmedins_code: str | None = None,
                    limit: int = 200, run_id: int | None = None) -> list[dict]:
    """Indicator values against peers, highest robust z first; subject_type also accepts 'dept'
    (subject_id = fixmedins_code:dept_codg)."""
    from fundguard.screening.indicators import BY_CODE

    if subject_type not in SUBJECT_TYPES + ("dept",):
        raise ValueError(f"对象类型应为 {'、'.join(SUBJECT_TYPES + ('dept',))} 之一，收到 {subject_type!r}")
    run_id = run_id or latest_run(con)
    if run_id is None:
        return []
    where, args = "run_id = ? AND subject_type = ?", [run_id, subject_type]
    if indicator:
        where += " AND indicator = ?"
        args.append(indicator)
    if fixmedins_code:
        where += " AND fixmedins_code = ?"
        args.append(fixmedins_code)
    rows = con.execute(f"""SELECT subject_id, fixmedins_code, indicator, value, peer_group, peer_n, peer_median, pct_rank,
                                  robust_z, comparable FROM screen_indicators WHERE {where}
                           ORDER BY robust_z DESC NULLS LAST, subject_id LIMIT ?""", args + [int(limit)]).fetchall()
    return [{"subject_id": r[0], "fixmedins_code": r[1], "indicator": r[2],
             "name": BY_CODE[r[2]].name if r[2] in BY_CODE else r[2], "value": r[3], "peer_group": r[4], "peer_n": r[5],
             "peer_median": r[6], "percentile": round(100 * (r[7] or 0)), "robust_z": r[8], "comparable": r[9]}
            for r in rows]
