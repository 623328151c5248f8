"""The named screens (筛查方案): id, Chinese name, whom they rank, parameters and where they come from.

Every screen writes rows to ``screen_results`` with a ``strength`` in [0, 1] (how strongly the subject shows the
pattern, after the documented saturating transform) and a Chinese ``reason`` naming the facts. The risk score
reads the strengths; parameters can be overridden per run (``run_screening(params=…)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Param:
    default: Any
    desc: str


@dataclass(frozen=True)
class ScreenDef:
    screen_id: str
    name: str
    subjects: tuple[str, ...]
    basis: str
    description: str
    params: dict[str, Param] = field(default_factory=dict)


SCREENS: tuple[ScreenDef, ...] = (
    ScreenDef("S01", "高频住院", ("person",), "种子文件004：住院频次较高；国家规则“频繁住院”",
              "参保人在期间内住院次数（不含化疗、放疗、透析等计划性治疗）达到阈值；期间不足一年时阈值按天数折算。",
              {"min_admissions": Param(4, "一年内住院达到此次数即命中（按期间天数折算，至少 2 次）"),
               "full_at": Param(8, "达到此次数时强度为 1")}),
    ScreenDef("S02", "入院时间集中", ("medins", "person"), "种子文件004：入院时间较为集中",
              "按机构逐日（及逐周）统计入院人次，与该机构前后 baseline_days 天的日均入院（按全市星期规律修正）比较，"
              "泊松上尾概率低于 p_max 且当日入院不少于 min_day 人的为入院高峰日；机构强度取高峰日入院占全部住院的比例。",
              {"min_day": Param(5, "高峰日至少入院人数"), "min_week": Param(12, "高峰周至少入院人数"),
               "p_max": Param(1e-6, "泊松上尾概率阈值"), "baseline_days": Param(14, "基线窗口（前后各多少天）"),
               "min_admissions": Param(20, "机构期间住院少于此数不筛查"),
               "full_share": Param(0.3, "高峰日入院占比达到此值时强度为 1")}),
    ScreenDef("S03", "出院结算金额接近", ("medins",), "种子文件004：出院报销金额接近",
              "把机构的住院结算总费用按对数等宽（width）分箱，某一金额箱的人次达到 min_cluster 且是周围金额平均人次的 "
              "spike_ratio 倍以上、涉及至少 min_dx 种不同主诊断且没有一种主诊断超过 max_top_dx 的，视为“模板化”金额；强度取落在这些金额上的住院占比。",
              {"width": Param(0.005, "金额分箱宽度（相对值，0.005 即 0.5%）"), "min_cluster": Param(5, "金额箱至少人次"),
               "spike_ratio": Param(5.0, "金额箱人次相对周围（±10%金额）平均人次的倍数"),
               "min_dx": Param(3, "同一金额涉及的不同主诊断至少种数（同病种同价的标准化手术不算）"),
               "max_top_dx": Param(0.5, "同一金额中最多的一种主诊断所占比例至多（白内障日间手术等单一术式不算）"),
               "min_stays": Param(20, "机构期间住院少于此数不筛查"),
               "full_share": Param(0.3, "模板化金额住院占比达到此值时强度为 1")}),
    ScreenDef("S04", "重点人群轻症住院", ("medins", "person"),
              "种子文件004：建档立卡贫困户、五保户、老年病轻症患者住院、眼科微创等日间手术；种子文件003：低保、特困人员",
              "特殊人群（低保、特困、五保、建档立卡/监测对象）或老年人（≥ elderly_age 岁）以轻症诊断住院；机构按此类住院占比与"
              "同类机构比较（稳健 z），人员按此类住院次数；眼科日间手术人次按同类机构比较。",
              {"elderly_age": Param(60, "老年人年龄下限"), "z_min": Param(3.0, "机构占比稳健 z 至少"),
               "min_share": Param(0.1, "机构此类住院占比至少"), "min_stays": Param(10, "机构期间住院少于此数不筛查")}),
    ScreenDef("S05", "本院职工本院住院", ("person", "medins"), "种子文件003：本院职工一年内多次在本院住院的",
              "定点机构职工（medins_staff 中有参保编号）在本机构住院；人员达到 min_stays 次为多次。",
              {"min_stays": Param(2, "一年内在本院住院达到此次数为多次")}),
    ScreenDef("S06", "同一机构多次住院", ("person", "medins"), "种子文件003：一年内多次在同一定点医疗机构住院的",
              "参保人在同一机构住院（不含计划性治疗）达到 min_stays 次；机构按此类人员住院占比与同类比较。",
              {"min_stays": Param(3, "同一机构住院次数至少"), "full_at": Param(6, "达到此次数时强度为 1")}),
    ScreenDef("S07", "同户同村同期住院", ("person", "medins"), "种子文件003：同村或同一家庭成员同一时间在同一定点医疗机构住院的",
              "同一村（vlg_code）至少 min_village 人、或同一户（fmly_no）至少 min_household 人在 window_days 天内入住同一机构；"
              "按该村/户平时的住院量与该机构的住院份额算出期望人数，泊松上尾概率低于 p_max 的为异常聚集事件"
              "（不含生育住院和 1 岁以下婴儿陪同母亲的住院）。事件强度 = −log10(p)/12（封顶 1）。",
              {"window_days": Param(1, "同期窗口天数（1 为同一天入院）"), "min_village": Param(3, "同村至少人数"),
               "min_household": Param(2, "同户至少人数"), "p_max": Param(1e-4, "泊松上尾概率阈值")}),
    ScreenDef("S08", "重点领域费用异常", ("medins",),
              "种子文件003：重症医学、麻醉、肺部肿瘤、骨科、血透、心内、检查、检验、医学影像、康复",
              "机构在各重点领域的费用占比与同类机构比较，稳健 z ≥ z_min、水位 ≥ P90 且占比 ≥ min_share 的命中；"
              "没有可比同类（只能与全部机构比较）的机构不参与。强度 = (z − z_min)/(2·z_min)，封顶 1。",
              {"z_min": Param(4.0, "稳健 z 至少"), "min_share": Param(0.05, "领域费用占比至少")}),
    ScreenDef("S09", "药品耗材基金使用异常", ("item", "medins"), "种子文件003：医保基金使用金额大、存在异常变化的重点药品耗材",
              "按机构×药品耗材统计前后半期使用该品种的就诊人次：后半期人次服从二项分布，其期望比例取该品种在其他机构的前后变化"
              "（其他机构很少使用时取全市总体变化），再乘以本机构整体业务量的变化；p 值低于 p_max 且为预期的 min_ratio 倍以上的"
              "为异常增长（目录换码等全市同步的变化不算）。另列出全市费用最大的品种。强度 = 0.3 + (−log10 p − 6)/20，封顶 1。",
              {"p_max": Param(1e-6, "二项检验 p 值阈值"), "min_ratio": Param(3.0, "相对预期的倍数至少"),
               "min_enc": Param(20, "机构×品种期间使用人次至少"), "min_fee": Param(200.0, "机构×品种期间费用至少（元）"),
               "top_items": Param(20, "列出全市费用最大的品种数")}),
    ScreenDef("S10", "统计指标偏离同类", ("medins",), "国家规则库统计指标 ZB10000205001000–008000",
              "药费、检验检查、耗材、治疗、CT、核磁占比，院内感染率，31 天非计划再入院率，以及住院人次人头比、"
              "平均住院日、次均费用：高于同类机构（稳健 z ≥ z_min 且水位 ≥ P90）的命中，没有可比同类的不参与。",
              {"z_min": Param(4.0, "稳健 z 至少")}),
    ScreenDef("S11", "短期再入院", ("doctor", "medins"), "国家规则“分解住院”；统计指标 31 天非计划再入院",
              "出院后 max_gap 天内在同一机构以相关诊断（同一诊断族）再次入院（不含计划性治疗），按首次住院的经治医师和机构统计。",
              {"max_gap": Param(15, "出院至再入院最多天数"), "full_at": Param(4, "再入院达到此次数时强度为 1")}),
    ScreenDef("S12", "医师经治可疑住院集中", ("doctor",), "种子文件004：诱导住院、虚假住院的经治医师",
              "医师经治的住院中带有筛查疑点（入院高峰日、模板化金额、重点人群轻症、同一机构多次住院、同户同村同期、"
              "本院职工本院住院、短期再入院）的人次与占比。",
              {"min_stays": Param(5, "医师期间住院少于此数不筛查"), "full_count": Param(20, "可疑住院达到此人次时强度不再折减")}),
    ScreenDef("S13", "疑似组织住院团伙", ("group", "person", "medins"), "种子文件003、004：“车接车送、包吃包住”组织住院",
              "人员关系图：同一机构前后 1 天内入院（重复发生，或同村/同户）的人员之间连边，按共同入院次数加权，另加同户关系；"
              "用 Louvain 社区发现（networkx）分团，按规模、重复同期入院、同村集中度、重点人群和轻症比例打分。",
              {"min_size": Param(3, "团伙至少人数"), "coadm_days": Param(1, "同期入院相差天数"),
               "min_strength": Param(0.3, "团伙强度至少（低于此不计入人员与机构风险）"),
               "resolution": Param(0.5, "Louvain 分辨率（越小团伙越大）"), "seed": Param(42, "社区发现随机种子")}),
)
BY_ID = {s.screen_id: s for s in SCREENS}


def params_for(screen_id: str, overrides: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    values = {k: p.default for k, p in BY_ID[screen_id].params.items()}
    for k, v in ((overrides or {}).get(screen_id) or {}).items():
        if k not in values:
            from fundguard.errors import ConfigError

            raise ConfigError(f"筛查方案 {screen_id} 没有参数 {k!r}；可用：{', '.join(values)}")
        values[k] = type(values[k])(v)
    return values


def all_params(overrides: dict[str, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    return {s.screen_id: params_for(s.screen_id, overrides) for s in SCREENS}
