"""National verification (issue: 国家两库全量验证).

For EVERY knowledge point of the national data (JSON batches 1–17 + 2026-01 revision, merged with the 14
workbooks of batches 1–8) a minimal encounter that must fire and one that must not are built with the
golden-case builder; the rules whose ``kb_classes`` name the point's class run over one store per class.
A point is correct when exactly the expected kp_id fires for the first person and nothing for the second.

Every evaluable point of a class with a rule must be correct. Classes without a rule are reported as
skipped; points whose limits the tables do not give are listed with the reason.

``FG_UPDATE_KB_DOC=1`` rewrites the measured section of docs/knowledge-base.md.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.kb.national import KbView, render, verify_class

DOC = Path(__file__).resolve().parents[2] / "docs" / "knowledge-base.md"
BEGIN, END = "<!-- verification:begin -->", "<!-- verification:end -->"


def test_every_national_point_fires_exactly_its_rule(kb_stores, tmp_path, capsys):
    from fundguard.rules.library import load_library
    from fundguard.store.db import connect

    base = kb_stores["json_first"].path
    con = connect(base, read_only=True)
    try:
        kb = KbView.read(con)
    finally:
        con.close()
    rules = load_library(strict=False)
    started = time.perf_counter()
    results = []
    for n, rule_class in enumerate(sorted({p["rule_class"] for p in kb.points.values()})):
        class_rules = [r for r in rules if rule_class in r.meta.kb_classes and r.meta.enabled]
        results.append(verify_class(base, tmp_path, kb, rule_class, class_rules, n))
    seconds = time.perf_counter() - started
    table = render(results, seconds)
    with capsys.disabled():
        print("\n国家两库知识点验证（DuckDB）\n" + table)
        for r in results:
            print(f"  {r.rule_class}: {r.seconds:.1f}s")
            for kp_id, why in r.wrong[:10]:
                print(f"  错误 {r.rule_class} {kp_id}：{why}")
    if os.environ.get("FG_UPDATE_KB_DOC") and DOC.exists():
        text = DOC.read_text(encoding="utf-8")
        head, _, rest = text.partition(BEGIN)
        _, _, tail = rest.partition(END)
        DOC.write_text(f"{head}{BEGIN}\n{table}\n{END}{tail}", encoding="utf-8")

    assert sum(r.total for r in results) == len(kb.points)
    assert sum(r.evaluated for r in results if not r.skipped) > 0
    wrong = {r.rule_class: r.wrong[:3] for r in results if r.wrong}
    assert not wrong, f"以下规则类有知识点未按预期命中：{wrong}"
