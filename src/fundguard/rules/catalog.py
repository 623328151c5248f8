"""The rule catalogue page (docs/rules.md), generated from the rule metadata so it cannot drift."""

from __future__ import annotations

from pathlib import Path

from fundguard.rules.library import Rule, default_library
from fundguard.rules.model import VOLA_BHVR_TYPES

FAMILIES = {
    "a_charging": "A. 收费类（逐行、逐次就诊）",
    "b_scope": "B. 医保支付范围（两库知识点）",
    "c_stays": "C. 住院与就医行为",
}
SEV = {1: "明确违规", 2: "可疑"}


def render_catalog(rules: list[Rule] | tuple[Rule, ...] | None = None) -> str:
    rules = list(rules if rules is not None else default_library())
    lines = [
        "# 规则目录 / Rule catalogue",
        "",
        "本页由 `fundguard rules catalog` 根据规则元数据生成，请勿手工编辑。",
        f"共 {len(rules)} 条规则类。sev_deg：1 明确违规，2 可疑。",
        "",
    ]
    by_family: dict[str, list[Rule]] = {}
    for rule in rules:
        by_family.setdefault(rule.family, []).append(rule)
    for family in sorted(by_family):
        lines += [f"## {FAMILIES.get(family, family)}", "",
                  "| 规则编码 | 名称 | 层级 | 严重程度 | 违规类别 | 场景 | 环节 | 时间区间 | 知识点类 |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for r in sorted(by_family[family], key=lambda r: r.rule_id):
            m = r.meta
            lines.append(
                f"| {m.rule_id} | {m.name} | {m.tier1}/{m.tier2} | {m.sev_deg} {SEV[m.sev_deg]} | "
                f"{m.vola_bhvr_type} {VOLA_BHVR_TYPES[m.vola_bhvr_type]} | {'、'.join(m.scenarios)} | "
                f"{'、'.join(m.stages)} | {m.time_window} | {'、'.join(m.kb_classes) or '—'} |")
        lines.append("")
        for r in sorted(by_family[family], key=lambda r: r.rule_id):
            m = r.meta
            lines += [f"### {m.rule_id} {m.name}", "", m.description, ""]
            if m.params:
                lines.append("参数：" + "；".join(f"`{k}` = {p.default}（{p.desc}）" for k, p in m.params.items()))
                lines.append("")
            if m.exclusions:
                lines.append("排除：" + "；".join(m.exclusions))
                lines.append("")
            lines += [f"依据：{m.basis}。法律依据：{m.legal}。", "",
                      f"金额口径：{'违规明细行的基金支付部分' if m.amount == 'lines' else '整次就诊的基金支付额'}；"
                      f"黄金用例 {len(r.cases)} 个。", ""]
    lines += ["## 违规行为分类（vola_bhvr_type）", "", "| 代码 | 分类 |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in VOLA_BHVR_TYPES.items()]
    return "\n".join(lines) + "\n"


def write_catalog(path: Path) -> None:
    path.write_text(render_catalog(), encoding="utf-8")
