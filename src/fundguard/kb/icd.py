"""Map free indication text (限…患者) to ICD-10 category prefixes.

The built-in table below is our own keyword list (disease name → ICD-10 prefixes, written for the texts of
the national 限适应症 points). Where ``../shared/data`` (or the path in ``FUNDGUARD_ICD_DICT``) holds the
national ICD-10 category dictionary (疾病分类字典.csv), its 西医诊断 category names are read in place at run
time — never copied into the repository — and extend the mapping.

Matching: longest keyword first; a matched span is consumed so that shorter keywords inside it do not
match again ("2型糖尿病" gives E11, not also E10–E14; "间变性淋巴瘤激酶" is a gene, not a lymphoma).
Keywords with no prefixes are stop phrases. Weak keywords (generic words such as 肿瘤, 化疗) count only
when no specific disease was found. Prefixes covered by a shorter prefix in the result are dropped.
"""

from __future__ import annotations

import csv
import os
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

# keyword[/alias…] | prefixes (comma-separated; empty = stop phrase). A leading '~' marks a weak keyword.
_TABLE = """
高血压/原发性高血压|I10,I11,I12,I13,I15
冠心病/冠状动脉粥样硬化性心脏病|I20,I21,I22,I23,I24,I25
心绞痛|I20
心肌梗死/心肌梗塞|I21,I22,I25.2
急性冠脉综合征/急性冠状动脉综合征|I20.0,I21,I22,I24
冠脉血运重建|I20,I21,I22,I24,I25
心力衰竭/心衰/心功能不全|I50
房颤/心房颤动/心房纤颤/心房扑动|I48
心律失常|I44,I45,I46,I47,I48,I49
快速性心律失常|I47,I48,R00.0
窦性心动过速|R00.0
肥厚型心肌病|I42.1,I42.2
心肌病|I42,I43
心肌炎|I40,I41,I51.4
病毒性心肌炎|I40.0,B33.2
肺动脉高压|I27
动脉粥样硬化性心血管疾病|I20,I21,I22,I23,I24,I25,I63,I65,I66,I70
动脉粥样硬化|I70
~心血管疾病/心血管事件|I
缺血性心脑血管疾病/缺血性心脑血管病|I20,I21,I22,I23,I24,I25,I63,I65,I66,G45
缺血性脑血管疾病/缺血性脑血管病|I63,I65,I66,G45
脑血管疾病|I6
脑梗死/脑梗塞/缺血性脑卒中/缺血性卒中/脑血栓/血栓性脑梗死|I63
脑梗死恢复期|I63,I69.3
脑卒中/卒中/中风|I60,I61,I62,I63,I64
脑出血|I61
中风昏迷|I60,I61,I62,I63,I64,R40
脑外伤/颅脑损伤|S06
酒精中毒|F10,T51
~昏迷|R40
血栓性静脉炎|I80
深静脉血栓|I80,I82
静脉血栓/血栓栓塞|I80,I82,I26,I74
肺栓塞|I26
动脉闭塞/慢性动脉闭塞/动脉闭塞症|I70,I73,I74
间歇性跛行|I70,I73
视网膜动静脉阻塞/视网膜静脉阻塞/视网膜动脉阻塞|H34
突发性耳聋/突发性聋|H91.2
耳聋|H90,H91
耳部血流及神经障碍|H91,H93
糖尿病|E10,E11,E12,E13,E14
2型糖尿病|E11
1型糖尿病|E10
糖尿病周围神经病变|E10,E11,E12,E13,E14,G63
糖尿病性黄斑水肿/糖尿病黄斑水肿|E10,E11,E13,E14,H35.8,H36.0
高胆固醇血症/家族性高胆固醇血症|E78.0
混合型血脂异常/混合性高脂血症/混合型高脂血症|E78.2
高甘油三酯血症|E78.1
血脂异常/高脂血症|E78
骨质疏松|M80,M81,M82
绝经后骨质疏松|M80,M81
甲状旁腺功能低下/甲状旁腺功能减退|E20,E89.2
甲状旁腺功能亢进|E21
继发性甲状旁腺功能亢进|N25.8,E21.1
佝偻病|E55,E83.3
肾性骨营养不良|N25.0
高磷血症|E83.3
血氨升高/高血氨/高氨血症|E72.2
酪氨酸血症|E70.2
烟酸缺乏|E52
尼曼匹克病/法布雷病/戈谢病|E75.2
囊性纤维化|E84
生长激素缺乏|E23.0
生长缓慢|E34.3,R62.8
肢端肥大症|E22.0
类癌综合征|E34.0
肾上腺皮质增生|E25
肾上腺皮质功能减退/Addison病|E27.1,E27.4
多囊卵巢综合征/多囊卵巢综合症|E28.2
甲状腺眼病|H06.2,E05.0
痛风|M10
高尿酸血症|E79.0
营养不良|E40,E41,E42,E43,E44,E46
营养风险|
低血容量|E86,R57.1,T79.4
休克|R57
BMI≥25/肥胖|E66
恶病质|R64
厌食|R63.0
体重明显减轻/体重减轻|R63.4
十二指肠溃疡|K26
胃溃疡|K25
消化性溃疡/应激性溃疡|K25,K26,K27,K28
反流性食管炎|K20,K21
胃食管反流|K21
幽门螺杆菌|B96.8,K25,K26,K29
消化道出血/消化道严重出血|K92,K25,K26,K27,K28,I85
胃炎/胆汁反流性胃炎|K29
胰腺炎|K85,K86
急性胰腺炎|K85
肠易激综合征|K58
便秘|K59.0
克罗恩病|K50
溃疡性结肠炎|K51
肝硬化|K74,K70.3,K71.7
非肝硬化|
胆汁淤积性肝病|K71.0,K74.3,K83.1
肝性脑病/肝昏迷|K72
重症肝炎|K72,B15,B16,B17,B19
肝功能不全|K72,K76
慢性肝病/肝病|K7
脂肪肝|K76.0,K70.0
肝炎/传染性肝炎|B15,B16,B17,B19,K73,K75
胆囊结石/胆结石|K80
胸腹水/腹水|R18
胸水/胸腔积液|J90,J91
癌性胸腹水/癌性胸腹腔积液/恶性胸腔积液|J91,R18,C78.2,C78.6
恶心/呕吐|R11
致吐性化疗|R11,Z51.1,C
吞咽困难|R13
慢性肾脏病|N18
肾衰竭/肾功能衰竭/肾功能不全|N17,N18,N19
急性肾损伤|N17
肾损伤|N17,N18,N19,S37.0
透析|N18,Z49,Z99.2
肾性贫血|D63.8,N18
IgA肾病/免疫球蛋白A肾病|N02,N03,N04,N05
C3肾小球病|N03,N05,N07
溶血性尿毒症综合征|D59.3
贫血|D50,D51,D52,D53,D55,D56,D57,D58,D59,D60,D61,D62,D63,D64
缺铁性贫血|D50
缺铁|D50,E61.1
巨幼红细胞性贫血/巨幼细胞贫血|D51,D52,D53.1
再生障碍性贫血|D60,D61
地中海贫血|D56
骨髓增生异常综合征|D46
阵发性睡眠性血红蛋白尿|D59.5
血小板减少|D69
免疫性血小板减少/血小板减少性紫癜|D69.3
血友病|D66,D67,D68
甲(A)型血友病/A型血友病/甲型血友病/凝血因子Ⅷ缺乏|D66
乙(B)型血友病/B型血友病/乙型血友病/凝血因子Ⅸ缺乏|D67
获得性血友病|D68
凝血因子Ⅶ缺乏|D68.2
血小板膜糖蛋白|D69.1
纤维蛋白溶解亢进/纤溶亢进|D65,D68
骨髓纤维化|D47.1,D75.8
真性红细胞增多症|D45
原发性血小板增多症|D47.3
中性粒细胞减少/粒细胞缺乏|D70
免疫缺陷|D80,D81,D82,D83,D84,B20,B21,B22,B23,B24
原发性免疫球蛋白缺乏|D80
遗传性血管性水肿|D84.1
Castleman病|D47.7,R59
朗格汉斯细胞组织细胞增生症|C96.0,C96.5,C96.6,D76.0
组织细胞肿瘤|C96
川崎病|M30.3
肺炎|J12,J13,J14,J15,J16,J17,J18
肺炎链球菌/肺炎克雷伯菌/肺炎支原体/肺炎衣原体/流感嗜血杆菌/副流感嗜血杆菌|
曲霉菌肺炎/曲霉/侵袭性曲霉病|B44
哮喘|J45,J46
支气管炎|J20,J40,J41,J42
支气管扩张|J47
慢性阻塞性肺/慢阻肺|J44
下呼吸道感染|J1,J20,J21,J22,J4
鼻窦炎/急性窦炎|J01,J32
鼻息肉|J33
间质性肺疾病/间质性肺病|J84
特发性肺纤维化/肺纤维化|J84.1
流感/流行性感冒|J09,J10,J11
新型冠状病毒/COVID-19|U07.1,U07.2
结核/耐多药结核|A15,A16,A17,A18,A19
败血症/脓毒症|A40,A41
新生儿败血症|P36
菌血症|A40,A41,A49
甲氧西林耐药|A40,A41,A49,B95
中枢神经系统感染|G0
皮肤及软组织感染/皮肤软组织感染/皮肤和软组织感染|L0,A46
腹腔感染|K35,K57,K63,K65,K81
手术后感染|T81.4
阿米巴病|A06
真菌感染|B35,B36,B37,B38,B39,B4
毛霉/接合菌|B46
念珠菌/念球菌/假丝酵母菌|B37
念珠菌性外阴阴道/外阴阴道假丝酵母菌|B37.3
巨细胞病毒|B25
乙型肝炎/乙肝/HBV感染|B16,B18.0,B18.1,Z22.5
丙型肝炎/丙肝/HCV感染|B17.1,B18.2
艾滋病/获得性免疫缺陷综合征/HIV感染/艾滋病病毒感染|B20,B21,B22,B23,B24,Z21
人体免疫缺陷病毒/(HIV)阴性/HIV阴性|
麻疹|B05
破伤风|A33,A34,A35,Z23.5
癫痫|G40,G41
帕金森|G20
阿尔茨海默|G30,F00
多发性硬化|G35
视神经脊髓炎|G36.0
重症肌无力|G70.0
格林巴利/吉兰-巴雷|G61.0
脊髓性肌萎缩|G12
注意缺陷多动障碍/ADHD/多动障碍|F90
精神分裂症|F20
抑郁|F32,F33
类风湿关节炎|M05,M06
幼年特发性关节炎|M08
强直性脊柱炎|M45
中轴性脊柱关节炎/中轴型脊柱关节炎|M45,M46
银屑病|L40
银屑病关节炎|L40.5,M07
特应性皮炎|L20
系统性红斑狼疮|M32
系统性硬化病|M34
骨关节炎|M15,M16,M17,M18,M19
膝骨关节炎|M17
烧伤|T2,T30,T31,T32
结节性硬化|Q85.1
面部血管纤维瘤|Q85.1,D23
神经纤维瘤病/丛状神经纤维瘤|Q85.0,D36.1
黄斑变性/年龄相关性黄斑变性|H35.3
黄斑水肿|H35.8,H36.0
脉络膜新生血管|H31,H35
青光眼|H40
白内障|H25,H26
器官移植|Z94,T86
移植物排斥/排斥反应/排异反应/抗排异|T86
肝脏或肾脏移植/肾脏移植/肾移植|Z94.0,T86.1,Z94.4,T86.4
造血干细胞移植/干细胞移植|Z94.8,T86.0
移植物抗宿主病|T86.0,D89.8
肺癌/非小细胞肺癌/小细胞肺癌|C34
乳腺癌|C50
胃癌/胃腺癌|C16
胃-食管结合部腺癌/胃食管结合部腺癌|C16.0
食管癌|C15
结直肠癌|C18,C19,C20
结肠癌|C18
直肠癌|C20
肝癌/肝细胞癌/原发性肝癌|C22
胆管癌|C22.1,C24
胰腺癌|C25
神经内分泌瘤/神经内分泌肿瘤/胃肠胰内分泌肿瘤|C1,C2,C34,D37
胃肠道间质瘤/胃肠间质瘤|C1,C2,C48,C49
前列腺癌|C61
卵巢癌|C56
输卵管癌|C57
原发性腹膜癌/腹膜癌|C48
宫颈癌|C53
子宫内膜癌|C54
肾细胞癌/肾癌|C64
尿路上皮癌|C65,C66,C67,C68
膀胱癌|C67
黑色素瘤|C43
基底细胞癌|C44
鼻咽癌|C11
头颈部鳞状细胞癌/头颈部鳞癌/头颈部肿瘤|C0,C10,C11,C12,C13,C14,C30,C31,C32,C76.0
甲状腺癌/甲状腺髓样癌|C73
甲状腺手术|C73,D34,E01,E04,E05,E06
骨巨细胞瘤|D48.0,C40,C41
淋巴瘤|C81,C82,C83,C84,C85,C86,C88
霍奇金淋巴瘤|C81
非霍奇金淋巴瘤|C82,C83,C84,C85
弥漫大B细胞淋巴瘤/弥漫大B细胞性|C83.3
滤泡性淋巴瘤|C82
套细胞淋巴瘤|C83.1
小淋巴细胞淋巴瘤|C83.0,C91.1
边缘区淋巴瘤|C83.8,C88.4
外周T细胞淋巴瘤|C84.4
间变性大细胞淋巴瘤|C84.6,C84.7
T细胞淋巴瘤|C84
华氏巨球蛋白血症|C88.0
白血病|C91,C92,C93,C94,C95
急性髓系白血病/急性髓性白血病|C92.0
慢性髓细胞白血病/慢性髓性白血病/慢性粒细胞白血病|C92.1
慢性淋巴细胞白血病|C91.1
急性淋巴细胞白血病|C91.0
多发性骨髓瘤|C90
实体瘤|C
间变性淋巴瘤激酶/肿瘤坏死因子/表皮生长因子/血管内皮生长因子/血小板衍生生长因子|
神经营养酪氨酸受体激酶/免疫调节剂/骨髓恶性|
前列腺增生|N40
经尿道前列腺切除术|N40,C61
泌尿外科手术|N,C6,D29,D30,D40,D41
子宫肌瘤|D25
子宫内膜异位症|N80
辅助生殖|Z31
生育保险|O,Z3
术后疼痛|R52,T81,G89
~恶性肿瘤/癌症/癌|C
~肿瘤|C,D0,D1,D2,D3,D4
~化疗/放疗/放化疗|Z51,C,D4
"""


