"""The rule catalogue as pages see it, and rule quality: how often reviewers confirm or dismiss each rule's
findings (precision), next to how often doctors override its real-time warnings (3103 继续执行)."""

from __future__ import annotations

import dataclasses
from typing import Any

from fundguard.engine.evidence import rule_info
from fundguard.errors import NotFound
from fundguard.reports.dashboard import latest_run
from fundguard.rules.catalog import FAMILIES
from fundguard.rules.library import default_library
from fundguard.workflow.access import require


def _run_stats(con, principal) -> dict[str, dict[str, Any]]:
    """Findings and amounts per rule in the latest run, for staff only (aggregates span institutions)."""
    if not principal.can("dashboard.read"):
        return {}
    run_id, _ = latest_run(con)
    if run_id is None:
        return {}
    rows = con.execute("""SELECT rule_id, count(*), sum(vola_amt), count(DISTINCT fixmedins_code) FROM findings
                          WHERE run_id = ? GROUP BY rule_id""", [run_id]).fetchall()
    return {r[0]: {"findings": r[1], "vola_amt": r[2], "institutions": r[3]} for r in rows}


def rule_catalogue(con, principal) -> list[dict[str, Any]]:
    """Families with their rules, in catalogue order; each rule with its latest-run figures where visible."""
    require(principal, "rules.read")
    stats = _run_stats(con, principal)
    families: dict[str, list[dict[str, Any]]] = {}
    for rule in sorted(default_library(), key=lambda r: (r.family, r.rule_id)):
        info = rule_info(rule.rule_id)
        info["enabled"] = rule.meta.enabled
        info["stats"] = stats.get(rule.rule_id)
        families.setdefault(rule.family, []).append(info)
    return [{"family": fam, "title": FAMILIES.get(fam, fam), "rules": rules} for fam, rules in families.items()]


def rule_detail(con, principal, rule_id: str) -> dict[str, Any]:
    require(principal, "rules.read")
    rule = next((r for r in default_library() if r.rule_id == rule_id), None)
    if rule is None:
        raise NotFound(f"规则 {rule_id} 不存在")
    info = rule_info(rule_id)
    info["family_title"] = FAMILIES.get(rule.family, rule.family)
    info["cases"] = len(rule.cases)
    info["version"] = rule.version
    info["stats"] = _run_stats(con, principal).get(rule_id)
    info["top_institutions"] = []
    if info["stats"]:
        run_id, _ = latest_run(con)
        cur = con.execute("""
            SELECT f.fixmedins_code, coalesce(i.fixmedins_name, f.fixmedins_code), count(*), sum(f.vola_amt)
            FROM findings f LEFT JOIN medins_info i ON i.fixmedins_code = f.fixmedins_code
            WHERE f.run_id = ? AND f.rule_id = ? AND f.fixmedins_code IS NOT NULL
            GROUP BY ALL ORDER BY 4 DESC LIMIT 10""", [run_id, rule_id])
        info["top_institutions"] = [{"fixmedins_code": r[0], "fixmedins_name": r[1], "findings": r[2],
                                     "vola_amt": r[3]} for r in cur.fetchall()]
    return info


def rule_quality_rows(con, principal, items) -> tuple[list[dict[str, Any]], list[dict[str, Any]] | None]:
    """Per rule: reviewer outcomes (confirmed/dismissed/open, precision) and the latest run's figures; and the
    real-time override statistics when that module exists (None otherwise)."""
    require(principal, "rules.quality")
    stats = _run_stats(con, principal)
    rows = []
    for q in items.rule_quality(principal):
        row = q.model_dump()
        row.update(stats.get(row["rule_id"]) or {"findings": None, "vola_amt": None, "institutions": None})
        decided = (row.get("confirmed") or 0) + (row.get("dismissed") or 0)
        row["decided"] = decided
        rows.append(row)
    rows.sort(key=lambda r: (r["precision"] is None, r["precision"] if r["precision"] is not None else 0,
                             -(r["decided"] or 0)))
    return rows, override_rows(con, principal)


def override_rows(con, principal) -> list[dict[str, Any]] | None:
    """Doctors' 3103 answers per rule (继续执行 / 返回修改, override rate), for roles that may see them."""
    if not principal.can("realtime.stats"):
        return None
    from fundguard.engine.realtime import override_stats

    return [dataclasses.asdict(r) for r in override_stats(con)]
