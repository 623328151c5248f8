"""Which rules a real-time call runs: the transaction's stage, the trigger scene and ``rule_ids``.

3101 runs the rules whose metadata lists 事前, 3102 those listing 事中. ``trig_scen`` (nhsa.md §2.2) picks
the care setting and, at registration, only the rules that need no order lines; the encounter itself adds
the settings it belongs to (购药, 互联网诊疗, 异地就医). ``rule_ids`` narrows the selection further: with
``rule_ids`` alone every listed rule of the stage runs, whatever the setting.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fundguard.errors import RealtimeRequestError
from fundguard.rules.library import Rule

STAGES = {"3101": "事前", "3102": "事中"}
ENCOUNTER_LEVELS = frozenset({"encounter", "person", "institution", "doctor"})
ALL_LEVELS = ENCOUNTER_LEVELS | {"line"}


@dataclass(frozen=True)
class Scene:
    code: str
    name: str
    setting: str  # 门诊 | 住院
    levels: frozenset[str]


SCENES: dict[str, Scene] = {s.code: s for s in (
    Scene("1", "门诊挂号", "门诊", ENCOUNTER_LEVELS),
    Scene("2", "门诊收费登记", "门诊", ALL_LEVELS),
    Scene("3", "住院登记", "住院", ENCOUNTER_LEVELS),
    Scene("4", "住院收费登记", "住院", ALL_LEVELS),
    Scene("5", "住院执行医嘱", "住院", ALL_LEVELS),
    Scene("6", "门诊结算", "门诊", ALL_LEVELS),
    Scene("7", "门诊预结算", "门诊", ALL_LEVELS),
    Scene("8", "住院结算", "住院", ALL_LEVELS),
    Scene("9", "住院预结算", "住院", ALL_LEVELS),
)}


def encounter_settings(enc: dict[str, Any]) -> set[str]:
    """The rule scenarios (model.SCENARIOS) an encounter of a 3101/3102 message belongs to."""
    med_type = str(enc.get("med_type") or "")
    kind = str(enc.get("med_mdtrt_type") or "")
    settings = set()
    if kind == "2" or med_type.startswith("2") or med_type == "52":
        settings.add("住院")
    elif kind == "3" or med_type == "41":
        settings.add("购药")
    else:
        settings.add("门诊")
    if med_type == "9901":
        settings.add("互联网诊疗")
    if str(enc.get("out_setl_flag") or "") == "1":
        settings.add("异地就医")
    return settings


def realtime_rules(rules: Iterable[Rule], stage: str) -> list[Rule]:
    """The enabled rules that may run at ``stage`` (事前 or 事中)."""
    return [r for r in rules if r.meta.enabled and stage in r.meta.stages]


# (id of the rule tuple, infno, trig_scen, the encounter's settings) -> (that tuple, the rules selected): the
# selection without rule_ids is the same for every message of a scene and kind of encounter (it took 0.1 ms)
_SELECTED: dict[tuple, tuple[tuple[Rule, ...], list[Rule]]] = {}


def select(rules: Iterable[Rule], infno: str, trig_scen: str | None, rule_ids: list[str] | None,
           enc: dict[str, Any]) -> list[Rule]:
    """The rules one patient's current encounter is checked against, in library order."""
    settings = frozenset(encounter_settings(enc))
    if rule_ids or not isinstance(rules, tuple):
        return _select(rules, infno, trig_scen, rule_ids, settings)
    key = (id(rules), infno, trig_scen, settings)
    found = _SELECTED.get(key)
    if found is None or found[0] is not rules:
        if len(_SELECTED) >= 256:
            _SELECTED.clear()
        found = _SELECTED[key] = (rules, _select(rules, infno, trig_scen, None, settings))
    return list(found[1])


def _select(rules: Iterable[Rule], infno: str, trig_scen: str | None, rule_ids: list[str] | None,
            enc_settings: frozenset[str]) -> list[Rule]:
    library = list(rules)
    stage = STAGES[infno]
    candidates = realtime_rules(library, stage)
    if rule_ids:
        known = {r.rule_id for r in library}
        unknown = [i for i in rule_ids if i not in known]
        if unknown:
            raise RealtimeRequestError(f"字段 input.data.rule_ids（规则 ID 列表）含有不存在的规则：{'、'.join(unknown)}",
                                       "input.data.rule_ids")
        wanted = set(rule_ids)
        candidates = [r for r in candidates if r.rule_id in wanted]
    if trig_scen:
        scene = SCENES.get(trig_scen)
        if scene is None:
            raise RealtimeRequestError(
                f"字段 input.data.trig_scen（触发场景）的值 {trig_scen!r} 无效，可选："
                + "，".join(f"{s.code} {s.name}" for s in SCENES.values()), "input.data.trig_scen")
        settings = set(enc_settings - {"住院", "门诊"}) | {scene.setting}
        if scene.setting == "门诊" and "购药" in enc_settings:
            settings.add("购药")
        candidates = [r for r in candidates
                      if r.meta.level in scene.levels and settings & set(r.meta.scenarios)]
    return candidates
