"""Workflow tables (SQLAlchemy 2 typed ORM). Every table is prefixed ``wf_``; migrations live in ``migrations/``.

Append-only tables (``wf_item_log``, ``wf_attachments``, ``wf_admin_log``) are never updated or deleted: the
services only insert, an ORM flush hook refuses changes, and the migrations add database triggers that refuse
UPDATE and DELETE on both SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = Numeric(18, 2)

APPEND_ONLY_TABLES = ("wf_item_log", "wf_attachments", "wf_admin_log")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    __tablename__ = "wf_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    fixmedins_code: Mapped[str | None] = mapped_column(String(30))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    password_changed_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class LoginAttempt(Base):
    __tablename__ = "wf_login_attempts"
    __table_args__ = (Index(None, "username", "at"), Index(None, "client_ip", "at"))

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    username: Mapped[str] = mapped_column(String(64))
    client_ip: Mapped[str] = mapped_column(String(64))
    success: Mapped[bool] = mapped_column(Boolean)


class Item(Base):
    """One 疑点 per jr_id, with the finding's fields copied from DuckDB so lists need no join."""

    __tablename__ = "wf_items"
    __table_args__ = (
        Index(None, "state", "deadline"),
        Index(None, "fixmedins_code", "state"),
        Index(None, "rule_id", "state"),
        Index(None, "period"),
        Index(None, "assignee_id"),
        Index(None, "vola_amt"),
    )

    jr_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    run_id: Mapped[int | None] = mapped_column(BigInteger)
    last_run_id: Mapped[int | None] = mapped_column(BigInteger)
    rule_id: Mapped[str] = mapped_column(String(64))
    rule_name: Mapped[str | None] = mapped_column(String(200))
    sev_deg: Mapped[int | None] = mapped_column(Integer)
    vola_bhvr_type: Mapped[str | None] = mapped_column(String(30))
    mdtrt_id: Mapped[str | None] = mapped_column(String(64))
    setl_id: Mapped[str | None] = mapped_column(String(64))
    psn_no: Mapped[str | None] = mapped_column(String(64))
    fixmedins_code: Mapped[str | None] = mapped_column(String(30))
    fixmedins_name: Mapped[str | None] = mapped_column(String(200))
    hilist_code: Mapped[str | None] = mapped_column(String(64))
    hilist_name: Mapped[str | None] = mapped_column(String(200))
    vola_amt: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    vola_cont: Mapped[str | None] = mapped_column(Text)
    vola_evid: Mapped[str | None] = mapped_column(Text)
    kp_id: Mapped[str | None] = mapped_column(String(64))
    period: Mapped[str | None] = mapped_column(String(7))          # YYYY-MM of the settlement or encounter
    state: Mapped[str] = mapped_column(String(32))
    state_since: Mapped[dt.datetime] = mapped_column(DateTime)
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("wf_users.id"))
    first_reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("wf_users.id"))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime)
    pushed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # 违规处理: basis (key of transitions.PENALTY_BASES) and amounts in yuan
    penalty_basis: Mapped[str | None] = mapped_column(String(30))
    deduct_amt: Mapped[Decimal | None] = mapped_column(Money)       # 扣款（从应付款中扣除）
    recover_amt: Mapped[Decimal | None] = mapped_column(Money)      # 追回（已支付基金）
    fine_amt: Mapped[Decimal | None] = mapped_column(Money)         # 罚款
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads it once)


class LogEntryRow(Base):
    """Append-only audit log: who, when, from, to, why. Never updated or deleted."""

    __tablename__ = "wf_item_log"
    __table_args__ = (Index(None, "jr_id", "id"), Index(None, "at"))

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    jr_id: Mapped[str] = mapped_column(ForeignKey("wf_items.jr_id"))
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("wf_users.id"))   # None: 系统
    actor_name: Mapped[str] = mapped_column(String(100))
    actor_role: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    detail: Mapped[dict | None] = mapped_column(JSON)


class AttachmentRow(Base):
    """Evidence files, stored in the database with their SHA-256 (backed up and scoped with the workflow)."""

    __tablename__ = "wf_attachments"
    __table_args__ = (Index(None, "jr_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jr_id: Mapped[str] = mapped_column(ForeignKey("wf_items.jr_id"))
    log_id: Mapped[int] = mapped_column(ForeignKey("wf_item_log.id"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("wf_users.id"))
    uploaded_by_name: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)


class CalendarDay(Base):
    """Overrides of the working-day calendar: holidays (is_workday false) and make-up working days (调休)."""

    __tablename__ = "wf_calendar_days"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str | None] = mapped_column(String(50))


class AdminLogRow(Base):
    """Append-only log of account and calendar administration."""

    __tablename__ = "wf_admin_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("wf_users.id"))
    actor_name: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[str | None] = mapped_column(Text)


_APPEND_ONLY_CLASSES = (LogEntryRow, AttachmentRow, AdminLogRow)


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_append_only(session: Session, flush_context, instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, _APPEND_ONLY_CLASSES) and (obj in session.deleted or session.is_modified(obj)):
            raise PermissionError(f"{type(obj).__tablename__} is append-only")