def _parse(table: str) -> tuple[tuple[str, tuple[str, ...], bool], ...]:
    out = []
    for line in table.strip().splitlines():
        names, _, codes = line.partition("|")
        weak = names.startswith("~")
        prefixes = tuple(c.strip() for c in codes.split(",") if c.strip())
        for name in names.lstrip("~").split("/"):
            out.append((unicodedata.normalize("NFKC", name.strip()), prefixes, weak))
    return tuple(out)


BUILTIN = _parse(_TABLE)


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
def _table() -> tuple[tuple[str, tuple[str, ...], bool], ...]:
    entries = list(BUILTIN)
    path = _shared_dictionary()
    if path and path.exists():
        known = {name for name, _, _ in entries}
        entries.extend(e for e in _read_dictionary(path) if e[0] not in known)
    # Longest keyword first; on equal length the built-in entry (earlier in the list) wins.
    order = {id(e): i for i, e in enumerate(entries)}
    return tuple(sorted(entries, key=lambda e: (-len(e[0]), order[id(e)])))


def _read_dictionary(path: Path) -> list[tuple[str, tuple[str, ...], bool]]:
    """西医诊断 categories of the national dictionary (type, code, name, group); other types are not ICD-10."""
    out = []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames or []
        type_col = next((f for f in fields if "类型" in f), None)
        code_col = next((f for f in fields if "编码" in f or "代码" in f), None)
        name_col = next((f for f in fields if "名称" in f and "归并" not in f), None)
        if not code_col or not name_col:
            return out
        for row in reader:
            if type_col and (row.get(type_col) or "").strip() not in ("西医诊断", ""):
                continue
            code = (row.get(code_col) or "").strip().upper().rstrip(".")
            if not re.fullmatch(r"[A-Z]\d{2}(\.\d{1,2})?", code):
                continue
            raw = unicodedata.normalize("NFKC", (row.get(name_col) or "").strip())
            # "特发性(原发性)高血压" → 特发性高血压; "骨佩吉特病[畸形性骨炎]" → both names.
            for name in [re.sub(r"\(.*?\)|\[.*?\]", "", raw), *re.findall(r"\[(.*?)\]", raw)]:
                name = name.strip()
                generic = re.search(r"其他|未特指|不可归类|并发症", name)
                if len(name) >= 3 and not name.isascii() and "," not in name and not generic:
                    out.append((name, (code,), False))
    return out


def prefixes_for(text: str) -> list[str]:
    """ICD-10 prefixes for every disease named in ``text`` (empty when nothing is recognised)."""
    text = unicodedata.normalize("NFKC", text or "")
    taken = [False] * len(text)
    strong: list[tuple[int, tuple[str, ...]]] = []
    weak: list[tuple[int, tuple[str, ...]]] = []
    for keyword, prefixes, is_weak in _table():
        start = text.find(keyword)
        while start >= 0:
            end = start + len(keyword)
            if not any(taken[start:end]):
                taken[start:end] = [True] * (end - start)
                if prefixes:
                    (weak if is_weak else strong).append((start, prefixes))
            start = text.find(keyword, start + 1)
    found: list[str] = []
    for _, prefixes in sorted(strong or weak):
        found.extend(p for p in prefixes if p not in found)
    return [p for p in found if not any(q != p and p.startswith(q) for q in found)]
