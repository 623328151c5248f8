"""Knowledge-base tables: merged knowledge points with typed limits, their codes, and their provenance.

A knowledge point (知识点) belongs to a rule class (e.g. 药品区分性别使用) and names one or more national
codes. The limits the rules need are typed columns (``gend``, ``age_max`` …), filled from the
structured sources (workbooks, our own JSON ``params``) or derived from the constraint text; what could
not be derived is listed in ``unmapped``. Every source row that contributed to a point is kept in
``kb_point_sources``.
"""

from __future__ import annotations

# Typed limit columns: (column, SQL type, meaning). ``params`` keys in JSON use the same names.
LIMIT_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("gend", "VARCHAR", "限定性别：1 男，2 女"),
    ("age_min", "DOUBLE", "最小年龄（岁，含）"),
    ("age_max", "DOUBLE", "最大年龄（岁，不含）"),
    ("age_max_days", "INTEGER", "最大日龄（天，含），新生儿为 28"),
    ("insutypes", "VARCHAR", "允许的险种，';' 分隔（空 = 基本医疗保险基金不予支付）"),
    ("min_hosp_grade", "INTEGER", "最低医疗机构级别：1 一级，2 二级，3 三级"),
    ("med_types", "VARCHAR", "允许的医疗类别（med_type 前缀），';' 分隔"),
    ("max_days", "INTEGER", "最长支付天数/疗程（天）"),
    ("min_interval_days", "INTEGER", "两次使用的最短间隔（天）"),
    ("max_cnt", "DOUBLE", "数量上限"),
    ("period", "VARCHAR", "频次的计算单位：日、次住院、次就诊、月、年"),
    ("period_days", "INTEGER", "周期天数（周期超频次）"),
    ("icd_prefixes", "VARCHAR", "适应症对应的诊断编码前缀，';' 分隔"),
    ("first_line_codes", "VARCHAR", "一线用药编码，';' 分隔"),
    ("group_name", "VARCHAR", "手术折价组别"),
    ("discount", "DOUBLE", "第二及以后手术的计价比例（默认 0.5）"),
    ("scope", "VARCHAR", "重复收费的时间范围：同日、同次就诊"),
)

KB_DDL = (
    "CREATE SEQUENCE IF NOT EXISTS seq_kb_import START 1",
    """CREATE TABLE IF NOT EXISTS kb_imports (
        import_id BIGINT PRIMARY KEY, file_name VARCHAR, file_path VARCHAR, file_hash VARCHAR, source_kind VARCHAR,
        imported_at TIMESTAMP, rows_in BIGINT, points_new BIGINT, points_merged BIGINT, rows_rejected BIGINT,
        message VARCHAR)""",
    f"""CREATE TABLE IF NOT EXISTS kb_points (
        kp_id VARCHAR PRIMARY KEY, rule_class VARCHAR, gz_code VARCHAR, level1 VARCHAR, level2 VARCHAR,
        item_name VARCHAR, constraint_text VARCHAR, detect_logic VARCHAR, batch VARCHAR, published_at DATE,
        effective_from DATE, effective_to DATE, supersedes VARCHAR, superseded_by VARCHAR,
        {', '.join(f'{c} {t}' for c, t, _ in LIMIT_COLUMNS)},
        unmapped VARCHAR, merge_key VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS kb_point_codes (
        kp_id VARCHAR, hilist_code VARCHAR, role VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS kb_point_sources (
        kp_id VARCHAR, import_id BIGINT, source_kind VARCHAR, file_name VARCHAR, source_row BIGINT,
        source_id VARCHAR, batch VARCHAR, published_at DATE, fields VARCHAR)""",
    # Project knowledge (not national 两库 classes): code relations such as service ↔ included consumable.
    # rel_type values are listed in RELATION_TYPES.
    """CREATE TABLE IF NOT EXISTS kb_relations (
        rel_type VARCHAR, code_a VARCHAR, code_b VARCHAR, name_a VARCHAR, name_b VARCHAR, value DOUBLE,
        note VARCHAR, source VARCHAR)""",
)


RELATION_TYPES: dict[str, str] = {
    "service_consumable": "医疗服务项目(code_a)的价格已包含该医用耗材(code_b)，不可另行收费",
    "bundle_part": "打包项目(code_a)的组成部分(code_b)；value 为打包价（可空，空时取目录限价）",
    "substitution": "串换对：实际提供的低价项目(code_a)被按高价项目(code_b)收费",
    "non_medical_goods": "药店不得用医保结算的非医疗商品：编码或编码前缀(code_a)，name_a 为品名",
    "diag_family": "诊断编码前缀(code_a)属于同一疾病族(code_b)，用于判断“相同或相关诊断”",
    "planned_cycle": "计划性分次治疗的诊断编码前缀(code_a)（化疗、放疗、透析等），分解住院不计",
    "diag_gender": "仅见于某一性别(code_b：1 男，2 女)的诊断编码前缀(code_a)",
    "diag_age": "诊断编码前缀(code_a)只适用于 value 岁以下（note=max）或以上（note=min）的患者",
    "oprn_gender": "仅用于某一性别(code_b)的手术操作编码前缀(code_a)",
    "light_diag": "一般不需要住院的轻症诊断编码前缀(code_a)",
    "item_subject": "医疗服务项目(code_a)须由核准了诊疗科目(code_b，如 A32 医学影像科；name_b 为科目名称)的机构开展",
}


def init_kb_schema(con) -> None:
    for ddl in KB_DDL:
        con.execute(ddl)
