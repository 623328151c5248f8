"""A hand-written tiny store: institutions, persons, staff and inpatient stays inserted row by row, every amount
chosen by the test (no randomness)."""

from __future__ import annotations

import datetime as dt

# (med_chrgitm_type, item code, item name, share of the stay's fee)
DEFAULT_LINES = (("09", "XA01", "西药甲", 0.4), ("04", "004001", "血常规", 0.2), ("01", "001001", "床位费", 0.4))


class Tiny:
    def __init__(self, con):
        self.con = con
        self.n_stay = 0
        self.n_line = 0

    def medins(self, code: str, name: str, *, mtype: str = "11", lv: str = "06", nonpub: str = "1",
               scope: str = "A03;A04") -> None:
        self.con.execute("""INSERT INTO medins_info (fixmedins_code, fixmedins_name, fixmedins_type, hosp_lv, nonpub_flag,
                            medins_type, prac_scope, agreement_status) VALUES (?, ?, '1', ?, ?, ?, ?, '1')""",
                         [code, name, lv, nonpub, mtype, scope])

    def person(self, psn_no: str, *, vlg: str | None = None, fmly: str | None = None, idet: str | None = None,
               brdy: str = "1950-03-01", name: str | None = None, addr: str | None = None) -> None:
        self.con.execute("""INSERT INTO psn_info (psn_no, psn_name, gend, brdy, insutype, psn_type, psn_idet_type, fmly_no,
                            vlg_code, addr) VALUES (?, ?, '1', ?, '390', '31', ?, ?, ?, ?)""",
                         [psn_no, name or f"张{psn_no[-2:]}", dt.date.fromisoformat(brdy), idet, fmly or psn_no, vlg, addr])

    def staff(self, medins: str, code: str, psn_no: str | None = None, *, doctor: bool = False) -> None:
        self.con.execute("""INSERT INTO medins_staff (fixmedins_code, prac_psn_code, prac_psn_name, prac_psn_type, dept_codg,
                            psn_no) VALUES (?, ?, ?, ?, 'A0300', ?)""",
                         [medins, code, f"医师{code[-2:]}", "1" if doctor else "9", psn_no])

    def stay(self, psn: str, medins: str, begin: str, *, days: int = 5, dx: str = "J18.9", fee: float = 1000.0,
             fund: float | None = None, doctor: str = "D01", med_type: str = "21", dept: str = "A0300",
             lines=DEFAULT_LINES) -> str:
        self.n_stay += 1
        k = self.n_stay
        mdtrt, setl = f"MD{k:05d}", f"ST{k:05d}"
        b = dt.datetime.fromisoformat(begin).replace(hour=9)
        e = b + dt.timedelta(days=days)
        self.con.execute("""INSERT INTO mdtrt_d (mdtrt_id, psn_no, fixmedins_code, begntime, endtime, med_type,
                            dscg_maindiag_code, chfpdr_code, adm_dept_codg, ipt_days, gend, brdy)
                            SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, gend, brdy FROM psn_info WHERE psn_no = ?""",
                         [mdtrt, psn, medins, b, e, med_type, dx, doctor, dept, days, psn])
        self.con.execute("""INSERT INTO setl_d (setl_id, mdtrt_id, psn_no, fixmedins_code, setl_time, medfee_sumamt,
                            fund_pay_sumamt, hifp_pay) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                         [setl, mdtrt, psn, medins, e, round(fee, 2), round(fund if fund is not None else fee * 0.6, 2),
                          round(fund if fund is not None else fee * 0.6, 2)])
        self.con.execute("""INSERT INTO setl_list_diag_d (setl_list_diag_id, mdtrt_id, diag_type, maindiag_flag, diag_code,
                            diag_name) VALUES (?, ?, '1', '1', ?, ?)""", [f"DG{k:05d}", mdtrt, dx, dx])
        left = round(fee, 2)
        for i, (chrg, code, name, share) in enumerate(lines):
            self.n_line += 1
            amt = left if i == len(lines) - 1 else round(fee * share, 2)
            left = round(left - amt, 2)
            self.con.execute("""INSERT INTO fee_list_d (bkkp_sn, mdtrt_id, setl_id, psn_no, fixmedins_code, fee_ocur_time,
                                hilist_code, hilist_name, med_chrgitm_type, cnt, pric, det_item_fee_sumamt, inscp_amt,
                                bilg_dr_code) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)""",
                             [f"FL{self.n_line:07d}", mdtrt, setl, psn, medins, b, code, name, chrg, amt, amt, amt, doctor])
        return mdtrt
