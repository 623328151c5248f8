"""Map free indication text (限…患者) to ICD-10 category prefixes.

The built-in table is our own short list of common categories. Where ``../shared/data`` (or the path in
``FUNDGUARD_ICD_DICT``) holds the national ICD-10 category dictionary, it is read in place at run time —
never copied into the repository — and extends the mapping.
"""

from __future__ import annotations

import csv
import os
from functools import lru_cache
from pathlib import Path

# (keyword in the indication text, ICD-10 prefixes). Longer keywords first wins nothing: all matches are kept.
BUILTIN: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("脑梗死", ("I63",)), ("脑梗塞", ("I63",)), ("缺血性脑卒中", ("I63",)), ("脑出血", ("I61",)),
    ("冠心病", ("I20", "I21", "I22", "I24", "I25")), ("心绞痛", ("I20",)), ("心肌梗死", ("I21", "I22")),
    ("心力衰竭", ("I50",)), ("心衰", ("I50",)), ("房颤", ("I48",)), ("心房颤动", ("I48",)),
    ("高血压", ("I10", "I11", "I12", "I13", "I15")), ("糖尿病", ("E10", "E11", "E12", "E13", "E14")),
    ("肺癌", ("C34",)), ("非小细胞肺癌", ("C34",)), ("肺恶性肿瘤", ("C34",)), ("乳腺癌", ("C50",)),
    ("胃癌", ("C16",)), ("结直肠癌", ("C18", "C19", "C20")), ("肝癌", ("C22",)), ("肝细胞癌", ("C22",)),
    ("前列腺癌", ("C61",)), ("卵巢癌", ("C56",)), ("宫颈癌", ("C53",)), ("淋巴瘤", ("C81", "C82", "C83", "C84", "C85")),
    ("白血病", ("C91", "C92", "C93", "C94", "C95")), ("多发性骨髓瘤", ("C90",)), ("恶性肿瘤", ("C",)),
    ("肿瘤", ("C", "D0", "D1", "D2", "D3", "D4")), ("慢性阻塞性肺", ("J44",)), ("哮喘", ("J45", "J46")),
    ("肺炎", ("J12", "J13", "J14", "J15", "J16", "J17", "J18")), ("类风湿关节炎", ("M05", "M06")),
    ("骨质疏松", ("M80", "M81", "M82")), ("骨关节炎", ("M15", "M16", "M17", "M18", "M19")),
    ("强直性脊柱炎", ("M45",)), ("银屑病", ("L40",)), ("系统性红斑狼疮", ("M32",)), ("痛风", ("M10",)),
    ("慢性肾脏病", ("N18",)), ("肾衰竭", ("N17", "N18", "N19")), ("透析", ("N18", "Z49", "Z99.2")),
    ("乙型肝炎", ("B16", "B18.0", "B18.1")), ("丙型肝炎", ("B17.1", "B18.2")), ("肝硬化", ("K74",)),
    ("帕金森", ("G20",)), ("阿尔茨海默", ("G30", "F00")), ("癫痫", ("G40", "G41")), ("精神分裂症", ("F20",)),
    ("抑郁", ("F32", "F33")), ("多发性硬化", ("G35",)), ("脓毒症", ("A40", "A41")), ("败血症", ("A40", "A41")),
    ("结核", ("A15", "A16", "A17", "A18", "A19")), ("艾滋病", ("B20", "B21", "B22", "B23", "B24")),
    ("血友病", ("D66", "D67", "D68")), ("贫血", ("D50", "D51", "D52", "D53", "D55", "D56", "D57", "D58", "D59",
                                               "D60", "D61", "D62", "D63", "D64")),
    ("骨折", ("S02", "S12", "S22", "S32", "S42", "S52", "S62", "S72", "S82", "S92", "T02", "M80")),
    ("黄斑变性", ("H35.3",)), ("青光眼", ("H40",)), ("白内障", ("H25", "H26")), ("法布雷病", ("E75.2",)),
    ("戈谢病", ("E75.2",)), ("肺动脉高压", ("I27",)), ("急性冠脉综合征", ("I20.0", "I21", "I22", "I24")),
    ("静脉血栓", ("I80", "I82", "I26")), ("肺栓塞", ("I26",)), ("营养不良", ("E40", "E41", "E42", "E43", "E44", "E46")),
)


def _shared_dictionary() -> Path | None:
    configured = os.environ.get("FUNDGUARD_ICD_DICT")
    if configured:
        return Path(configured)
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent.parent / "shared" / "data" / "medimodel" / "dicts_rules_2026-04" / "疾病分类字典.csv"
        if candidate.exists():
            return candidate
    return None


@lru_cache(maxsize=1)
def _table() -> tuple[tuple[str, tuple[str, ...]], ...]:
    entries = list(BUILTIN)
    path = _shared_dictionary()
    if path and path.exists():
        entries.extend(_read_dictionary(path))
    # Longer names first so that the most specific match is reported first.
    return tuple(sorted(entries, key=lambda e: -len(e[0])))


def _read_dictionary(path: Path) -> list[tuple[str, tuple[str, ...]]]:
    out = []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames or []
        code_col = next((f for f in fields if "编码" in f or "代码" in f), None)
        name_col = next((f for f in fields if "名称" in f), None)
        if not code_col or not name_col:
            return out
        for row in reader:
            code = (row.get(code_col) or "").strip().upper()
            name = (row.get(name_col) or "").strip()
            if len(name) >= 2 and len(code) >= 3 and code[0].isalpha():
                out.append((name, (code.split("-")[0].rstrip("."),)))
    return out


def prefixes_for(text: str) -> list[str]:
    """ICD-10 prefixes for every disease named in ``text`` (empty when nothing is recognised)."""
    found: list[str] = []
    for keyword, prefixes in _table():
        if keyword in text:
            for p in prefixes:
                if p not in found:
                    found.append(p)
    return found
