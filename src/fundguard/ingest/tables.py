"""Specifications of every input table: national column names, types, natural keys.

The five national extraction tables carry every column the platform exports (see the header-only
templates in ``shared/data/medimodel/nhsa_extract_templates``); columns not listed in ``types`` are
text. ``required`` columns must be present in the file header; ``not_empty`` columns must hold a
value in every row (a row without one is rejected, never silently dropped).
"""

from __future__ import annotations

from dataclasses import dataclass, field

TS = "TIMESTAMP"
DATE = "DATE"
AMT = "DECIMAL(18,2)"
PRICE = "DECIMAL(18,6)"
QTY = "DECIMAL(18,4)"
RATIO = "DECIMAL(9,4)"
INT = "INTEGER"
TEXT = "VARCHAR"

_AUDIT_COLS = (
    "vali_flag rid updt_time crter_id crter_name crte_time crte_optins_no opter_id opter_name "
    "opt_time optins_no poolarea_no"
)
_AUDIT_TYPES = {"updt_time": TS, "crte_time": TS, "opt_time": TS}


@dataclass(frozen=True)
class TableSpec:
    name: str
    title: str
    key: tuple[str, ...]
    columns: tuple[str, ...]
    required: tuple[str, ...]
    types: dict[str, str] = field(default_factory=dict)
    not_empty: tuple[str, ...] = ()
    national: bool = True

    def type_of(self, column: str) -> str:
        return self.types.get(column, TEXT)

    @property
    def typed_columns(self) -> list[tuple[str, str]]:
        return [(c, self.type_of(c)) for c in self.columns]

    def check(self) -> None:
        known = set(self.columns)
        for group in (self.key, self.required, self.not_empty, tuple(self.types)):
            missing = [c for c in group if c not in known]
            if missing:
                raise ValueError(f"{self.name}: unknown columns {missing}")


def _cols(text: str) -> tuple[str, ...]:
    return tuple(text.split())


MDTRT_D = TableSpec(
    name="mdtrt_d",
    title="就诊信息",
    key=("mdtrt_id",),
    columns=_cols(
        "mdtrt_id medins_setl_id psn_no psn_insu_rlts_id psn_cert_type certno psn_name gend naty brdy age "
        "coner_name tel addr insutype psn_type cvlserv_flag cvlserv_lv sp_psn_type sp_psn_type_lv clct_grde "
        "flxempe_flag nwb_flag insu_admdvs emp_no emp_name emp_type econ_type afil_indu afil_rlts emp_mgt_type "
        "pay_loc fixmedins_code fixmedins_name hosp_lv fix_blng_admdvs lmtpric_hosp_lv dedc_hosp_lv begntime "
        "endtime mdtrt_cert_type mdtrt_cert_no med_type rloc_type ars_year_ipt_flag pre_pay_flag year "
        "refl_old_mdtrt_id ipt_otp_no medrcdno chfpdr_code adm_diag_dscr adm_dept_codg adm_dept_name adm_bed "
        "wardarea_bed traf_dept_flag dscg_maindiag_code dscg_dept_codg dscg_dept_name dscg_bed dscg_way "
        "main_cond_dscr dise_no dise_name oprn_oprt_code oprn_oprt_name otp_diag_info inhosp_stas die_date "
        "ipt_days geso_val birctrl_type fetts fetus_cnt matn_type prey_time latechb_flag pret_flag fpsc_no "
        "birctrl_matn_date cop_flag trt_dcla_detl_sn memo " + _AUDIT_COLS + " chfpdr_name dscg_maindiag_name "
        "adm_caty dscg_caty ttp_pay_flag ttp_pay_prop dise_type_code same_dise_adm_flag quts_type pt"
    ),
    required=_cols("mdtrt_id psn_no gend brdy insutype fixmedins_code hosp_lv begntime endtime med_type"),
    types={
        "brdy": DATE, "age": "DECIMAL(6,2)", "begntime": TS, "endtime": TS, "die_date": DATE,
        "ipt_days": INT, "geso_val": INT, "fetts": INT, "fetus_cnt": INT, "prey_time": TS,
        "birctrl_matn_date": DATE, "ttp_pay_prop": RATIO, **_AUDIT_TYPES,
    },
    not_empty=("psn_no", "fixmedins_code", "begntime", "med_type"),
)

