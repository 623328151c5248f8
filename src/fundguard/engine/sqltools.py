"""Rule SQL handling shared by every engine: parameters, wrapping, dialect translation (sqlglot)."""

from __future__ import annotations

from typing import Any

import sqlglot
from sqlglot import exp

STANDARD = ("mdtrt_id", "psn_no", "fixmedins_code")
OPTIONAL = ("bkkp_sn", "setl_id", "kp_id", "grp", "vola_fee", "hilist_code", "hilist_name", "bilg_dr_code")


def _literal(value: Any) -> exp.Expression:
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, (int, float)):
        return exp.Literal.number(value)
    if value is None:
        return exp.Null()
    return exp.Literal.string(str(value))


def parse(sql: str) -> exp.Expression:
    return sqlglot.parse_one(sql, read="duckdb")


def bind(tree: exp.Expression, params: dict[str, Any]) -> exp.Expression:
    """Replace ``$name`` placeholders by literals."""

    def sub(node):
        if isinstance(node, exp.Placeholder) and node.name in params:
            return _literal(params[node.name])
        return node

    return tree.transform(sub)


def output_columns(tree: exp.Expression) -> list[str]:
    select = tree if isinstance(tree, exp.Select) else tree.find(exp.Select)
    if isinstance(tree, exp.Union):
        select = tree.left if isinstance(tree.left, exp.Select) else tree.left.find(exp.Select)
    return [c for c in select.named_selects]


def wrap(tree: exp.Expression, columns: list[str], *, amount: str, lines: str = "fg_line",
         encounters: str = "fg_enc_amt") -> exp.Expression:
    """Add the amount inputs to the rule's rows: the line's fee and fund share (from ``lines``), or the
    encounter's fund (from ``encounters``)."""
    tree = tree.copy()
    with_key = "with_" if "with_" in tree.args else "with"
    ctes = tree.args.get(with_key)
    if ctes is not None:
        tree.set(with_key, None)
    extra = []
    joins = []
    if "bkkp_sn" in columns:
        extra += ["__l.fee AS __fee", "__l.line_fund AS __line_fund"]
        joins.append(f"LEFT JOIN {lines} AS __l ON __l.bkkp_sn = __h.bkkp_sn")
    else:
        extra += ["CAST(NULL AS DOUBLE) AS __fee", "CAST(NULL AS DOUBLE) AS __line_fund"]
    if amount == "encounter":
        extra.append("__a.enc_fund AS __enc_fund")
        joins.append(f"LEFT JOIN {encounters} AS __a ON __a.mdtrt_id = __h.mdtrt_id")
    else:
        extra.append("CAST(NULL AS DOUBLE) AS __enc_fund")
    outer = sqlglot.parse_one(
        f"SELECT __h.*, {', '.join(extra)} FROM (SELECT 1) AS __h {' '.join(joins)}", read="duckdb")
    outer.find(exp.Subquery).set("this", tree)
    if ctes is not None:
        outer.set(with_key, ctes)
    return outer


def to_dialect(tree: exp.Expression, dialect: str) -> str:
    if dialect != "duckdb":
        tree = tree.copy()
        for cte in tree.find_all(exp.CTE):
            cte.set("materialized", None)
    return tree.sql(dialect=dialect)


def render(sql: str, params: dict[str, Any], *, amount: str, dialect: str = "duckdb") -> tuple[str, list[str]]:
    """The rule's SQL with its parameters bound and the amount inputs added, in one statement."""
    tree = bind(parse(sql), params)
    columns = output_columns(tree)
    return to_dialect(wrap(tree, columns, amount=amount), dialect), columns


def amount_sql(relation: str, columns: list[str], *, amount: str, dialect: str = "duckdb", lines: str = "fg_line",
               encounters: str = "fg_enc_amt") -> str:
    """The amount inputs added to rows already fetched into ``relation`` (the second step of a two-step run);
    ``lines``/``encounters``: relations with the working set's amount columns of those rows' lines/encounters."""
    return to_dialect(wrap(parse(f"SELECT * FROM {relation}"), columns, amount=amount, lines=lines,
                           encounters=encounters), dialect)
