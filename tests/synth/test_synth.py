"""Synthetic city: determinism, keys, integrity, amounts, ground truth and cleanliness of normal data."""

import hashlib
import json
import time
from pathlib import Path

import duckdb

from fundguard.ingest.tables import TABLES
from fundguard.synth import SCHEMES, SynthConfig, generate_city

TABLE_NAMES = ["medins_info", "psn_info", "medins_staff", "hilist", "medins_purc", "medins_invt", "mdtrt_d", "setl_d",
               "fee_list_d", "setl_list_diag_d", "setl_list_oprn_d", "drord_d"]


def con(path: Path) -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    for t in TABLE_NAMES + ["ground_truth"]:
        c.execute(f"create view {t} as select * from read_parquet('{path / (t + '.parquet')}')")
    return c


def digest(path: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(path.iterdir()) if p.suffix in (".parquet", ".csv")}


def test_deterministic(tmp_path):
    a = generate_city(SynthConfig(persons=600, seed=3, out_dir=tmp_path / "a", violation_rate=0.02))
    b = generate_city(SynthConfig(persons=600, seed=3, out_dir=tmp_path / "b", violation_rate=0.02))
    generate_city(SynthConfig(persons=600, seed=4, out_dir=tmp_path / "c", violation_rate=0.02))
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert digest(tmp_path / "a")["fee_list_d.parquet"] != digest(tmp_path / "c")["fee_list_d.parquet"]
    assert a.rows == b.rows


def test_columns_exist_in_specs(city):
    path, _ = city
    c = con(path)
    for t in TABLE_NAMES:
        cols = [r[0] for r in c.execute(f"describe {t}").fetchall()]
        assert set(cols) <= set(TABLES[t].columns), (t, set(cols) - set(TABLES[t].columns))
        assert set(TABLES[t].required) <= set(cols), (t, set(TABLES[t].required) - set(cols))


def test_keys_unique(city):
    c = con(city[0])
    for t in TABLE_NAMES:
        key = ", ".join(TABLES[t].key)
        n, d = c.execute(f"select count(*), count(distinct ({key})) from {t}").fetchone()
        assert n == d and n > 0, t


def test_integrity_and_amounts(city):
    c = con(city[0])
    q = lambda s: c.execute(s).fetchone()[0]
    assert q("select count(*) from fee_list_d f left join mdtrt_d m using(mdtrt_id) where m.mdtrt_id is null") == 0
    assert q("select count(*) from fee_list_d f left join setl_d s using(setl_id) where s.setl_id is null or s.mdtrt_id <> f.mdtrt_id") == 0
    assert q("select count(*) from mdtrt_d m left join setl_d s using(mdtrt_id) where s.setl_id is null") == 0
    assert q("select count(*) from mdtrt_d m left join psn_info p using(psn_no) where p.psn_no is null") == 0
    assert q("select count(*) from mdtrt_d m left join medins_info i using(fixmedins_code) where i.fixmedins_code is null") == 0
    assert q("select count(*) from fee_list_d where det_item_fee_sumamt <> round(cnt * pric, 2)") == 0
    assert q("""select count(*) from setl_d s join (select setl_id, sum(det_item_fee_sumamt) d, sum(inscp_amt) i
                from fee_list_d group by 1) f using(setl_id) where s.medfee_sumamt <> f.d or s.inscp_amt <> f.i""") == 0
    assert q("select count(*) from setl_d where fund_pay_sumamt + psn_pay <> medfee_sumamt or acct_pay + cash_payamt <> psn_pay") == 0
    assert q("select count(*) from setl_d where fund_pay_sumamt <> hifp_pay + hifmi_pay + maf_pay or fund_pay_sumamt < 0") == 0


def test_ground_truth_consistent(city):
    path, _summary = city
    c = con(path)
    gt = c.execute("select gt_id, mdtrt_id, bkkp_sn, vola_fee, amount, scheme from ground_truth").fetchall()
    assert gt
    c.execute("""create temp table lines as select f.bkkp_sn, f.mdtrt_id, f.det_item_fee_sumamt det,
                 f.inscp_amt * s.fund_pay_sumamt / nullif(s.inscp_amt, 0) ff
                 from fee_list_d f join setl_d s using(setl_id)""")
    rows = c.execute("""with g as (select gt_id, mdtrt_id, vola_fee, amount, unnest(string_split(bkkp_sn, ';')) sn
                        from ground_truth where bkkp_sn <> '')
                        select g.gt_id, any_value(g.mdtrt_id), count(*), count(l.bkkp_sn),
                               sum(case when g.mdtrt_id <> '' and l.mdtrt_id <> g.mdtrt_id then 1 else 0 end),
                               any_value(g.vola_fee), any_value(g.amount), sum(l.det), sum(coalesce(l.ff, 0))
                        from g left join lines l on l.bkkp_sn = g.sn group by g.gt_id""").fetchall()
    for gid, _, n, found, wrong, vola, amount, det, ff in rows:
        assert n == found, gid
        assert wrong == 0, gid
        expect = round(float(vola) / float(det) * float(ff), 2) if det else 0
        assert abs(float(amount) - expect) <= 0.011, (gid, amount, expect)
    schemes = {r[0] for r in c.execute("select distinct scheme from ground_truth").fetchall()}
    missing = set(SCHEMES) - schemes
    assert not missing, missing