SETL_D = TableSpec(
    name="setl_d",
    title="结算信息",
    key=("setl_id",),
    columns=_cols(
        "setl_id clr_optins medins_setl_id mdtrt_id init_setl_id psn_no psn_insu_rlts_id psn_name psn_cert_type "
        "certno gend naty brdy age insutype psn_type cvlserv_flag cvlserv_lv sp_psn_type sp_psn_type_lv "
        "clct_grde flxempe_flag nwb_flag insu_admdvs emp_no emp_name emp_type econ_type afil_indu afil_rlts "
        "emp_mgt_type pay_loc fixmedins_code fixmedins_name hosp_lv fix_blng_admdvs lmtpric_hosp_lv "
        "dedc_hosp_lv begndate enddate setl_time mdtrt_cert_type mdtrt_cert_no med_type setl_type clr_type "
        "clr_way psn_setlway medfee_sumamt fulamt_ownpay_amt overlmt_selfpay preselfpay_amt inscp_amt dedc_std "
        "crt_dedc act_pay_dedc hifp_pay pool_prop_selfpay hi_agre_sumfee cvlserv_pay hifes_pay hifmi_pay "
        "hifob_pay hifdm_pay maf_pay othfund_pay fund_pay_sumamt psn_pay acct_pay cash_payamt ownpay_hosp_part "
        "balc acct_mulaid_pay refd_setl_flag cal_ipt_cnt setl_cashpay_way year dise_no dise_name invono "
        "manl_reim_rea memo " + _AUDIT_COLS + " mid_setl_flag acct_used_flag quts_type bydise_setl_payamt "
        "exct_item_fund_payamt pt"
    ),
    required=_cols("setl_id mdtrt_id psn_no fixmedins_code setl_time medfee_sumamt hifp_pay fund_pay_sumamt"),
    types={
        "brdy": DATE, "age": "DECIMAL(6,2)", "begndate": DATE, "enddate": DATE, "setl_time": TS,
        **{c: AMT for c in _cols(
            "medfee_sumamt fulamt_ownpay_amt overlmt_selfpay preselfpay_amt inscp_amt dedc_std crt_dedc "
            "act_pay_dedc hifp_pay pool_prop_selfpay hi_agre_sumfee cvlserv_pay hifes_pay hifmi_pay hifob_pay "
            "hifdm_pay maf_pay othfund_pay fund_pay_sumamt psn_pay acct_pay cash_payamt ownpay_hosp_part balc "
            "acct_mulaid_pay bydise_setl_payamt exct_item_fund_payamt")},
        "cal_ipt_cnt": INT, **_AUDIT_TYPES,
    },
    not_empty=("mdtrt_id", "psn_no", "fixmedins_code", "setl_time"),
)

