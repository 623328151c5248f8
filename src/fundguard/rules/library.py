"""Load the rule library: ``<family>/<rule_id>.yaml`` + ``.sql`` + ``.cases.yaml`` per rule class.

Every problem in the library is collected (file and reason) and reported together, so a rule author
sees them all in one run. The SQL is parsed with sqlglot at load time.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import sqlglot
import yaml
from pydantic import ValidationError
from sqlglot import exp

from fundguard.errors import FundGuardError
from fundguard.rules.model import RuleMeta

LIBRARY = Path(__file__).parent / "library"


class RuleLibraryError(FundGuardError):
    code = "FG400"


@dataclass(frozen=True)
class Rule:
    meta: RuleMeta
    sql: str
    cases: list[dict] = field(default_factory=list)
    path: Path = Path()
    version: str = ""

    @property
    def rule_id(self) -> str:
        return self.meta.rule_id

    @property
    def family(self) -> str:
        return self.path.parent.name


def _load_one(yaml_path: Path, problems: list[str], root: Path) -> Rule | None:
    stem = yaml_path.name[: -len(".yaml")]
    sql_path = yaml_path.with_name(stem + ".sql")
    cases_path = yaml_path.with_name(stem + ".cases.yaml")
    try:
        raw = yaml.safe_load(yaml_path.read_text(encoding="utf-8")) or {}
        meta = RuleMeta.model_validate(raw)
    except (yaml.YAMLError, ValidationError) as exc:
        problems.append(f"{yaml_path}: 元数据无效：{exc}")
        return None
    if meta.rule_id != stem:
        problems.append(f"{yaml_path}: 文件名应与 rule_id 相同（{meta.rule_id}）")
    if meta.sql_from:
        shared = sorted(root.glob(f"*/{meta.sql_from}.sql"))
        if sql_path.exists() or not shared:
            problems.append(f"{yaml_path}: sql_from={meta.sql_from} 时不应另有 {sql_path.name}，且该规则的 SQL 必须存在")
            return None
        sql_path = shared[0]
    if not sql_path.exists():
        problems.append(f"{yaml_path}: 缺少规则 SQL 文件 {sql_path.name}")
        return None
    sql = sql_path.read_text(encoding="utf-8")
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        problems.append(f"{sql_path}: SQL 无法解析：{exc}")
        return None
    if not isinstance(tree, (exp.Select, exp.Union, exp.With)) and not tree.find(exp.Select):
        problems.append(f"{sql_path}: 规则 SQL 必须是一条 SELECT 语句")
    used = {p.name for p in tree.find_all(exp.Placeholder)}
    missing = used - set(meta.param_values())
    if missing:
        problems.append(f"{sql_path}: SQL 使用了未在元数据中声明的参数 {sorted(missing)}")
    if tree.find(exp.Lambda):
        problems.append(f"{sql_path}: 不要使用 lambda 表达式（Spark 不支持同样的写法）")
    cases: list[dict] = []
    if not cases_path.exists():
        problems.append(f"{yaml_path}: 缺少黄金用例文件 {cases_path.name}")
    else:
        try:
            cases = (yaml.safe_load(cases_path.read_text(encoding="utf-8")) or {}).get("cases") or []
        except yaml.YAMLError as exc:
            problems.append(f"{cases_path}: YAML 无效：{exc}")
        positive = [c for c in cases if c.get("expect")]
        negative = [c for c in cases if c.get("expect") == []]
        if not positive or not negative:
            problems.append(f"{cases_path}: 至少需要一个会命中的用例和一个不应命中的用例（expect: []）")
    version = hashlib.sha1(b"".join(p.read_bytes() for p in (yaml_path, sql_path) if p.exists())).hexdigest()[:12]
    return Rule(meta=meta, sql=sql, cases=cases, path=yaml_path, version=version)


def load_library(root: Path = LIBRARY, *, strict: bool = True) -> list[Rule]:
    problems: list[str] = []
    rules: list[Rule] = []
    seen: dict[str, Path] = {}
    for yaml_path in sorted(root.glob("*/*.yaml")):
        if yaml_path.name.endswith(".cases.yaml"):
            continue
        rule = _load_one(yaml_path, problems, root)
        if rule is None:
            continue
        if rule.rule_id in seen:
            problems.append(f"{yaml_path}: 规则编码 {rule.rule_id} 与 {seen[rule.rule_id]} 重复")
            continue
        seen[rule.rule_id] = yaml_path
        rules.append(rule)
    if problems and strict:
        raise RuleLibraryError("规则库有 {} 处问题：\n".format(len(problems)) + "\n".join(problems))
    return rules


@lru_cache(maxsize=1)
def default_library() -> tuple[Rule, ...]:
    return tuple(load_library())


def select_rules(rules, ids: list[str] | None = None) -> list[Rule]:
    if not ids:
        return [r for r in rules if r.meta.enabled]
    by_id = {r.rule_id: r for r in rules}
    unknown = [i for i in ids if i not in by_id]
    if unknown:
        raise RuleLibraryError(f"未知的规则编码：{', '.join(unknown)}")
    return [by_id[i] for i in ids]