def test_clean_city_has_no_violations(clean_city):
    path, _summary = clean_city
    c = con(path)
    q = lambda s: c.execute(s).fetchone()[0]
    assert q("select count(*) from ground_truth where substr(scheme, 1, 1) in ('A', 'B', 'C')") == 0
    # prices never above caps
    assert q("select count(*) from fee_list_d where pric > pric_uplmt_amt") == 0
    # no overlapping stays (any two encounters of a person where one is a stay)
    assert q("""select count(*) from mdtrt_d a join mdtrt_d b on a.psn_no = b.psn_no and a.mdtrt_id < b.mdtrt_id
                and a.begntime < b.endtime and b.begntime < a.endtime
                where a.med_type in ('21','22','23','24','28','52') or b.med_type in ('21','22','23','24','28','52')""") == 0
    # no readmission to the same institution within 15 days (planned cycles excluded)
    assert q("""select count(*) from mdtrt_d a join mdtrt_d b on a.psn_no = b.psn_no and a.fixmedins_code = b.fixmedins_code
                and b.begntime > a.endtime and b.begntime <= a.endtime + interval 15 day
                where a.med_type in ('21','22','24') and b.med_type in ('21','22','24')
                and b.dscg_maindiag_code not in ('Z51.1', 'Z51.0', 'N18.5')""") == 0
    # gender-limited items only for the right gender
    kp = json.loads((Path(__file__).parents[2] / "src/fundguard/kb/builtin/knowledge_points.json").read_text(encoding="utf-8"))
    c.execute("create temp table g (code varchar, gend varchar)")
    for k in kp:
        if "gend" in k["params"]:
            for code in k["med_codes"]:
                c.execute("insert into g values (?, ?)", [code, k["params"]["gend"]])
    assert q("""select count(*) from fee_list_d f join g on f.hilist_code = g.code join mdtrt_d m using(mdtrt_id)
                where m.gend <> g.gend""") == 0
    # fee times inside the encounter, bed days within stay days, no services after death
    assert q("select count(*) from fee_list_d f join mdtrt_d m using(mdtrt_id) where f.fee_ocur_time < m.begntime or f.fee_ocur_time > m.endtime") == 0
    assert q("""select count(*) from (select mdtrt_id, sum(cnt) c from fee_list_d where med_chrgitm_type = '01' group by 1) b
                join mdtrt_d m using(mdtrt_id) where b.c > m.ipt_days""") == 0
    assert q("select count(*) from mdtrt_d m join psn_info p using(psn_no) where p.die_date is not null and m.begntime > p.die_date + interval 1 day") == 0
    # purchases and opening stock cover sales
    assert q("""select count(*) from (select fixmedins_code, hilist_code, sum(cnt) s from fee_list_d
                where list_type in ('101','102','301') group by 1, 2) s
                left join (select fixmedins_code, hilist_code, sum(purc_cnt) p from medins_purc group by 1, 2) p using(fixmedins_code, hilist_code)
                left join medins_invt i using(fixmedins_code, hilist_code) where s.s > coalesce(p.p, 0) + coalesce(i.inv_cnt, 0)""") == 0