FEE_LIST_D = TableSpec(
    name="fee_list_d",
    title="费用明细",
    key=("bkkp_sn",),
    columns=_cols(
        "bkkp_sn mdtrt_id fee_ocur_time setl_id rx_drord_no fixmedins_code fixmedins_name psn_no "
        "psn_insu_rlts_id insu_admdvs pay_loc med_type cnt pric det_item_fee_sumamt pric_uplmt_amt selfpay_prop "
        "fulamt_ownpay_amt overlmt_selfpay preselfpay_amt inscp_amt cvlserv_bedfee_amt medins_disc_amt "
        "chrgitm_lv hilist_code hilist_name list_type med_list_codg medins_list_codg medins_list_name "
        "med_chrgitm_type prodname spec dosform_name bilg_dept_codg bilg_dept_name bilg_dr_code bilg_dr_name "
        "acord_dept_codg acord_dept_name acord_dr_code acord_dr_name lmt_used_flag hosp_prep_flag hosp_appr_flag "
        "tcmdrug_used_way prodplac_type bas_medn_flag hi_nego_drug_flag prcu_drug_flag chld_medc_flag etip_flag "
        "etip_hosp_code dscg_tkdrug_flag list_sp_item_flag matn_fee_flag drt_reim_flag reim_prop "
        "oprn_oprt_code sin_dos_dscr used_frqu_dscr prd_days medc_way_dscr memo " + _AUDIT_COLS + " "
        "rx_circ_flag dise_codg chrg_bchno init_feedetl_sn comb_no pt"
    ),
    required=_cols(
        "bkkp_sn mdtrt_id setl_id psn_no fixmedins_code fee_ocur_time hilist_code hilist_name med_chrgitm_type "
        "cnt pric det_item_fee_sumamt"
    ),
    types={
        "fee_ocur_time": TS, "cnt": QTY, "pric": PRICE, "det_item_fee_sumamt": AMT, "pric_uplmt_amt": PRICE,
        "selfpay_prop": RATIO, "reim_prop": RATIO, "prd_days": "DECIMAL(10,2)",
        **{c: AMT for c in _cols(
            "fulamt_ownpay_amt overlmt_selfpay preselfpay_amt inscp_amt cvlserv_bedfee_amt medins_disc_amt")},
        **_AUDIT_TYPES,
    },
    not_empty=("mdtrt_id", "psn_no", "fixmedins_code", "fee_ocur_time", "hilist_code"),
)

SETL_LIST_DIAG_D = TableSpec(
    name="setl_list_diag_d",
    title="结算清单诊断",
    key=("setl_list_diag_id",),
    columns=_cols(
        "setl_list_diag_id setl_id mdtrt_id psn_no diag_type maindiag_flag diag_code diag_name adm_cond_type "
        + _AUDIT_COLS + " setl_list_sn pt"
    ),
    required=_cols("setl_list_diag_id mdtrt_id diag_type maindiag_flag diag_code diag_name"),
    types=dict(_AUDIT_TYPES),
    not_empty=("mdtrt_id", "diag_code"),
)

SETL_LIST_OPRN_D = TableSpec(
    name="setl_list_oprn_d",
    title="结算清单手术操作",
    key=("setl_list_oprn_id",),
    columns=_cols(
        "setl_list_oprn_id setl_id psn_no mdtrt_id main_oprn_flag oprn_oprt_name oprn_oprt_code oprn_oprt_date "
        "anst_way oper_dr_name oper_dr_code anst_dr_name anst_dr_code " + _AUDIT_COLS + " anst_begntime "
        "anst_endtime oprn_oprt_begntime oprn_oprt_endtime setl_list_sn pt"
    ),
    required=_cols("setl_list_oprn_id mdtrt_id main_oprn_flag oprn_oprt_code oprn_oprt_name oprn_oprt_date"),
    types={
        "oprn_oprt_date": TS, "anst_begntime": TS, "anst_endtime": TS, "oprn_oprt_begntime": TS,
        "oprn_oprt_endtime": TS, **_AUDIT_TYPES,
    },
    not_empty=("mdtrt_id", "oprn_oprt_code"),
)

MEDINS_INFO = TableSpec(
    name="medins_info",
    title="定点医药机构信息",
    key=("fixmedins_code",),
    columns=_cols(
        "fixmedins_code fixmedins_name fixmedins_type hosp_lv nonpub_flag admdvs agreement_status "
        "agreement_begn_date agreement_end_date medins_type prac_scope aprv_bed_cnt addr"
    ),
    required=_cols(
        "fixmedins_code fixmedins_name fixmedins_type hosp_lv nonpub_flag admdvs agreement_status "
        "agreement_begn_date agreement_end_date"
    ),
    types={"agreement_begn_date": DATE, "agreement_end_date": DATE, "aprv_bed_cnt": INT},
    not_empty=("fixmedins_type",),
    national=False,
)

# ---- project-defined inputs (documented in docs/data-inputs.md) ---------------------------------

