"""Workbook reader: one tiny hand-written workbook per national layout (batches 1–8)."""

from __future__ import annotations

import pytest

from fundguard.kb.xlsx import XlsxLayoutError, batch_of, read_workbook
from tests.kb.conftest import write_workbook

DRUG_SHEET2 = ["药品通用名", "序号", "国标代码", "限定类型"]


def _by_name(records):
    return {r.item_name: r for r in records}


def test_batch_number_from_the_file_name():
    assert batch_of("【第一批】药品规则库(限定性别对象).xlsx") == "1"
    assert batch_of("【第八批-3】项目规则库（限定疗程）.xlsx") == "8"
    assert batch_of("【第七批 】项目规则库（重复收费）.xlsx") == "7"
    assert batch_of("其他.xlsx") is None


def test_drug_gender_takes_every_code_from_sheet2(tmp_path):
    path = write_workbook(
        tmp_path / "【第一批】药品规则库(限定性别对象).xlsx",
        ("Sheet1", [["药品通用名", "药品说明", "限定类型", "限定对象"],
                    ["阿帕他胺片", "限转移性激素敏感性前列腺癌患者。", "限定性别对象", "男"],
                    ["艾附暖宫丸", "理气补血，暖宫调经。", "限定性别对象", "女"],
                    ["无编码药", "说明", "限定性别对象", "女"]]),
        ("Sheet2", [["药品通用名", "序号", "药品代码", "限定类型"],
                    ["阿帕他胺片", 2, "XL02BBA326A001010178537", "限定性别对象"],
                    ["阿帕他胺片", 1, "XL02BBA326A001010102180", "限定性别对象"],
                    ["艾附暖宫丸", 1, "ZD03AAA0043010100166", "限定性别对象"]]))
    records, rejected = read_workbook(path)
    got = _by_name(records)
    assert got["阿帕他胺片"].codes == [("XL02BBA326A001010102180", ""), ("XL02BBA326A001010178537", "")]
    assert got["阿帕他胺片"].rule_class == "药品区分性别使用"
    assert (got["阿帕他胺片"].limits, got["艾附暖宫丸"].limits) == ({"gend": "1"}, {"gend": "2"})
    assert got["艾附暖宫丸"].structured == {"gend"}
    r = got["阿帕他胺片"]
    assert (r.source_kind, r.file_name, r.source_row, r.batch) == ("xlsx", path.name, 2, "1")
    assert rejected == [(4, "药品区分性别使用「无编码药」Sheet2 中没有该药品的国家编码，无法用于审核")]


def test_drug_age_rows_split_into_children_only_and_limited_to_children(tmp_path):
    path = write_workbook(
        tmp_path / "【第一批】药品规则库(限定年龄对象).xlsx",
        ("Sheet1", [["药品通用名", "药品说明", "限定类型", "限定对象"],
                    ["儿童清肺口服液", "清肺，化痰，止咳。", "限定年龄对象", "儿童"],
                    ["玛巴洛沙韦干混悬剂", "限5至12岁以下单纯性甲型和乙型流感儿童患者。", "限定年龄对象", "儿童"]]),
        ("Sheet2", [DRUG_SHEET2, ["儿童清肺口服液", 1, "ZA04CAE0023010100166", "限定年龄对象"],
                    ["玛巴洛沙韦干混悬剂", 1, "XJ05AXM001A001010100001", "限定年龄对象"]]))
    got = _by_name(read_workbook(path)[0])
    assert got["儿童清肺口服液"].rule_class == "药品儿童专用"
    assert got["玛巴洛沙韦干混悬剂"].rule_class == "药品限儿童使用"
    assert got["儿童清肺口服液"].limits == {}  # "儿童" alone is not precise: the importer derives 18 from the text


def test_item_gender_age_and_surgery_groups(tmp_path):
    gender = write_workbook(
        tmp_path / "【第一批】项目规则库(限定性别对象).xlsx",
        ("Sheet1", [["项目名称", "项目说明", "国标代码", "限定类型", "限定性别"],
                    ["子宫造影", "女性泌尿生殖系统相关检查", "002101030300000", "限定性别对象", "女"]]))
    age = write_workbook(
        tmp_path / "【第一批】项目规则库(限定年龄对象).xlsx",
        ("Sheet1", [["项目名称", "国标代码", "限定类型", "限定对象"],
                    ["新生儿洗胃", "003112020060000", "限定年龄对象", "新生儿"],
                    ["婴儿氧舱治疗", "003112020010000", "限定年龄对象", "婴幼儿"],
                    ["儿童听力障碍语言训练", 3402000350000, "限定年龄对象", "儿童"]]))
    surgery = write_workbook(
        tmp_path / "【第二批】项目规则库（限定主次操作）.xlsx",
        ("Sheet1", [["项目名称", "项目说明", "国标代码", "限定类型", "限定值域"],
                    ["胃扭转复位术", "经同一切口进行的两种及以上不同的手术…", "003310020100000", "限定主次操作", "胃肠手术组"]]))
    [g] = read_workbook(gender)[0]
    assert (g.rule_class, g.limits, g.codes) == ("医疗服务项目区分性别使用", {"gend": "2"}, [("002101030300000", "")])
    a = _by_name(read_workbook(age)[0])
    assert a["新生儿洗胃"].limits == {"age_max_days": 28, "age_max": 1}
    assert a["婴儿氧舱治疗"].limits == {"age_max": 3}
    assert a["儿童听力障碍语言训练"].codes == [("003402000350000", "")]  # numeric cell: leading zeros restored
    assert {r.rule_class for r in a.values()} == {"医疗服务项目儿童专用"}
    [s] = read_workbook(surgery)[0]
    assert (s.rule_class, s.limits, s.batch) == ("手术项目未按规定折价收费", {"group_name": "胃肠手术组"}, "2")


