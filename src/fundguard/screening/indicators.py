"""Indicators per subject (institution, department, doctor, person) for the period, each placed among its peers:
percentile 水位 (``pct_rank``) and robust z-score ``(value − peer median) / max(1.4826·MAD, floor)``.

Peer groups (backing off to a coarser group when fewer than ``MIN_PEERS`` subjects qualify):
institutions — type|grade|ownership|specialty → type|grade → type → 医疗机构/药店;
departments and doctors — clinical subject|institution grade → subject → all;
persons — age band|insurance type → age band → all.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_PEERS = 5


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    subjects: tuple[str, ...]
    num: str                 # aggregate over sc_enc rows e
    den: str | None          # None: the value is num itself
    kind: str                # share | rate | count | amount | days | ratio
    min_den: float = 0.0     # below this denominator the value is not ranked
    unit: str = ""

    @property
    def floor(self) -> float:
        return {"share": 0.01, "rate": 0.01, "count": 1.0, "amount": 100.0, "days": 0.5, "ratio": 0.05}[self.kind]


IP = "e.ip"
NP = "e.ip AND NOT e.planned"
_FEE = "sum(e.fee_total)"
KEY_FIELDS: dict[str, tuple[str, str]] = {   # field → (Chinese name, per-encounter fee expression)
    "icu": ("重症医学", "CASE WHEN e.subject = 'A28' THEN e.fee_total ELSE e.icu_fee END"),
    "anes": ("麻醉", "CASE WHEN e.subject = 'A26' THEN e.fee_total ELSE e.anes_fee END"),
    "lungca": ("肺部肿瘤", "CASE WHEN e.main_dx LIKE 'C34%' THEN e.fee_total ELSE 0 END"),
    "ortho": ("骨科", "CASE WHEN e.dept_codg LIKE 'A0403%' THEN e.fee_total ELSE e.ortho_fee END"),
    "dialysis": ("血液透析", "CASE WHEN e.med_type = '140501' THEN e.fee_total ELSE e.dialysis_fee END"),
    "cardio": ("心血管内科", "CASE WHEN e.dept_codg LIKE 'A0304%' THEN e.fee_total ELSE e.cardio_fee END"),
    "exam": ("检查", "e.exam_fee"),
    "lab": ("检验", "e.lab_fee"),
    "imaging": ("医学影像", "e.imaging_fee"),
    "rehab": ("康复", "CASE WHEN e.subject = 'A21' THEN e.fee_total ELSE e.rehab_fee END"),
}

M, D, R, P = "medins", "dept", "doctor", "person"
INDICATORS: tuple[Indicator, ...] = (
    Indicator("ZB001", "药费占比", (M, D, R), "sum(e.drug_fee)", _FEE, "share", 2000),
    Indicator("ZB002", "检验检查占比", (M, D, R), "sum(e.exam_fee + e.lab_fee)", _FEE, "share", 2000),
    Indicator("ZB003", "耗材占比", (M, D, R), "sum(e.mcs_fee)", _FEE, "share", 2000),
    Indicator("ZB004", "治疗占比", (M, D, R), "sum(e.trt_fee)", _FEE, "share", 2000),
    Indicator("ZB005", "CT检查占比", (M, D, R), "sum(e.ct_fee)", _FEE, "share", 2000),
    Indicator("ZB006", "核磁检查占比", (M, D, R), "sum(e.mri_fee)", _FEE, "share", 2000),
    Indicator("ZB007", "院内感染发生率", (M, D), f"count(*) FILTER (WHERE {IP} AND e.hai)", f"count(*) FILTER (WHERE {IP})",
              "rate", 10),
    Indicator("ZB008", "31天非计划再入院率", (M, D, R), f"count(*) FILTER (WHERE {NP} AND e.readmit31)",
              f"count(*) FILTER (WHERE {NP})", "rate", 10),
    Indicator("IP01", "住院人次", (M, D, R), f"count(*) FILTER (WHERE {IP})", None, "count", unit="人次"),
    Indicator("IP02", "住院人次人头比", (M, D, R), f"count(*) FILTER (WHERE {NP})",
              f"count(DISTINCT e.psn_no) FILTER (WHERE {NP})", "ratio", 10),
    Indicator("IP03", "平均住院日", (M, D, R), f"sum(e.los) FILTER (WHERE {IP})", f"count(*) FILTER (WHERE {IP})", "days", 10, "天"),
    Indicator("IP04", "次均住院费用", (M, D, R), f"sum(e.medfee) FILTER (WHERE {IP})", f"count(*) FILTER (WHERE {IP})",
              "amount", 10, "元"),
    Indicator("IP05", "基金支付占比", (M, R), "sum(e.fund)", "sum(e.medfee)", "share", 2000),
    Indicator("IP06", "基金支付总额", (M, D, R), "sum(e.fund)", None, "amount", unit="元"),
    Indicator("IP07", "基金支出增长率（后半期比前半期）", (M,), "sum(e.fund) FILTER (WHERE e.second_half)",
              "sum(e.fund) FILTER (WHERE NOT e.second_half)", "ratio", 5000),
    Indicator("IP08", "轻症住院占比", (M, R), f"count(*) FILTER (WHERE {IP} AND e.light)", f"count(*) FILTER (WHERE {IP})",
              "rate", 10),
    Indicator("IP09", "特殊人群住院占比", (M, R), f"count(*) FILTER (WHERE {IP} AND e.idet IS NOT NULL)",
              f"count(*) FILTER (WHERE {IP})", "rate", 10),
    Indicator("IP10", "老年轻症住院占比", (M, R), f"count(*) FILTER (WHERE {IP} AND e.light AND e.age >= 60)",
              f"count(*) FILTER (WHERE {IP})", "rate", 10),
    Indicator("IP11", "眼科日间手术人次", (M,), "count(*) FILTER (WHERE e.day_surgery AND e.subject = 'A10')", None,
              "count", unit="人次"),
    *(Indicator(f"KF_{k}", f"{name}费用占比", (M,), f"sum({expr})", _FEE, "share", 2000)
      for k, (name, expr) in KEY_FIELDS.items()),
    Indicator("P01", "住院次数（不含计划性治疗）", (P,), f"count(*) FILTER (WHERE {NP})", None, "count", unit="次"),
    Indicator("P02", "住院天数", (P,), f"sum(e.los) FILTER (WHERE {IP})", None, "days", unit="天"),
    Indicator("P03", "基金支付金额", (P,), "sum(e.fund)", None, "amount", unit="元"),
    Indicator("P04", "就诊次数", (P,), "count(*)", None, "count", unit="次"),
    Indicator("P05", "住院机构数", (P,), "count(DISTINCT e.fixmedins_code) FILTER (WHERE e.ip)", None, "count", unit="家"),
    Indicator("P06", "轻症住院次数", (P,), f"count(*) FILTER (WHERE {IP} AND e.light)", None, "count", unit="次"),
)
BY_CODE = {i.code: i for i in INDICATORS}

# subject type → (id expr, fixmedins_code expr, peer keys, extra join)
_SUBJECTS = {
    M: ("e.fixmedins_code", "e.fixmedins_code", ("i.peer1", "i.peer2", "i.peer3", "i.peer4"),
        "JOIN sc_medins i ON i.fixmedins_code = e.fixmedins_code"),
    D: ("e.fixmedins_code || ':' || e.dept_codg", "e.fixmedins_code",
        ("e.subject || '|' || i.grade", "e.subject", "'全部'"),
        "JOIN sc_medins i ON i.fixmedins_code = e.fixmedins_code"),
    R: ("e.doc_code", "any_value(e.fixmedins_code)",
        ("any_value(e.subject) || '|' || any_value(i.grade)", "any_value(e.subject)", "'全部'"),
        "JOIN sc_medins i ON i.fixmedins_code = e.fixmedins_code"),
    P: ("e.psn_no", "NULL", ("any_value(e.age_band) || '|' || any_value(coalesce(e.insutype, ''))",
                              "any_value(e.age_band)", "'全部'"), ""),
}


def _prepare(con, period) -> None:
    """Per-stay readmission flag (31 days, same institution, not planned) and period halves on sc_enc."""
    mid = period.begin.toordinal() + period.days // 2 if period.begin else None
    half = f"e.begn_date >= DATE '{_date(mid)}'" if mid else "false"
    con.execute(f"""CREATE OR REPLACE TABLE sc_enc AS
        WITH nxt AS (
            SELECT mdtrt_id, lead(begn_date) OVER w AS next_begn, lead(fixmedins_code) OVER w AS next_medins
            FROM sc_enc WHERE ip AND NOT planned
            WINDOW w AS (PARTITION BY psn_no ORDER BY begn_date, mdtrt_id))
        SELECT e.*, coalesce(n.next_medins = e.fixmedins_code AND date_diff('day', e.end_date, n.next_begn) <= 31, false)
                   AS readmit31,
               {half} AS second_half,
               CASE WHEN e.age < 18 THEN '0-17' WHEN e.age < 45 THEN '18-44' WHEN e.age < 60 THEN '45-59'
                    WHEN e.age < 75 THEN '60-74' ELSE '75+' END AS age_band
        FROM sc_enc e LEFT JOIN nxt n USING (mdtrt_id)""")


def _date(ordinal: int) -> str:
    import datetime as dt

    return dt.date.fromordinal(ordinal).isoformat()


def compute_indicators(con, run_id: int, period) -> int:
    """Write screen_indicators for every subject type; returns the number of rows."""
    _prepare(con, period)
    total = 0
    for stype, (key, medins, peers, join) in _SUBJECTS.items():
        inds = [i for i in INDICATORS if stype in i.subjects]
        cols = []
        for i in inds:
            cols.append(f"{i.num} AS n_{i.code}")
            cols.append(f"{i.den if i.den else '1'} AS d_{i.code}")
        grouped = stype in (R, P)
        peer_cols = ", ".join(f"{p} AS peer{k + 1}" for k, p in enumerate(peers))
        group_by = "GROUP BY 1" if grouped else f"GROUP BY 1, 2, {', '.join(str(k + 3) for k in range(len(peers)))}"
        where = "WHERE e.doc_code IS NOT NULL" if stype == R else ("WHERE e.dept_codg IS NOT NULL" if stype == D else "")
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _ind_agg AS
            SELECT {key} AS subject_id, {medins} AS fixmedins_code, {peer_cols}, {', '.join(cols)}
            FROM sc_enc e {join} {where} {group_by}""")
        unions = []
        for i in inds:
            value = f"CAST(n_{i.code} AS DOUBLE)" if i.den is None else \
                f"CAST(n_{i.code} AS DOUBLE) / nullif(CAST(d_{i.code} AS DOUBLE), 0)"
            if i.code == "IP07":
                value = f"CAST(n_{i.code} AS DOUBLE) / nullif(CAST(d_{i.code} AS DOUBLE), 0) - 1"
            cond = f"coalesce(d_{i.code}, 0) >= {i.min_den}" + (f" AND coalesce(d_{i.code}, 0) > 0" if i.den else "")
            if i.kind == "count" and stype in (M, D, R):
                cond += f" AND n_{i.code} > 0"
            unions.append(f"SELECT subject_id, fixmedins_code, '{i.code}' AS indicator, {value} AS value, "
                          f"CAST(d_{i.code} AS DOUBLE) AS volume, {i.floor} AS floor, "
                          f"{', '.join(f'peer{k + 1}' for k in range(len(peers)))} FROM _ind_agg WHERE {cond}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE _ind_long AS {' UNION ALL '.join(unions)}")
        n_levels = len(peers)
        # each level's groups hold all their subjects; a subject reads the finest level with enough peers
        levels = " UNION ALL ".join(
            f"SELECT subject_id, fixmedins_code, indicator, value, volume, floor, {k} AS lvl, peer{k + 1} AS peer_group "
            f"FROM _ind_long WHERE value IS NOT NULL" for k in range(n_levels))
        con.execute(f"""INSERT INTO screen_indicators
            WITH v AS ({levels}),
                 st AS (SELECT indicator, lvl, peer_group, count(*) AS n, median(value) AS med,
                               quantile_cont(value, 0.9) AS p90 FROM v GROUP BY ALL),
                 md AS (SELECT v.indicator, v.lvl, v.peer_group, median(abs(v.value - st.med)) AS mad
                        FROM v JOIN st USING (indicator, lvl, peer_group) GROUP BY ALL),
                 pick AS (SELECT v.subject_id, v.indicator,
                                 coalesce(min(v.lvl) FILTER (WHERE st.n >= {MIN_PEERS}), {n_levels - 1}) AS lvl
                          FROM v JOIN st USING (indicator, lvl, peer_group) GROUP BY ALL),
                 ranked AS (SELECT v.*, st.n, st.med, st.p90, md.mad,
                                   percent_rank() OVER (PARTITION BY v.indicator, v.lvl, v.peer_group ORDER BY v.value) AS pr
                            FROM v JOIN st USING (indicator, lvl, peer_group) JOIN md USING (indicator, lvl, peer_group))
            SELECT {run_id}, '{stype}', r.subject_id, r.fixmedins_code, r.indicator, r.value, r.volume, r.peer_group,
                   r.lvl, r.lvl < {n_levels - 1}, r.n, r.med, r.p90, CASE WHEN r.n > 1 THEN r.pr ELSE 0.5 END,
                   (r.value - r.med) / greatest(1.4826 * r.mad, 0.1 * abs(r.med), r.floor)
            FROM ranked r JOIN pick USING (subject_id, indicator, lvl)""")
        total += con.execute(f"SELECT count(*) FROM screen_indicators WHERE run_id = {run_id} AND subject_type = '{stype}'"
                             ).fetchone()[0]
    con.execute("DROP TABLE IF EXISTS _ind_agg")
    con.execute("DROP TABLE IF EXISTS _ind_long")
    return total