def test_clean_city_is_clean_for_period_age_prescription_stay_and_scope_logic(clean_city):
    """Normal data used to match these default logics (A06, B11, B12, C03, C07); it must not."""
    path, _summary = clean_city
    c = con(path)
    q = lambda s: c.execute(s).fetchone()[0]
    builtin = Path(__file__).parents[2] / "src/fundguard/kb/builtin"
    kp = json.loads((builtin / "knowledge_points.json").read_text(encoding="utf-8"))
    # A06: a period-capped item (糖化血红蛋白 90 天, 13C 呼气试验 180 天 …) at most once per person and period
    c.execute("create temp table per (code varchar, days int)")
    for k in kp:
        if "period_days" in k["params"]:
            for code in k["med_codes"]:
                c.execute("insert into per values (?, ?)", [code, k["params"]["period_days"]])
    assert q("""select count(*) from fee_list_d a join fee_list_d b on a.psn_no = b.psn_no and a.hilist_code = b.hilist_code
                and a.bkkp_sn < b.bkkp_sn join per on per.code = a.hilist_code
                where abs(date_diff('day', cast(a.fee_ocur_time as date), cast(b.fee_ocur_time as date))) < per.days""") == 0
    # B11: diagnoses fit the patient's age on the visit day (age_max is "below", age_min "from")
    c.execute(f"create temp table dx as select * from read_csv('{builtin / 'diagnoses.csv'}', all_varchar = true)")
    assert q("""with d as (select mdtrt_id, diag_code from setl_list_diag_d
                           union all select mdtrt_id, dscg_maindiag_code from mdtrt_d where dscg_maindiag_code is not null),
                a as (select m.mdtrt_id, cast(m.begntime as date) dd, p.brdy,
                             year(cast(m.begntime as date)) - year(p.brdy)
                             - case when month(cast(m.begntime as date)) * 100 + day(cast(m.begntime as date))
                                         < month(p.brdy) * 100 + day(p.brdy) then 1 else 0 end age
                      from mdtrt_d m join psn_info p using(psn_no))
                select count(*) from d join a using(mdtrt_id) join dx on dx.diag_code = d.diag_code
                where (dx.age_min is not null and a.age < cast(dx.age_min as int))
                   or (dx.age_max is not null and a.age >= cast(dx.age_max as int))
                   or (dx.age_max_days is not null and date_diff('day', a.brdy, a.dd) > cast(dx.age_max_days as int))""") == 0
    # B12: no supply above 28 days, and no dispensing of a drug while an earlier supply still lasts (> 5 days left)
    assert q("select count(*) from fee_list_d where prd_days > 28") == 0
    assert q("""with rx as (select f.bkkp_sn, f.mdtrt_id, f.psn_no, substr(f.hilist_code, 1, 15) g, f.fee_ocur_time t,
                                   cast(f.fee_ocur_time as date) d, f.prd_days
                            from fee_list_d f join mdtrt_d m using(mdtrt_id)
                            where (m.med_type like '14%' or m.med_type in ('11', '41', '9901'))
                              and substr(f.hilist_code, 1, 1) in ('X', 'Z') and f.prd_days > 0)
                select count(*) from rx c join rx p on p.psn_no = c.psn_no and p.g = c.g and p.mdtrt_id <> c.mdtrt_id
                and p.t < c.t and p.prd_days - date_diff('day', p.d, c.d) > 5""") == 0
    # C03: no short stay with a light main diagnosis made of tests and drugs (≥ 80 % of fees beyond bed, exam, nursing)
    c.execute(f"create temp table light as select * from read_csv('{builtin / 'light_diagnoses.csv'}', all_varchar = true)")
    assert q("""with s as (select m.mdtrt_id, m.dscg_maindiag_code dx from mdtrt_d m
                           where (m.med_type like '2%' or m.med_type = '52')
                             and date_diff('day', cast(m.begntime as date), cast(m.endtime as date)) <= 7
                             and m.mdtrt_id not in (select mdtrt_id from setl_list_oprn_d)),
                f as (select mdtrt_id,
                             sum(case when med_chrgitm_type not in ('01', '02', '07', '12', '13') then det_item_fee_sumamt end) clin,
                             sum(case when med_chrgitm_type in ('03', '04', '09', '10', '11') then det_item_fee_sumamt end) low
                      from fee_list_d group by 1)
                select count(*) from s join f using(mdtrt_id) join light l
                on starts_with(replace(s.dx, '.', ''), replace(l.diag_code, '.', ''))
                where f.clin > 0 and f.low >= 0.8 * f.clin""") == 0
    # C07: items that need a 诊疗科目 only at institutions licensed for it
    c.execute(f"create temp table subj as select * from read_csv('{builtin / 'item_prac_scope.csv'}', all_varchar = true)")
    assert q("""select count(*) from fee_list_d f join mdtrt_d m using(mdtrt_id) join medins_info i on i.fixmedins_code = m.fixmedins_code
                join subj on subj.hilist_code = f.hilist_code
                where i.prac_scope is not null and ';' || i.prac_scope || ';' not like '%;' || subj.prac_scope || '%'""") == 0


def test_small_city_fast_and_csv(tmp_path):
    t = time.time()
    s = generate_city(SynthConfig(persons=2000, seed=5, out_dir=tmp_path, fmt="csv", violation_rate=0.02))
    assert time.time() - t < 15
    head = (tmp_path / "fee_list_d.csv").read_text(encoding="utf-8").splitlines()[:2]
    assert head[0].replace('"', "").startswith("bkkp_sn,mdtrt_id,")
    assert s.fee_lines > 10000
    man = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert man["seed"] == 5 and man["rows"]["fee_list_d"] == s.fee_lines
