"""The rule metadata model: one YAML file per rule class, validated when the library loads."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Violation categories (vola_bhvr_type). Stable codes; the Chinese names are what users see.
VOLA_BHVR_TYPES: dict[str, str] = {
    "01": "重复收费",
    "02": "分解收费",
    "03": "超标准收费",
    "04": "串换项目",
    "05": "超限定支付范围",
    "06": "虚构医药服务项目",
    "07": "分解住院",
    "08": "挂床住院",
    "09": "无指征住院/诱导住院",
    "10": "冒名就医/虚假就医",
    "11": "过度诊疗/频繁就医",
    "12": "违规为非定点或中止协议机构结算",
    "13": "超诊疗范围执业",
    "14": "进销存不符",
    "15": "信息数据异常",
    "16": "超量开药/重复开药",
    "17": "药店违规销售",
    "18": "医嘱与收费不符",
}
TIERS1 = ("政策类", "管理类", "医疗类", "行为类")
SCENARIOS = ("住院", "门诊", "购药", "互联网诊疗", "异地就医")
STAGES = ("事前", "事中", "事后")
LEVELS = ("line", "encounter", "person", "institution", "doctor")
RULE_ID = re.compile(r"^(GZ|ZB)\d{14}$|^FG-[A-Z]\d{2}[A-Z0-9]?$")


class Param(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default: Any
    desc: str = Field(min_length=2)


class RuleMeta(BaseModel):
    """Everything about a rule class except its SQL and golden cases."""

    model_config = ConfigDict(extra="forbid")

    rule_id: str
    name: str = Field(min_length=2)
    tier1: str
    tier2: str = Field(min_length=2)
    sev_deg: Literal[1, 2]
    vola_bhvr_type: str
    scenarios: list[str] = Field(min_length=1)
    stages: list[str] = Field(min_length=1)
    time_window: str = Field(min_length=2)
    level: Literal["line", "encounter", "person", "institution", "doctor"] = "encounter"
    amount: Literal["lines", "encounter"] = "lines"
    # False when an encounter's findings depend on that encounter's own rows (and reference data) only: the
    # real-time path then runs the rule before it loads the patient's other encounters (docs/realtime.md §8).
    cross_encounter: bool = True
    kb_classes: list[str] = Field(default_factory=list)
    sql_from: str | None = None  # run the SQL of this sibling rule (same logic, another knowledge class)
    params: dict[str, Param] = Field(default_factory=dict)
    exclusions: list[str] = Field(default_factory=list)
    description: str = Field(min_length=4)
    basis: str = Field(min_length=4)
    legal: str = Field(min_length=4)
    message: str = Field(min_length=4)
    schemes: list[str] = Field(default_factory=list)
    enabled: bool = True

    @field_validator("rule_id")
    @classmethod
    def _rule_id(cls, v: str) -> str:
        if not RULE_ID.match(v):
            raise ValueError(f"规则编码 {v!r} 不合规：国家规则用 GZ/ZB+14 位数字，本项目规则用 FG-X00 形式")
        return v

    @field_validator("tier1")
    @classmethod
    def _tier1(cls, v: str) -> str:
        if v not in TIERS1:
            raise ValueError(f"tier1 应为 {TIERS1} 之一")
        return v

    @field_validator("vola_bhvr_type")
    @classmethod
    def _bhvr(cls, v: str) -> str:
        if v not in VOLA_BHVR_TYPES:
            raise ValueError(f"vola_bhvr_type {v!r} 不在违规行为分类表中（{', '.join(VOLA_BHVR_TYPES)}）")
        return v

    @field_validator("scenarios")
    @classmethod
    def _scenarios(cls, v: list[str]) -> list[str]:
        bad = [s for s in v if s not in SCENARIOS]
        if bad:
            raise ValueError(f"未知的应用场景 {bad}，可选 {SCENARIOS}")
        return v

    @field_validator("stages")
    @classmethod
    def _stages(cls, v: list[str]) -> list[str]:
        bad = [s for s in v if s not in STAGES]
        if bad:
            raise ValueError(f"未知的监管环节 {bad}，可选 {STAGES}")
        return v

    def param_values(self, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """Declared parameters with overrides, plus ``kb_class``: the rule's own knowledge-point class."""
        values = {k: p.default for k, p in self.params.items()}
        for key, value in (overrides or {}).items():
            if key not in values:
                raise ValueError(f"规则 {self.rule_id} 没有参数 {key!r}（可用：{', '.join(values) or '无'}）")
            values[key] = value
        if len(self.kb_classes) == 1:
            values.setdefault("kb_class", self.kb_classes[0])
        return values
