"""The run context screens share: connection, run id, period, parameters; hit and flag collection."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fundguard.screening.period import Period
from fundguard.screening.registry import BY_ID

HIT_COLUMNS = "subject_type, subject_id, subject_name, fixmedins_code, strength, metric, metrics, reason"


@dataclass
class Ctx:
    con: Any
    run_id: int
    period: Period
    params: dict[str, dict[str, Any]]
    timings: dict[str, float] = field(default_factory=dict)

    def p(self, screen_id: str) -> dict[str, Any]:
        return self.params[screen_id]

    @property
    def year_fraction(self) -> float:
        return self.period.days / 365.0

    def start_hits(self) -> None:
        self.con.execute("""CREATE OR REPLACE TEMP TABLE _hits (screen_id VARCHAR, subject_type VARCHAR,
            subject_id VARCHAR, subject_name VARCHAR, fixmedins_code VARCHAR, strength DOUBLE, metric DOUBLE,
            metrics VARCHAR, reason VARCHAR)""")

    def add_hits(self, screen_id: str, select: str, params: list | None = None) -> None:
        """``select`` yields HIT_COLUMNS; rows with NULL or non-positive strength are kept only for 'item' lists."""
        self.con.execute(f"INSERT INTO _hits SELECT '{screen_id}', {HIT_COLUMNS} FROM ({select}) AS t({HIT_COLUMNS}) "
                         f"WHERE subject_id IS NOT NULL", params or [])

    def add_hit_rows(self, screen_id: str, rows: list[tuple]) -> None:
        if rows:
            self.con.executemany(f"INSERT INTO _hits VALUES ('{screen_id}', ?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def flag(self, flag: str, select_mdtrt: str) -> None:
        """Mark encounters (rows of ``select_mdtrt`` giving mdtrt_id) with an encounter-level screening flag."""
        self.con.execute(f"INSERT INTO sc_flags SELECT DISTINCT mdtrt_id, '{flag}' FROM ({select_mdtrt})")

    def finish_hits(self) -> int:
        """Name the subjects, rank each (screen, subject type) list and store it in screen_results."""
        self.con.execute(f"""INSERT INTO screen_results
            SELECT {self.run_id}, h.screen_id, '' AS screen_name, h.subject_type, h.subject_id,
                   coalesce(h.subject_name, CASE h.subject_type WHEN 'medins' THEN m.fixmedins_name
                            WHEN 'person' THEN p.psn_name WHEN 'doctor' THEN d.doc_name END, h.subject_id),
                   coalesce(h.fixmedins_code, CASE h.subject_type WHEN 'medins' THEN h.subject_id
                            WHEN 'doctor' THEN d.fixmedins_code END),
                   CAST(row_number() OVER (PARTITION BY h.screen_id, h.subject_type
                        ORDER BY h.strength DESC NULLS LAST, h.metric DESC NULLS LAST, h.subject_id) AS INTEGER),
                   round(h.strength, 4), h.metric, h.metrics, h.reason
            FROM _hits h
            LEFT JOIN sc_medins m ON h.subject_type = 'medins' AND m.fixmedins_code = h.subject_id
            LEFT JOIN sc_psn p ON h.subject_type = 'person' AND p.psn_no = h.subject_id
            LEFT JOIN sc_doc d ON h.subject_type = 'doctor' AND d.doc_code = h.subject_id""")
        for sid, sdef in BY_ID.items():
            self.con.execute("UPDATE screen_results SET screen_name = ? WHERE run_id = ? AND screen_id = ?",
                             [sdef.name, self.run_id, sid])
        return self.con.execute(f"SELECT count(*) FROM screen_results WHERE run_id = {self.run_id}").fetchone()[0]


def pct(x: float) -> str:
    return f"{x * 100:.0f}%"
