"""Screening quality on a labelled (synthetic) city: where the planted bad actors rank in each risk list.

Planted actors per list (docs/synth.md, ground_truth.actor):
- 机构 medins: the institutions of ACT01 (organised admissions), ACT02 (pharmacy: cosmetics, sales above
  purchases), ACT04 (staff admitted in their own hospital), ACT06 (settling after suspension), ACT08 (imaging share),
  ACT09 (drug surge) — the modal fixmedins_code of each actor's truth rows (ACT03 is a doctor: in a large city his
  six split stays are lost among his hospital's thousands);
- 医师 doctor: the doctors named on at least two encounter rows of ACT03 (split admissions) or ACT01 (the doctors who
  admitted the organised patients); ACT06's doctors are not counted (settling is the institution's act);
- 人员 person: the persons of ACT01 (the organised villagers), ACT04 (staff), ACT05 (card lending), ACT07 (frequent
  inpatients);
- 团伙 group: a community is planted when at least half of its members are ACT01 ring members (D04/D07 rows).

Besides the planted actors the generator injects violations at random (2 % of eligible objects per scheme); where
they concentrate (e.g. every private first-grade hospital receives the injected light-diagnosis stays of C03, so
their doctors admit mostly such stays) the subject is a labelled violator without an actor tag. ``labelled``:
institutions with ≥ 10 labelled inpatient stays making ≥ 10 % of their stays (or ≥ 20 labelled encounters making
≥ 10 %) or an institution-level truth row; doctors with ≥ 5 labelled stays making ≥ 30 % of their stays; persons in a
behavioural truth row (B12, C01–C05, D). They are reported apart: ``flagged_normal`` counts high-risk subjects that
are neither planted nor labelled, and ``precision_labelled`` is precision@k' with k' = |planted ∪ labelled|.

For each list: k = number of planted subjects, precision@k, the top-5 % cut (``max(⌈5 % · N⌉, k)`` — with fewer
subjects than 20 × k, 5 % is shorter than the planted set itself), how many planted subjects rank inside it, and how
many subjects reach the high-risk level (flagged) while being normal.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

INST_ACTORS = ("ACT01", "ACT02", "ACT04", "ACT06", "ACT08", "ACT09")
DOCTOR_ACTORS = ("ACT01", "ACT03")
PERSON_ACTORS = ("ACT01", "ACT04", "ACT05", "ACT07")
LIST_NAMES = {"medins": "机构", "doctor": "医师", "person": "人员", "group": "团伙"}


@dataclass
class ListScore:
    subject_type: str
    n_subjects: int
    planted: list[str]
    ranks: dict[str, int | None] = field(default_factory=dict)
    precision_at_k: float = 0.0
    cut: int = 0
    in_top: int = 0
    flagged: int = 0
    flagged_normal: int = 0
    labelled: int = 0
    precision_labelled: float = 0.0

    @property
    def k(self) -> int:
        return len(self.planted)

    @property
    def recall_top(self) -> float:
        return self.in_top / self.k if self.k else 1.0


def _truth_rows(con, truth_path: Path) -> list[tuple]:
    reader = "read_parquet" if truth_path.suffix == ".parquet" else "read_csv_auto"
    return con.execute(f"""SELECT scheme, level, CAST(fixmedins_code AS VARCHAR), CAST(psn_no AS VARCHAR),
                                  CAST(bilg_dr_code AS VARCHAR), actor
                           FROM {reader}('{truth_path.as_posix()}') WHERE coalesce(actor, '') <> ''""").fetchall()


def planted_actors(con, truth_path: Path) -> dict[str, set[str]]:
    rows = _truth_rows(con, Path(truth_path))
    inst: dict[str, Counter] = defaultdict(Counter)
    docs: Counter = Counter()
    persons: set[str] = set()
    ring: set[str] = set()
    for scheme, level, medins, psn, doc, actor in rows:
        if actor in INST_ACTORS and medins:
            inst[actor][medins] += 1
        if actor in DOCTOR_ACTORS and doc and level in ("encounter", "line"):
            docs[doc] += 1
        if actor in PERSON_ACTORS and psn:
            persons.update(p for p in psn.split(";") if p)
        if actor == "ACT01" and scheme in ("D04", "D07") and psn:
            ring.update(p for p in psn.split(";") if p)
    return {"medins": {c.most_common(1)[0][0] for c in inst.values()},
            "doctor": {d for d, n in docs.items() if n >= 2}, "person": persons, "ring": ring}


def labelled_subjects(con, truth_path: Path) -> dict[str, set[str]]:
    """Subjects where the randomly injected (non-actor) violations concentrate; see the module docstring."""
    reader = "read_parquet" if Path(truth_path).suffix == ".parquet" else "read_csv_auto"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _ev_truth AS SELECT scheme, level, CAST(mdtrt_id AS VARCHAR) AS mdtrt_id,
                        CAST(fixmedins_code AS VARCHAR) AS fixmedins_code, CAST(psn_no AS VARCHAR) AS psn_no
                    FROM {reader}('{Path(truth_path).as_posix()}')""")
    medins = {r[0] for r in con.execute("""
        WITH lab AS (SELECT DISTINCT mdtrt_id FROM _ev_truth WHERE level IN ('line', 'encounter') AND mdtrt_id <> ''),
             e AS (SELECT m.fixmedins_code, m.med_type LIKE '2%' OR m.med_type = '52' AS ip,
                          m.mdtrt_id IN (SELECT mdtrt_id FROM lab) AS bad FROM mdtrt_d m)
        SELECT fixmedins_code FROM e GROUP BY 1
        HAVING (count(*) FILTER (WHERE ip AND bad) >= 10 AND count(*) FILTER (WHERE ip AND bad) >= 0.1 * count(*) FILTER (WHERE ip))
            OR (count(*) FILTER (WHERE bad) >= 20 AND count(*) FILTER (WHERE bad) >= 0.1 * count(*))
        UNION SELECT fixmedins_code FROM _ev_truth WHERE level = 'institution' AND fixmedins_code <> ''""").fetchall()}
    doctors = {r[0] for r in con.execute("""
        WITH lab AS (SELECT DISTINCT mdtrt_id FROM _ev_truth WHERE level IN ('line', 'encounter') AND mdtrt_id <> '')
        SELECT chfpdr_code FROM mdtrt_d WHERE (med_type LIKE '2%' OR med_type = '52') AND chfpdr_code IS NOT NULL
        GROUP BY 1 HAVING count(*) FILTER (WHERE mdtrt_id IN (SELECT mdtrt_id FROM lab)) >= 5
           AND count(*) FILTER (WHERE mdtrt_id IN (SELECT mdtrt_id FROM lab)) >= 0.3 * count(*)""").fetchall()}
    persons = {p for (v,) in con.execute("""SELECT psn_no FROM _ev_truth WHERE psn_no <> '' AND (scheme = 'B12'
                   OR scheme LIKE 'C0%' AND scheme NOT IN ('C06', 'C07', 'C08', 'C09') OR scheme LIKE 'D%')""").fetchall()
               for p in v.split(";") if p}
    return {"medins": medins, "doctor": doctors, "person": persons, "group": set()}


