"""One normalised knowledge-point record, whatever file it came from."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from fundguard.kb.schema import LIMIT_COLUMNS

LIMIT_NAMES = tuple(c for c, _, _ in LIMIT_COLUMNS)
# Classes whose knowledge point names an ordered pair of codes (A already includes B).
PAIR_CLASSES = frozenset({"医疗服务项目重复收费"})


@dataclass
class KbRecord:
    rule_class: str
    item_name: str
    codes: list[tuple[str, str]]  # (national code, role: '' or 'A'/'B' for pairs)
    source_kind: str  # json | xlsx | builtin
    file_name: str
    source_row: int
    source_id: str | None = None
    gz_code: str | None = None
    level1: str | None = None
    level2: str | None = None
    constraint: str | None = None
    detect_logic: str | None = None
    batch: str | None = None
    published_at: dt.date | None = None
    supersedes: str | None = None
    limits: dict[str, object] = field(default_factory=dict)
    unmapped: list[str] = field(default_factory=list)
    # Limits read from a structured cell or ``params`` (not derived from text); these win when merging.
    structured: set[str] = field(default_factory=set)

    @property
    def merge_key(self) -> str:
        """Points of one class that name the same code (or the same ordered pair) are one point."""
        if self.rule_class in PAIR_CLASSES:
            a = sorted(c for c, r in self.codes if r == "A")
            b = sorted(c for c, r in self.codes if r == "B")
            return f"{self.rule_class}|{','.join(a)}|{','.join(b)}"
        if self.rule_class == "手术项目未按规定折价收费":  # one code may belong to several incision groups
            return f"{self.rule_class}|{self.codes[0][0]}|{self.limits.get('group_name') or ''}"
        return f"{self.rule_class}|{self.codes[0][0] if self.codes else self.item_name}"

    def codes_only(self) -> list[str]:
        return [c for c, _ in self.codes]
