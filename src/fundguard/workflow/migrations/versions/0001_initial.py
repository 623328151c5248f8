"""Initial workflow schema: users, login attempts, items, audit log, attachments, calendar, admin log.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

LogId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Money = sa.Numeric(precision=18, scale=2)
APPEND_ONLY = ("wf_item_log", "wf_attachments", "wf_admin_log")


def upgrade() -> None:
    op.create_table(
        "wf_calendar_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("is_workday", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=True),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_wf_calendar_days")),
    )
    op.create_table(
        "wf_login_attempts",
        sa.Column("id", LogId, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("client_ip", sa.String(length=64), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wf_login_attempts")),
    )
    op.create_index(op.f("ix_wf_login_attempts_client_ip_at"), "wf_login_attempts", ["client_ip", "at"])
    op.create_index(op.f("ix_wf_login_attempts_username_at"), "wf_login_attempts", ["username", "at"])
    op.create_table(
        "wf_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("fixmedins_code", sa.String(length=30), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(), nullable=False),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wf_users")),
        sa.UniqueConstraint("username", name=op.f("uq_wf_users_username")),
    )
    op.create_table(
        "wf_admin_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=100), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["wf_users.id"], name=op.f("fk_wf_admin_log_actor_id_wf_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wf_admin_log")),
    )
    op.create_table(
        "wf_items",
        sa.Column("jr_id", sa.String(length=64), nullable=False),
        sa.Column("run_id", sa.BigInteger(), nullable=True),
        sa.Column("last_run_id", sa.BigInteger(), nullable=True),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("rule_name", sa.String(length=200), nullable=True),
        sa.Column("sev_deg", sa.Integer(), nullable=True),
        sa.Column("vola_bhvr_type", sa.String(length=30), nullable=True),
        sa.Column("mdtrt_id", sa.String(length=64), nullable=True),
        sa.Column("setl_id", sa.String(length=64), nullable=True),
        sa.Column("psn_no", sa.String(length=64), nullable=True),
        sa.Column("fixmedins_code", sa.String(length=30), nullable=True),
        sa.Column("fixmedins_name", sa.String(length=200), nullable=True),
        sa.Column("hilist_code", sa.String(length=64), nullable=True),
        sa.Column("hilist_name", sa.String(length=200), nullable=True),
        sa.Column("vola_amt", Money, nullable=False),
        sa.Column("vola_cont", sa.Text(), nullable=True),
        sa.Column("vola_evid", sa.Text(), nullable=True),
        sa.Column("kp_id", sa.String(length=64), nullable=True),
        sa.Column("period", sa.String(length=7), nullable=True),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("state_since", sa.DateTime(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("first_reviewer_id", sa.Integer(), nullable=True),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.Column("pushed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("penalty_basis", sa.String(length=30), nullable=True),
        sa.Column("deduct_amt", Money, nullable=True),
        sa.Column("recover_amt", Money, nullable=True),
        sa.Column("fine_amt", Money, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["assignee_id"], ["wf_users.id"], name=op.f("fk_wf_items_assignee_id_wf_users")),
        sa.ForeignKeyConstraint(["first_reviewer_id"], ["wf_users.id"],
                                name=op.f("fk_wf_items_first_reviewer_id_wf_users")),
        sa.PrimaryKeyConstraint("jr_id", name=op.f("pk_wf_items")),
    )
    op.create_index(op.f("ix_wf_items_assignee_id"), "wf_items", ["assignee_id"])
    op.create_index(op.f("ix_wf_items_fixmedins_code_state"), "wf_items", ["fixmedins_code", "state"])
    op.create_index(op.f("ix_wf_items_period"), "wf_items", ["period"])
    op.create_index(op.f("ix_wf_items_rule_id_state"), "wf_items", ["rule_id", "state"])
    op.create_index(op.f("ix_wf_items_state_deadline"), "wf_items", ["state", "deadline"])
    op.create_index(op.f("ix_wf_items_vola_amt"), "wf_items", ["vola_amt"])
    op.create_table(
        "wf_item_log",
        sa.Column("id", LogId, nullable=False),
        sa.Column("jr_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=100), nullable=False),
        sa.Column("actor_role", sa.String(length=20), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(length=32), nullable=True),
        sa.Column("to_state", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["wf_users.id"], name=op.f("fk_wf_item_log_actor_id_wf_users")),
        sa.ForeignKeyConstraint(["jr_id"], ["wf_items.jr_id"], name=op.f("fk_wf_item_log_jr_id_wf_items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wf_item_log")),
    )
    op.create_index(op.f("ix_wf_item_log_at"), "wf_item_log", ["at"])
    op.create_index(op.f("ix_wf_item_log_jr_id_id"), "wf_item_log", ["jr_id", "id"])
    op.create_table(
        "wf_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("jr_id", sa.String(length=64), nullable=False),
        sa.Column("log_id", LogId, nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_by_name", sa.String(length=100), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["jr_id"], ["wf_items.jr_id"], name=op.f("fk_wf_attachments_jr_id_wf_items")),
        sa.ForeignKeyConstraint(["log_id"], ["wf_item_log.id"], name=op.f("fk_wf_attachments_log_id_wf_item_log")),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["wf_users.id"],
                                name=op.f("fk_wf_attachments_uploaded_by_id_wf_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wf_attachments")),
    )
    op.create_index(op.f("ix_wf_attachments_jr_id"), "wf_attachments", ["jr_id"])
    _append_only_triggers()


def _append_only_triggers() -> None:
    """The audit tables refuse UPDATE and DELETE in the database itself (and TRUNCATE on PostgreSQL)."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for table in APPEND_ONLY:
            for verb in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")
    elif dialect == "postgresql":
        op.execute("CREATE FUNCTION wf_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$")
        for table in APPEND_ONLY:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION wf_refuse_change()")
            op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION wf_refuse_change()")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY:
        if dialect == "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        elif dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS wf_refuse_change()")
    for table in ("wf_attachments", "wf_item_log", "wf_items", "wf_admin_log", "wf_users", "wf_login_attempts",
                  "wf_calendar_days"):
        op.drop_table(table)
