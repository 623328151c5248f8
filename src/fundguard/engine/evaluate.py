"""Detection quality on a labelled (synthetic) city: recall and precision per injected scheme.

A ground-truth row is found when a finding of a rule that declares its scheme matches it:
line-level truth needs a shared fee line (bkkp_sn); encounter-level truth the same mdtrt_id;
person-level the same psn_no; institution-level the same fixmedins_code; doctor-level the same
bilg_dr_code. A finding is correct when it matches a truth row of its scheme — or, reported
separately, a truth row of another scheme (a real violation labelled under a neighbouring scheme).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from fundguard.rules.library import Rule, default_library


@dataclass
class SchemeScore:
    scheme: str
    name: str
    truth: int
    found: int
    findings: int
    correct: int
    correct_other: int

    @property
    def recall(self) -> float | None:
        return self.found / self.truth if self.truth else None

    @property
    def precision(self) -> float | None:
        return (self.correct + self.correct_other) / self.findings if self.findings else None


_MATCH = """(
    (t.level = 'line' AND f.mdtrt_id = t.mdtrt_id AND (f.bkkp_sn IS NULL OR t.bkkp_sn IS NULL OR
        len(list_intersect(string_split(f.bkkp_sn, ';'), string_split(t.bkkp_sn, ';'))) > 0))
    OR (t.level = 'encounter' AND f.mdtrt_id = t.mdtrt_id)
    OR (t.level = 'person' AND f.psn_no = t.psn_no)
    OR (t.level IN ('institution', 'group') AND f.fixmedins_code = t.fixmedins_code)
    OR (t.level = 'doctor' AND f.bilg_dr_code = t.bilg_dr_code))"""


def evaluate(con: duckdb.DuckDBPyConnection, truth_path: Path, run_id: int | None = None,
             rules: list[Rule] | tuple[Rule, ...] | None = None, sections: str = "ABC") -> list[SchemeScore]:
    rules = rules if rules is not None else default_library()
    run_id = run_id or con.execute("SELECT max(run_id) FROM findings").fetchone()[0]
    mapping = [(r.rule_id, s) for r in rules for s in r.meta.schemes]
    con.execute("CREATE OR REPLACE TEMP TABLE __rule_scheme (rule_id VARCHAR, scheme VARCHAR)")
    if mapping:
        con.executemany("INSERT INTO __rule_scheme VALUES (?, ?)", mapping)
    reader = "read_parquet" if truth_path.suffix == ".parquet" else "read_csv_auto"
    con.execute(f"CREATE OR REPLACE TEMP TABLE __truth AS SELECT row_number() OVER () AS __tid, * "
                f"FROM {reader}('{truth_path.as_posix()}')")
    for col in ("mdtrt_id", "psn_no", "fixmedins_code", "bkkp_sn", "bilg_dr_code"):
        con.execute(f"ALTER TABLE __truth ALTER COLUMN {col} TYPE VARCHAR")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE __f AS
                    SELECT f.*, rs.scheme FROM findings f JOIN __rule_scheme rs USING (rule_id) WHERE f.run_id = {int(run_id)}""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE __m AS
                    SELECT f.jr_id, f.scheme AS f_scheme, t.__tid, t.scheme AS t_scheme
                    FROM __f f JOIN __truth t ON {_MATCH}""")
    rows = con.execute("""
        WITH schemes AS (SELECT DISTINCT scheme, any_value(scheme_name) AS name FROM __truth GROUP BY scheme),
             truth AS (SELECT scheme, count(*) AS n FROM __truth GROUP BY scheme),
             found AS (SELECT t_scheme AS scheme, count(DISTINCT __tid) AS n FROM __m WHERE f_scheme = t_scheme
                       GROUP BY 1),
             fs AS (SELECT scheme, count(DISTINCT jr_id) AS n FROM __f GROUP BY 1),
             ok AS (SELECT f_scheme AS scheme, count(DISTINCT jr_id) AS n FROM __m WHERE f_scheme = t_scheme GROUP BY 1),
             other AS (SELECT f_scheme AS scheme, count(DISTINCT jr_id) AS n FROM __m m WHERE NOT EXISTS (
                          SELECT 1 FROM __m m2 WHERE m2.jr_id = m.jr_id AND m2.f_scheme = m2.t_scheme) GROUP BY 1)
        SELECT s.scheme, s.name, coalesce(t.n, 0), coalesce(fd.n, 0), coalesce(fs.n, 0), coalesce(ok.n, 0),
               coalesce(o.n, 0)
        FROM schemes s LEFT JOIN truth t USING (scheme) LEFT JOIN found fd USING (scheme) LEFT JOIN fs USING (scheme)
        LEFT JOIN ok USING (scheme) LEFT JOIN other o USING (scheme) ORDER BY s.scheme""").fetchall()
    return [SchemeScore(*r) for r in rows if r[0][:1] in sections]
