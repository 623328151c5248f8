"""Configuration, summary and fixed code lists of the synthetic city generator."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

GENERATOR_VERSION = "fundguard-synth 1.0"

SCHEMES: dict[str, str] = {
    "A01": "重复收费(项目对)", "A02": "医疗服务项目与医用耗材重复收费", "A03": "分解收费",
    "A04": "超标准收费/超限定单价", "A05": "手术项目未按规定折价", "A06": "超限定频次/周期超频次",
    "A07": "计费日期与住院时间不符", "A08": "床位费/护理费天数超住院天数", "A09": "医用耗材超比例加价",
    "A10": "目录外/自创项目", "A11": "串换(低价套高价,销量超进货)", "A12": "医嘱与收费明细不符",
    "B01": "区分性别使用", "B02": "儿童/新生儿限定", "B03": "限工伤/生育保险", "B04": "限医疗机构级别",
    "B05": "限就医方式", "B06": "限支付疗程/最大天数", "B07": "限适应症", "B08": "限二线使用",
    "B09": "中药饮片不予支付", "B10": "超互联网医院药品支付范围", "B11": "诊断/手术与性别年龄不符",
    "B12": "超量开药/重复开药",
    "C01": "分解住院", "C02": "挂床住院", "C03": "无指征住院/诱导住院", "C04": "虚假住院/冒名就医",
    "C05": "频繁住院/门诊/购药", "C06": "为非定点或中止协议机构结算", "C07": "超诊疗范围(与资质不符)",
    "C08": "药店销售生活用品化妆品", "C09": "药品耗材进销存不符",
    "D01": "高频住院人员", "D02": "入院时间集中(机构)", "D03": "出院报销金额接近(机构)", "D04": "重点人群轻症住院",
    "D05": "本院职工多次在本院住院", "D06": "一年内多次在同一机构住院", "D07": "同村/同户同时在同一机构住院",
    "D08": "重点领域异常(机构)", "D09": "药品耗材基金使用异常增长",
}
SCHEME_CODES = list(SCHEMES)
SCHEME_IDX = {c: i for i, c in enumerate(SCHEME_CODES)}

# Encounter kinds (internal) and their national med_type.
K_OP, K_CHR, K_DIAL, K_PH, K_NET, K_IP, K_DS, K_MOP, K_MIP = range(9)
KIND_IP = (K_IP, K_DS, K_MIP)
CHRONIC_MED_TYPES = {"DM": ("140104", "糖尿病"), "HTN": ("140201", "高血压"), "IHD": ("140302", "冠心病"),
                     "COPD": ("140401", "慢性阻塞性肺疾病"), "DIAL": ("140501", "尿毒症透析")}
INPATIENT_MED_TYPES = ("21", "22", "23", "24", "28", "52")


@dataclass
class SynthConfig:
    persons: int = 20000
    seed: int = 42
    out_dir: Path = Path("out/city")
    fmt: str = "parquet"
    violation_rate: float = 0.02
    year: int = 2025
    chunk_persons: int = 5000

    def __post_init__(self) -> None:
        self.out_dir = Path(self.out_dir)
        if self.fmt not in ("parquet", "csv"):
            raise ValueError(f"不支持的输出格式 {self.fmt!r}，可选 parquet、csv")
        if self.persons < 200:
            raise ValueError("人数至少为 200")
        if not 0.0 <= self.violation_rate <= 0.5:
            raise ValueError("违规注入比例应在 0 到 0.5 之间")


@dataclass
class SynthSummary:
    rows: dict[str, int] = field(default_factory=dict)
    fee_lines: int = 0
    elapsed_s: float = 0.0
    schemes: dict[str, int] = field(default_factory=dict)
    out_dir: Path = Path(".")