PSN_INFO = TableSpec(
    name="psn_info",
    title="参保人员信息（含家庭、村居、特殊人群）",
    key=("psn_no",),
    columns=_cols(
        "psn_no psn_name gend brdy certno insutype psn_type psn_idet_type fmly_no vlg_code addr admdvs "
        "emp_no emp_name die_date"
    ),
    required=_cols("psn_no gend brdy insutype"),
    types={"brdy": DATE, "die_date": DATE},
    national=False,
)

MEDINS_STAFF = TableSpec(
    name="medins_staff",
    title="定点机构人员（医师、护士、药师及职工）",
    key=("fixmedins_code", "prac_psn_code"),
    columns=_cols(
        "fixmedins_code prac_psn_code prac_psn_name prac_psn_type dept_codg dept_name profttl psn_no "
        "begn_date end_date"
    ),
    required=_cols("fixmedins_code prac_psn_code prac_psn_name prac_psn_type"),
    types={"begn_date": DATE, "end_date": DATE},
    national=False,
)

HILIST = TableSpec(
    name="hilist",
    title="医保目录（药品、医疗服务项目、医用耗材）",
    key=("hilist_code", "begndate"),
    columns=_cols(
        "hilist_code hilist_name list_type med_chrgitm_type chrgitm_lv pric_unit lv1_hosp_item_pric "
        "lv2_hosp_item_pric lv3_hosp_item_pric selfpay_prop begndate enddate memo"
    ),
    required=_cols("hilist_code hilist_name list_type med_chrgitm_type begndate"),
    types={
        "lv1_hosp_item_pric": PRICE, "lv2_hosp_item_pric": PRICE, "lv3_hosp_item_pric": PRICE,
        "selfpay_prop": RATIO, "begndate": DATE, "enddate": DATE,
    },
    national=False,
)

MEDINS_PURC = TableSpec(
    name="medins_purc",
    title="药品耗材采购入库（进）",
    key=("purc_id",),
    columns=_cols(
        "purc_id fixmedins_code hilist_code hilist_name purc_cnt finl_trns_pric purc_time spler_name "
        "manu_lotnum memo"
    ),
    required=_cols("purc_id fixmedins_code hilist_code purc_cnt finl_trns_pric purc_time"),
    types={"purc_cnt": QTY, "finl_trns_pric": PRICE, "purc_time": TS},
    not_empty=("fixmedins_code", "hilist_code", "purc_time"),
    national=False,
)

MEDINS_INVT = TableSpec(
    name="medins_invt",
    title="药品耗材盘存（期初库存）",
    key=("fixmedins_code", "hilist_code", "invdate"),
    columns=_cols("fixmedins_code hilist_code hilist_name invdate inv_cnt memo"),
    required=_cols("fixmedins_code hilist_code invdate inv_cnt"),
    types={"invdate": DATE, "inv_cnt": QTY},
    national=False,
)

DRORD_D = TableSpec(
    name="drord_d",
    title="医嘱明细（院端医嘱，可选）",
    key=("drord_id",),
    columns=_cols(
        "drord_id mdtrt_id psn_no fixmedins_code rx_drord_no hilist_code hilist_name cnt drord_begn_date "
        "drord_stop_date drord_dr_codg drord_dept_codg long_drord_flag used_frqu_dscr"
    ),
    required=_cols("drord_id mdtrt_id hilist_code cnt drord_begn_date"),
    types={"cnt": QTY, "drord_begn_date": TS, "drord_stop_date": TS},
    not_empty=("mdtrt_id", "hilist_code"),
    national=False,
)

NATIONAL_TABLES = (MDTRT_D, SETL_D, FEE_LIST_D, SETL_LIST_DIAG_D, SETL_LIST_OPRN_D)
# Load order: reference tables first, so that later checks can rely on them.
ALL_TABLES = (MEDINS_INFO, PSN_INFO, MEDINS_STAFF, HILIST, MEDINS_PURC, MEDINS_INVT) + NATIONAL_TABLES + (DRORD_D,)
TABLES: dict[str, TableSpec] = {t.name: t for t in ALL_TABLES}

for _spec in ALL_TABLES:
    _spec.check()