@pytest.mark.parametrize("kind, value, rule_class, limits", [
    ("限定保险类型", "工伤", "药品限工伤保险", {"insutypes": ""}),
    ("限定保险类型", "生育", "药品限生育保险", {"insutypes": "510"}),
    ("限定机构等级", "二级", "药品限医疗机构级别", {"min_hosp_grade": 2}),
    ("限定机构等级", "三级", "药品限医疗机构级别", {"min_hosp_grade": 3}),
    ("限定支付疗程", "14天", "药品限支付疗程", {"max_days": 14}),
    ("限定支付疗程", "365天", "药品限支付疗程", {"max_days": 365}),
    ("限定就医方式", "住院", "药品限就医方式", {"med_types": "21;22;23;24;28;52"}),
])
def test_drug_value_layouts(tmp_path, kind, value, rule_class, limits):
    path = write_workbook(
        tmp_path / f"【第三批】药品规则库（{kind}）.xlsx",
        ("Sheet1", [["药品通用名", "药品说明", "限定类型", "限定值域"], ["某药", "说明文字", kind, value]]),
        ("Sheet2", [DRUG_SHEET2, ["某药", 1, "XA01AAA001A001010100001", kind]]))
    [rec] = read_workbook(path)[0]
    assert (rec.rule_class, rec.limits, rec.batch) == (rule_class, limits, "3")


def test_duplicate_pairs_keep_roles_scope_and_skip_blank_rows(tmp_path):
    path = write_workbook(
        tmp_path / "【第七批 】项目规则库（重复收费）.xlsx",
        ("“医疗服务项目重复收费”规则对应知识点明细",
         [["序号", "频度", "主项名称", "主项编码", "从项名称", "从项编码", "备注"],
          [1, "单日", "急诊监护费", "001103000010000", "急诊诊查费", "001102000030000", "含监护、床位、诊查、护理"],
          [2, "单次就诊", "A项", "001", "B项", "002", "含B"],
          [3, "6小时", "C项", "003", "D项", "004", "含D"],
          [4, "同一小时", "E项", "005", "F项", "006", "含F"],
          [None] * 7,
          [5, "单日", "G项", "007", "H项", None, "缺从项编码"]]))
    records, rejected = read_workbook(path)
    first = records[0]
    assert first.rule_class == "医疗服务项目重复收费"
    assert first.codes == [("001103000010000", "A"), ("001102000030000", "B")]
    assert first.item_name == "急诊监护费×急诊诊查费" and first.constraint == "含监护、床位、诊查、护理"
    assert [r.limits["scope"] for r in records] == ["同日", "同次就诊", "6小时", "同一小时"]
    assert rejected == [(7, "重复收费知识点需要主项编码和从项编码")]  # the blank row 6 is no data


def test_frequency_rejects_total_and_note_rows_with_reasons(tmp_path):
    path = write_workbook(
        tmp_path / "【第八批-1】项目规则库（限定频次）.xlsx",
        ("“医疗服务项目限定频次”规则对应知识点明细",
         [["序号", "项目名称", "限制数量", "数量单位", "项目编码"],
          [1, "住院诊查费", 1, "日", "001102000050000"],
          [2, "呼吸机辅助呼吸", 24, "小时", "003106030010000"],
          ["合计", None, None, None, None],
          ["备注：各省应细化和本地化。", None, None, None, None]]))
    records, rejected = read_workbook(path)
    assert [(r.limits, r.constraint) for r in records] == [
        ({"max_cnt": 1, "period": "日"}, "日"), ({"max_cnt": 24, "period": "日"}, "小时")]
    assert rejected == [(4, "合计行，不是知识点"), (5, "说明文字，不是知识点：备注：各省应细化和本地化。")]


def test_batch8_remark_layouts_by_sheet_title_or_file_name(tmp_path):
    header = ["序号", "项目名称", "备注", "项目代码"]
    age = write_workbook(tmp_path / "【第八批-2】项目规则库（限定年龄）.xlsx",
                         ("Sheet1", [header, [1, "职业功能训练", "参保人年龄超出法定就业年龄限制", "003402000320000"]]))
    course = write_workbook(tmp_path / "course.xlsx",
                            ("“医疗服务项目限支付疗程”规则对应知识点明细",
                             [header, [1, "手功能评定", "总时间不超过90天，评定间隔时间不短于14天。", "003402000050000"]]))
    period = write_workbook(tmp_path / "【第八批-4】项目规则库（限定周期）.xlsx",
                            ("Sheet1", [["序号", "项目名称", "频次上限", "疗程周期", "备注", "项目代码"],
                                        [1, "血清果糖胺测定", 1, 7, "反映近2-3周的平均血糖水平。", "002503020020000"]]))
    assert [r.rule_class for r in read_workbook(age)[0]] == ["医疗服务项目限年龄"]
    [c] = read_workbook(course)[0]
    assert c.rule_class == "医疗服务项目限支付疗程" and c.constraint.startswith("总时间不超过90天")
    [p] = read_workbook(period)[0]
    assert (p.rule_class, p.limits) == ("医疗服务项目周期超频次", {"max_cnt": 1, "period_days": 7})


def test_unknown_layout_and_broken_file_are_clear_errors(tmp_path):
    other = write_workbook(tmp_path / "其他.xlsx", ("Sheet1", [["项目名称", "金额"], ["x", 1]]))
    with pytest.raises(XlsxLayoutError, match="无法识别工作簿 其他.xlsx 的版式"):
        read_workbook(other)
    bad = tmp_path / "坏文件.xlsx"
    bad.write_bytes(b"not a workbook")
    with pytest.raises(XlsxLayoutError, match="无法打开知识库工作簿"):
        read_workbook(bad)
