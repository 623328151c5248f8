"""Arrow tables in the national spelling (see ingest/tables.py) built from the generator's frames."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .catalog import Catalog
from .config import KIND_IP
from .frame import Frame
from .geo import City
from .writer import PRICE, QTY, RATIO, STR, Clock, const, dec, sid, strs

DIAG_TYPE = "1"   # 西医诊断


def medins_info(city: City, clock: Clock) -> pa.Table:
    return pa.table({
        "fixmedins_code": strs(city.inst_code), "fixmedins_name": strs(city.inst_name),
        "fixmedins_type": strs(city.inst_ftype.astype(str)), "hosp_lv": strs(city.inst_lv),
        "nonpub_flag": strs(city.inst_nonpub.astype(str)), "admdvs": strs(city.inst_admdvs),
        "agreement_status": strs(city.agr_status), "agreement_begn_date": clock.date(city.agr_begn),
        "agreement_end_date": clock.date(city.agr_end), "medins_type": strs(city.inst_mtype),
        "prac_scope": strs(city.inst_scope), "aprv_bed_cnt": pa.array(city.inst_beds.astype(np.int32)),
        "addr": strs(city.inst_addr)})


def hilist(cat: Catalog, clock: Clock) -> pa.Table:
    k = np.arange(cat.n_real)
    rows = cat.hilist_rows
    return pa.table({
        "hilist_code": strs(cat.code[k]), "hilist_name": strs(cat.name[k]), "list_type": strs(cat.list_type[k]),
        "med_chrgitm_type": strs(cat.chrg_type[k]), "chrgitm_lv": strs(cat.chrg_lv[k]), "pric_unit": strs(cat.unit[k]),
        "lv1_hosp_item_pric": dec(cat.cap[0, k], PRICE, 10000), "lv2_hosp_item_pric": dec(cat.cap[1, k], PRICE, 10000),
        "lv3_hosp_item_pric": dec(cat.cap[2, k], PRICE, 10000), "selfpay_prop": dec(cat.selfpay_bp[k], RATIO),
        "begndate": clock.date(np.maximum(cat.begn[k], -3000)), "enddate": clock.date(cat.endd[k], mask=cat.endd[k] >= 10000),
        "memo": strs([r["memo"] for r in rows])})


def psn_info(P: Frame, clock: Clock) -> pa.Table:
    die = P["die"]
    return pa.table({
        "psn_no": strs(P["psn_no"]), "psn_name": strs(P["name"]), "gend": strs(P["gend"].astype(str)),
        "brdy": clock.date(P["brdy"]), "certno": strs(P["certno"]), "insutype": strs(P["insutype"]),
        "psn_type": strs(P["psn_type"]), "psn_idet_type": strs(P["idet"]), "fmly_no": strs(P["fmly_no"]),
        "vlg_code": strs(P["vlg_code"]), "addr": strs(P["addr"]), "admdvs": strs(P["admdvs"]),
        "emp_no": strs(P["emp_no"]), "emp_name": strs(P["emp_name"]), "die_date": clock.date(die, mask=die < 0)})


def medins_staff(city: City, clock: Clock) -> pa.Table:
    nd = len(city.doc_code)
    dd = city.doc_dept
    sd = city.staff_dept
    inst = np.concatenate([city.doc_inst, city.staff_inst])
    dept_code = np.concatenate([city.dept_code[dd], np.where(sd >= 0, city.dept_code[np.maximum(sd, 0)], "")])
    dept_name = np.concatenate([city.dept_name[dd], np.where(sd >= 0, city.dept_name[np.maximum(sd, 0)], "")])
    begn = np.concatenate([np.full(nd, (city.y0.replace(year=city.year - 8) - city.y0).days),
                           np.array([(b - city.y0).days for b in city.staff_begn])])
    return pa.table({
        "fixmedins_code": strs(city.inst_code[inst]), "prac_psn_code": strs(np.concatenate([city.doc_code, city.staff_code])),
        "prac_psn_name": strs(np.concatenate([city.doc_name, city.staff_name])),
        "prac_psn_type": strs(np.concatenate([np.full(nd, "1", dtype=object), city.staff_type])),
        "dept_codg": strs(dept_code), "dept_name": strs(dept_name),
        "profttl": strs(np.concatenate([city.doc_title, city.staff_title])),
        "psn_no": strs(np.concatenate([np.full(nd, "", dtype=object), city.staff_psn])),
        "begn_date": clock.date(begn), "end_date": clock.date(np.zeros(len(inst)), mask=np.ones(len(inst), bool))})


def chunk_ids(E: Frame, L: Frame, chunk: int, yy: str) -> dict[str, pa.Array]:
    ne = len(E)
    return {"mdtrt_id": sid(f"3206{yy}1{chunk:04d}", np.arange(ne), 7),
            "setl_id": sid(f"3206{yy}2{chunk:04d}", np.arange(ne), 7),
            "bkkp_sn": sid(f"3206{yy}3{chunk:04d}", np.arange(len(L)), 9)}


def chunk_tables(E: Frame, L: Frame, P: Frame, city: City, cat: Catalog, clock: Clock, ids: dict, chunk: int,
                 yy: str) -> dict[str, pa.Table]:
    ne, nl = len(E), len(L)
    ps, inst = E["psn"], E["inst"]
    mid, setl = ids["mdtrt_id"], ids["setl_id"]
    ipk = np.isin(E["kind"], list(KIND_IP))
    dept, doc = E["dept"], E["doc"]
    dcode = strs(city.dept_code, dept); dname = strs(city.dept_name, dept)
    drcode = strs(city.doc_code, doc); drname = strs(city.doc_name, doc)
    dx0, dx1 = E["dx0"], E["dx1"]
    dxc = strs(cat.dx_code, dx0); dxn = strs(cat.dx_name, dx0)
    gend = strs(P["gend"].astype(str), ps)
    brdy = clock.date(P["brdy"][ps])
    age = dec(E["age_y"] * 100, pa.decimal128(6, 2))
    psn_no = strs(P["psn_no"], ps)
    code = strs(city.inst_code, inst); name = strs(city.inst_name, inst); lv = strs(city.inst_lv, inst)
    adm = strs(P["admdvs"], ps)
    die_here = E["dscg"] == "5"
    chronic = np.array([len(m) == 6 for m in E["mt"]])
    dise_name = {"140104": "糖尿病", "140201": "高血压", "140302": "冠心病", "140401": "慢性阻塞性肺疾病", "140501": "尿毒症透析"}
    ipt_no = sid(f"ZY{yy}{chunk:04d}", np.arange(ne), 7)
    mdtrt = pa.table({
        "mdtrt_id": mid, "psn_no": psn_no, "psn_cert_type": const("01", ne), "certno": strs(P["certno"], ps),
        "psn_name": strs(P["name"], ps), "gend": gend, "naty": const("01", ne), "brdy": brdy, "age": age,
        "addr": strs(P["addr"], ps), "insutype": strs(E["ins"]), "psn_type": strs(P["psn_type"], ps), "insu_admdvs": adm,
        "emp_name": strs(P["emp_name"], ps), "fixmedins_code": code, "fixmedins_name": name, "hosp_lv": lv,
        "begntime": clock.ts(E["t0"]), "endtime": clock.ts(E["t1"]), "mdtrt_cert_type": const("02", ne),
        "med_type": strs(E["mt"]), "ipt_otp_no": ipt_no, "chfpdr_code": drcode, "chfpdr_name": drname,
        "adm_diag_dscr": dxn, "adm_dept_codg": dcode, "adm_dept_name": dname,
        "dscg_maindiag_code": dxc, "dscg_maindiag_name": dxn, "dscg_dept_codg": dcode, "dscg_dept_name": dname,
        "dscg_way": pa.array(np.where(ipk, E["dscg"], None), STR),
        "dise_no": pa.array(np.where(chronic, E["mt"], None), STR),
        "dise_name": pa.array([dise_name.get(m) if c else None for m, c in zip(E["mt"], chronic)], STR),
        "die_date": clock.date(E["d1"], mask=~die_here), "ipt_days": pa.array(np.where(ipk, E["ipt"], None), pa.int32()),
        "year": const(str(city.year), ne), "vali_flag": const("1", ne)})
    setl_t = pa.table({
        "setl_id": setl, "mdtrt_id": mid, "psn_no": psn_no, "psn_name": strs(P["name"], ps), "gend": gend, "brdy": brdy,
        "age": age, "insutype": strs(E["ins"]), "psn_type": strs(P["psn_type"], ps), "insu_admdvs": adm,
        "emp_name": strs(P["emp_name"], ps), "fixmedins_code": code, "fixmedins_name": name, "hosp_lv": lv,
        "begndate": clock.date(E["d0"]), "enddate": clock.date(E["d1"]),
        "setl_time": clock.ts(E["t1"] + np.where(ipk, 600, 30)), "med_type": strs(E["mt"]),
        "setl_type": const("2", ne), "clr_type": pa.array(np.where(ipk, "21", "11"), STR), "psn_setlway": const("01", ne),
        "medfee_sumamt": dec(E["medfee"]), "fulamt_ownpay_amt": dec(E["ful"]), "overlmt_selfpay": dec(np.zeros(ne)),
        "preselfpay_amt": dec(E["pre"]), "inscp_amt": dec(E["inscp"]), "dedc_std": dec(E["dedc_std"]),
        "act_pay_dedc": dec(E["act_dedc"]), "hifp_pay": dec(E["hifp"]), "pool_prop_selfpay": dec(E["pool_self"]),
        "hi_agre_sumfee": dec(E["inscp"]), "hifmi_pay": dec(E["hifmi"]), "maf_pay": dec(E["maf"]),
        "fund_pay_sumamt": dec(E["fund"]), "psn_pay": dec(E["psn_pay"]), "acct_pay": dec(E["acct"]),
        "cash_payamt": dec(E["cash"]), "refd_setl_flag": const("0", ne), "cal_ipt_cnt": pa.array(ipk.astype(np.int32)),
        "year": const(str(city.year), ne), "dise_no": pa.array(np.where(chronic, E["mt"], None), STR), "vali_flag": const("1", ne)})
    # ---------------------------------------------------------------- fee lines
    enc, item = L["enc"], L["item"]
    li = inst[enc]
    ecode = strs(city.inst_code, li)
    drug = cat.is_drug[item] | np.isin(item, cat.goods_ids)
    herb = cat.is_herb[item]
    opk = ~np.isin(E["kind"][enc], list(KIND_IP))
    rx_kind = np.where(opk & drug, np.where(herb, 2, 1), 0)
    ordered = L["rxo"] >= 0
    rx = pc.if_else(pa.array(ordered), sid(f"YZ{yy}{chunk:04d}", L["rxo"], 7),
                    pc.if_else(pa.array(rx_kind > 0), pc.binary_join_element_wise("CF", mid.take(pa.array(enc)),
                                                                                   pa.array(rx_kind.astype(str)), ""),
                               pa.nulls(nl, STR)))
    medins_code = sid("YB", item, 6)
    fee = pa.table({
        "bkkp_sn": ids["bkkp_sn"], "mdtrt_id": mid.take(pa.array(enc)), "fee_ocur_time": clock.ts(L["t"]),
        "setl_id": setl.take(pa.array(enc)), "rx_drord_no": rx, "fixmedins_code": ecode,
        "fixmedins_name": strs(city.inst_name, li), "psn_no": psn_no.take(pa.array(enc)),
        "insu_admdvs": adm.take(pa.array(enc)), "med_type": strs(E["mt"], enc), "cnt": dec(L["cnt"], QTY, 10000),
        "pric": dec(L["pric"], PRICE, 10000), "det_item_fee_sumamt": dec(L["det"]), "pric_uplmt_amt": dec(L["uplmt"], PRICE, 10000),
        "selfpay_prop": dec(L["sp"], RATIO), "fulamt_ownpay_amt": dec(L["ful"]), "overlmt_selfpay": dec(np.zeros(nl)),
        "preselfpay_amt": dec(L["pre"]), "inscp_amt": dec(L["inscp"]),
        "chrgitm_lv": strs(np.array(["", "01", "02", "03"], dtype=object), L["lv"]),
        "hilist_code": strs(cat.code, item), "hilist_name": strs(cat.name, item), "list_type": strs(cat.list_type, item),
        "med_list_codg": strs(cat.code, item), "medins_list_codg": medins_code, "medins_list_name": strs(cat.name, item),
        "med_chrgitm_type": strs(cat.chrg_type, item), "spec": strs(cat.spec, item), "dosform_name": strs(cat.form, item),
        "bilg_dept_codg": dcode.take(pa.array(enc)), "bilg_dept_name": dname.take(pa.array(enc)),
        "bilg_dr_code": drcode.take(pa.array(enc)), "bilg_dr_name": drname.take(pa.array(enc)),
        "lmt_used_flag": pa.array(np.where(cat.restricted[item], "1", "0"), STR),
        "bas_medn_flag": pa.array(np.where(cat.base_flag[item] == 1, "1", "0"), STR),
        "sin_dos_dscr": strs(cat.dose, item), "used_frqu_dscr": strs(cat.freq, item),
        "prd_days": dec(np.where(L["prd"] > 0, L["prd"] * 100, 0), pa.decimal128(10, 2)),
        "vali_flag": const("1", nl)})
    fee = fee.set_column(fee.schema.get_field_index("prd_days"), "prd_days",
                         pc.if_else(pa.array(L["prd"] > 0), fee["prd_days"], pa.nulls(nl, pa.decimal128(10, 2))))
    # ---------------------------------------------------------------- diagnoses and operations
    has = E["kind"] != 3                        # pharmacy purchases carry no diagnosis
    d_enc = np.concatenate([np.nonzero(has & (dx0 >= 0))[0], np.nonzero(has & (dx1 >= 0))[0]])
    d_code = np.concatenate([dx0[has & (dx0 >= 0)], dx1[has & (dx1 >= 0)]])
    d_main = np.concatenate([np.ones((has & (dx0 >= 0)).sum(), bool), np.zeros((has & (dx1 >= 0)).sum(), bool)])
    o = np.lexsort((~d_main, d_enc))
    d_enc, d_code, d_main = d_enc[o], d_code[o], d_main[o]
    diag = pa.table({
        "setl_list_diag_id": sid(f"3206{yy}4{chunk:04d}", np.arange(len(d_enc)), 7), "setl_id": setl.take(pa.array(d_enc)),
        "mdtrt_id": mid.take(pa.array(d_enc)), "psn_no": psn_no.take(pa.array(d_enc)), "diag_type": const(DIAG_TYPE, len(d_enc)),
        "maindiag_flag": pa.array(np.where(d_main, "1", "0"), STR), "diag_code": strs(cat.dx_code, d_code),
        "diag_name": strs(cat.dx_name, d_code), "adm_cond_type": const("1", len(d_enc)), "vali_flag": const("1", len(d_enc))})
    o_enc = np.concatenate([np.nonzero(E["op0"] >= 0)[0], np.nonzero(E["op1"] >= 0)[0]])
    o_op = np.concatenate([E["op0"][E["op0"] >= 0], E["op1"][E["op1"] >= 0]])
    o_main = np.concatenate([np.ones((E["op0"] >= 0).sum(), bool), np.zeros((E["op1"] >= 0).sum(), bool)])
    o = np.lexsort((~o_main, o_enc)); o_enc, o_op, o_main = o_enc[o], o_op[o], o_main[o]
    ot = E["d0"][o_enc] * 86400 + E["opday"][o_enc] * 86400
    ot = np.maximum(ot + 9 * 3600, E["t0"][o_enc] + 3600)
    ga = np.isin(cat.op_code[o_op], ["98.5100", "13.4100", "13.7100", "45.4200", "73.5900", "73.6x00", "99.2500", "99.8300", "39.9500"])
    oprn = pa.table({
        "setl_list_oprn_id": sid(f"3206{yy}5{chunk:04d}", np.arange(len(o_enc)), 7), "setl_id": setl.take(pa.array(o_enc)),
        "psn_no": psn_no.take(pa.array(o_enc)), "mdtrt_id": mid.take(pa.array(o_enc)),
        "main_oprn_flag": pa.array(np.where(o_main, "1", "0"), STR), "oprn_oprt_name": strs(cat.op_name, o_op),
        "oprn_oprt_code": strs(cat.op_code, o_op), "oprn_oprt_date": clock.ts(ot),
        "anst_way": pa.array(np.where(ga, "9", "1"), STR), "oper_dr_name": drname.take(pa.array(o_enc)),
        "oper_dr_code": drcode.take(pa.array(o_enc)), "oprn_oprt_begntime": clock.ts(ot),
        "oprn_oprt_endtime": clock.ts(ot + 5400), "vali_flag": const("1", len(o_enc))})
    return {"mdtrt_d": mdtrt, "setl_d": setl_t, "fee_list_d": fee, "setl_list_diag_d": diag, "setl_list_oprn_d": oprn}


def drord(O: Frame, E: Frame, city: City, cat: Catalog, clock: Clock, ids: dict, P: Frame, chunk: int, yy: str) -> pa.Table:
    n = len(O)
    enc = O["enc"]
    return pa.table({
        "drord_id": sid(f"3206{yy}6{chunk:04d}", np.arange(n), 7), "mdtrt_id": ids["mdtrt_id"].take(pa.array(enc)),
        "psn_no": strs(P["psn_no"], E["psn"][enc]), "fixmedins_code": strs(city.inst_code, E["inst"][enc]),
        "rx_drord_no": sid(f"YZ{yy}{chunk:04d}", O["rxo"], 7), "hilist_code": strs(cat.code, O["item"]),
        "hilist_name": strs(cat.name, O["item"]), "cnt": dec(O["cnt"], QTY, 10000), "drord_begn_date": clock.ts(O["t0"]),
        "drord_stop_date": clock.ts(O["t1"]), "drord_dr_codg": strs(city.doc_code, E["doc"][enc]),
        "drord_dept_codg": strs(city.dept_code, E["dept"][enc]), "long_drord_flag": pa.array(np.where(O["long"], "1", "0"), STR),
        "used_frqu_dscr": strs(cat.freq, O["item"])})