def evaluate_screening(con, truth_path: Path, run_id: int | None = None) -> dict[str, ListScore]:
    from fundguard.screening.queries import latest_run

    run_id = run_id or latest_run(con)
    planted = planted_actors(con, Path(truth_path))
    ring = planted.pop("ring")
    groups = {gid: members for gid, members in con.execute(
        "SELECT group_id, members FROM screen_groups WHERE run_id = ?", [run_id]).fetchall()}
    import json

    planted["group"] = {gid for gid, m in groups.items()
                        if (ms := json.loads(m)) and sum(1 for x in ms if x in ring) >= len(ms) / 2}
    labelled = labelled_subjects(con, Path(truth_path))
    out = {}
    for stype, actors in planted.items():
        rows = con.execute("""SELECT subject_id, rank, n_subjects, risk_level FROM risk_scores
                              WHERE run_id = ? AND subject_type = ? ORDER BY rank""", [run_id, stype]).fetchall()
        n = max([r[2] for r in rows] + [len(rows)]) if rows else 0
        ranks = {r[0]: r[1] for r in rows}
        actors = sorted(actors)
        score = ListScore(stype, n, actors, {a: ranks.get(a) for a in actors})
        k = len(actors)
        if k:
            top_k = {r[0] for r in rows[:k]}
            score.precision_at_k = len(top_k & set(actors)) / k
        score.cut = max(math.ceil(0.05 * n), k)
        score.in_top = sum(1 for a in actors if (ranks.get(a) or 10 ** 9) <= score.cut)
        bad = set(actors) | labelled[stype]
        score.labelled = len(labelled[stype] - set(actors))
        if bad:
            score.precision_labelled = len({r[0] for r in rows[:len(bad)]} & bad) / len(bad)
        score.flagged = sum(1 for r in rows if r[3] == "高风险")
        score.flagged_normal = sum(1 for r in rows if r[3] == "高风险" and r[0] not in bad)
        out[stype] = score
    return out
