"""The database: people and teams, customers, sales projects, the sheets
(records) filed against them with their revisions, sign-off and archive, and
the append-only audit trail. Only operations.py writes to it."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db


def utcnow() -> datetime:
    """Naive UTC timestamp: stored the same on SQLite and PostgreSQL."""
    from . import clock
    return clock.now()


class Team(db.Model):
    """A 片区/分公司 with its manager."""
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    manager_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", use_alter=True, ondelete="SET NULL"))
    manager: Mapped[User | None] = relationship(foreign_keys=[manager_id], post_update=True)
    members: Mapped[list[User]] = relationship(
        back_populates="team", foreign_keys="User.team_id", order_by="User.name")


class User(UserMixin, db.Model):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    email: Mapped[str | None] = mapped_column(sa.String(200))
    role: Mapped[str] = mapped_column(sa.String(20), index=True)
    title: Mapped[str | None] = mapped_column(sa.String(80))  # e.g. 项目经理, 技术工程师
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("teams.id", ondelete="SET NULL"), index=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(sa.String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Bumped by sign-out, a password change and an admin's reset: a session or
    # remember cookie carrying an older number no longer signs anyone in.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # 我的日程's iCalendar feed: the SHA-256 of the secret in its link (the
    # link itself is shown once), and when it was made; None: no feed.
    calendar_token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True, index=True)
    calendar_token_at: Mapped[datetime | None]
    team: Mapped[Team | None] = relationship(back_populates="members", foreign_keys=[team_id])

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    def get_id(self) -> str:
        """What Flask-Login keeps in the session and the remember cookie:
        "<id>:<session_version>", so both end when the version moves on."""
        return f"{self.id}:{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class LoginThrottle(db.Model):
    """Sign-in attempts counted per key ("user:<normalised name>" or
    "ip:<address>") within a window that opens at the first attempt. An attempt
    is claimed by one conditional UPDATE before the password is checked, so
    simultaneous attempts cannot check more passwords than the limit."""
    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_start: Mapped[datetime] = mapped_column(default=utcnow)


class Customer(db.Model):
    """The customer master. 客户基本信息表 is its sheet: its final approval
    updates the columns here; `profile` keeps the sheet's other fields (and
    合同评审记录's bank and tax data). Each change is a CustomerChange."""
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_no: Mapped[str] = mapped_column(sa.String(30), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), index=True)
    # customer_keys.name_key(name), kept in step by the listener below: the
    # duplicate check is one indexed lookup. Not unique: rows that were
    # duplicates before the check existed stay until an admin merges them.
    name_key: Mapped[str | None] = mapped_column(sa.String(200), index=True)
    # 统一社会信用代码 / 增值税号, customer_keys.tax_key form; unique when present.
    tax_id: Mapped[str | None] = mapped_column(sa.String(40), unique=True)
    short_name: Mapped[str | None] = mapped_column(sa.String(80))
    category: Mapped[str | None] = mapped_column(sa.String(10))  # 一般|重要|VIP
    source: Mapped[str | None] = mapped_column(sa.String(20))
    industry: Mapped[str | None] = mapped_column(sa.String(20))
    contact: Mapped[str | None] = mapped_column(sa.String(80))
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    address: Mapped[str | None] = mapped_column(sa.String(300))
    profile: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("teams.id", ondelete="SET NULL"), index=True)
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    info_record_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("records.id", use_alter=True, ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    team: Mapped[Team | None] = relationship()
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    projects: Mapped[list[Project]] = relationship(back_populates="customer", order_by="Project.id.desc()")


class CustomerChange(db.Model):
    """One line of the customer's 信息修改记录: a master field changed from
    `old_value` to `new_value` (as printed), by whom and through which
    approved sheet (or the customer edit page when record_id is None)."""
    __tablename__ = "customer_changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    record_id: Mapped[int | None] = mapped_column(sa.ForeignKey("records.id", ondelete="SET NULL"))
    field_key: Mapped[str] = mapped_column(sa.String(40))
    field_label: Mapped[str] = mapped_column(sa.String(80))
    old_value: Mapped[str | None] = mapped_column(sa.Text)
    new_value: Mapped[str | None] = mapped_column(sa.Text)
    changed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))  # 填写人
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))  # 信息审核人
    at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by: Mapped[User | None] = relationship(foreign_keys=[changed_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    record: Mapped["Record | None"] = relationship(foreign_keys=[record_id])


class Person(db.Model):
    """A person in the customer's organisation (联系人; a 关键决策人 when
    `key_decision_maker`), the person master of paper-forms-toolkit.md sheets
    8 and 20. `details` holds the sheet fields any viewer of the customer may
    read; `private` the family, birthday, political status … that only the
    customer's team, its manager and above may read (people.PRIVATE_FIELDS,
    access.can_see_private_person). Sheets name a person by id (contact kind)."""
    __tablename__ = "people"
    __table_args__ = (sa.Index("ix_people_customer_name", "customer_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(80))
    title: Mapped[str | None] = mapped_column(sa.String(80))  # 职位
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    key_decision_maker: Mapped[bool] = mapped_column(default=False)
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    private: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    customer: Mapped[Customer] = relationship()


@sa.event.listens_for(Customer.name, "set")
def _customer_name_key(target: Customer, value, _old, _initiator) -> None:
    from .customer_keys import name_key
    target.name_key = name_key(value)


@sa.event.listens_for(Customer.tax_id, "set", retval=True)
def _customer_tax_key(_target: Customer, value, _old, _initiator):
    from .customer_keys import tax_key
    return tax_key(value)


class Project(db.Model):
    """A sales project (销售项目): every sheet is filed against one."""
    __tablename__ = "projects"
    __table_args__ = (
        sa.Index("ix_projects_stage_team", "stage", "team_id"),
        sa.Index("ix_projects_owner_stage", "owner_id", "stage"),
        # The open funnel and the follow-up lists read only this index.
        sa.Index("ix_projects_open_work", "stage", "customer_class", "followup_from", "last_followup_at",
                 "created_at", "team_id", "owner_id", "amount"),
        # Stale stages, and projects closed recently.
        sa.Index("ix_projects_stage_entered", "stage", "stage_entered_at"),
        # The reports' 应用类型/所属产品 filter lists the product lines from it.
        sa.Index("ix_projects_product_line", "product_line"),
        # 销售收入预测表: projects expected to sign in a period, by stage and 签约概率 (and amount: read from the index alone).
        sa.Index("ix_projects_expected_sign", "expected_sign_date", "stage", "probability", "amount"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    project_no: Mapped[str] = mapped_column(sa.String(30), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("teams.id", ondelete="SET NULL"))
    product_line: Mapped[str | None] = mapped_column(sa.String(120))  # 应用类型/所属产品
    amount: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))  # 预计合同金额（万元）
    probability: Mapped[int] = mapped_column(default=20)  # 签约概率 %
    expected_sign_date: Mapped[date | None]
    competitors: Mapped[str | None] = mapped_column(sa.String(300))
    funding: Mapped[str | None] = mapped_column(sa.String(300))  # 项目资金来源及预算
    lead_source: Mapped[str | None] = mapped_column(sa.String(20))  # 客户来源
    customer_class: Mapped[str] = mapped_column(sa.String(1), default="C")  # A–D
    stage: Mapped[str] = mapped_column(sa.String(20), default="lead")
    stage_entered_at: Mapped[datetime] = mapped_column(default=utcnow)
    stage_stay_reason: Mapped[str | None] = mapped_column(sa.String(500))  # 阶段停留原因
    lost_reason: Mapped[str | None] = mapped_column(sa.String(500))  # 丢标原因
    # 上次跟进: the start (local midnight, as UTC) of the contact date of the
    # latest submitted follow-up sheet.
    last_followup_at: Mapped[datetime | None] = mapped_column(index=True)
    # The follow-up clock counts from here: the later of last_followup_at and
    # the last reassignment (followup.py).
    followup_from: Mapped[datetime | None]
    # 立项权 cancelled (UTC): the owner went past his class's loss limit without
    # a follow-up (paper-forms-toolkit.md 3.13, source 000); he files no sheet
    # for it until a manager reassigns the project or restores his right.
    filing_right_lost_at: Mapped[datetime | None]
    signed_at: Mapped[date | None]  # 签约日期: set when it reaches 签约成交, cleared when reopened
    # A manager's acceptance of a class that contradicts 签约概率/预计签约日期:
    # "class|probability|date" as accepted; it lapses when any of them changes.
    class_accepted: Mapped[str | None] = mapped_column(sa.String(40))
    class_accepted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    customer: Mapped[Customer] = relationship(back_populates="projects")
    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    team: Mapped[Team | None] = relationship()
    events: Mapped[list[ProjectEvent]] = relationship(
        back_populates="project", order_by="ProjectEvent.at", cascade="all, delete-orphan")
    records: Mapped[list[Record]] = relationship(back_populates="project", order_by="Record.id")
    instalments: Mapped[list[Instalment]] = relationship(
        back_populates="project", order_by="Instalment.seq", cascade="all, delete-orphan")
    class_accepted_by: Mapped[User | None] = relationship(foreign_keys=[class_accepted_by_id])

    @property
    def collected_amount(self) -> Decimal:
        """已回款（万元）: the sum of the instalments' 实际金额."""
        return sum((i.actual_amount for i in self.instalments if i.actual_amount is not None), Decimal("0.00"))

    @property
    def collection_date(self) -> date | None:
        """回款日期: the latest 实际回款日期 of its instalments."""
        return max((i.actual_date for i in self.instalments if i.actual_date), default=None)


INSTALMENT_KINDS = (("software", "软件"), ("implementation", "实施"))


class Instalment(db.Model):
    """One 期次 of a project's 回款计划: planned date and amount (万元), 软件 or
    实施, and what was actually collected (date, 万元)."""
    __tablename__ = "instalments"
    __table_args__ = (
        sa.UniqueConstraint("project_id", "seq"),
        sa.Index("ix_instalments_planned", "planned_date", "project_id"),
        sa.Index("ix_instalments_actual", "actual_date", "project_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id", ondelete="CASCADE"))
    seq: Mapped[int]  # 期次, 1, 2, …
    planned_date: Mapped[date]
    planned_amount: Mapped[Decimal] = mapped_column(sa.Numeric(14, 2))  # 万元
    kind: Mapped[str] = mapped_column(sa.String(20), default="software")  # 软件/实施
    actual_date: Mapped[date | None]
    actual_amount: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))  # 万元
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    project: Mapped[Project] = relationship(back_populates="instalments")


class ProjectEvent(db.Model):
    """The project's history: creation, stage changes (who, when, why, days in
    the stage left) and reassignments."""
    __tablename__ = "project_events"
    __table_args__ = (
        sa.Index("ix_project_events_kind_at", "kind", "at"),
        # The funnel counts the projects entering and leaving each stage per
        # month from these alone; the third gives the highest stage reached.
        sa.Index("ix_project_events_to_at", "to_value", "at", "kind", "project_id"),
        sa.Index("ix_project_events_from_at", "from_value", "at", "kind", "project_id"),
        sa.Index("ix_project_events_project_kind_to", "project_id", "kind", "to_value"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    # created | stage | reassigned | edited | right_lost | right_restored
    kind: Mapped[str] = mapped_column(sa.String(20))
    from_value: Mapped[str | None] = mapped_column(sa.String(40))
    to_value: Mapped[str | None] = mapped_column(sa.String(40))
    reason: Mapped[str | None] = mapped_column(sa.String(500))
    days_in_stage: Mapped[int | None]
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    project: Mapped[Project] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class ProjectNode(db.Model):
    """A node of 销售项目跟踪表 (paper-forms-toolkit.md 3.7, process.TRACKING_NODES)
    the project has reached, with the department's date it was reached: set
    when the project enters the stage that implies it (process.STAGE_NODES) or
    recorded by hand on the project page."""
    __tablename__ = "project_nodes"
    __table_args__ = (sa.UniqueConstraint("project_id", "node", name="uq_project_nodes_project_node"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id", ondelete="CASCADE"))
    node: Mapped[str] = mapped_column(sa.String(30))
    reached_on: Mapped[date]
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Counter(db.Model):
    """Gap-free human-readable numbers (XM-2026-0001, DH-2026-0007): one row
    per series, incremented inside the writing transaction."""
    __tablename__ = "counters"
    key: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


class Record(db.Model):
    """One filled paper sheet, filed against a project or, for a customer-level
    sheet (FormSpec.filed_on == "customer"), against the customer alone."""
    __tablename__ = "records"
    __table_args__ = (
        sa.Index("ix_records_project_sheet", "project_id", "sheet"),
        sa.Index("ix_records_author_status", "author_id", "status"),
        # 业务员排行: the sheets filed in a period per author and kind, from the index alone.
        sa.Index("ix_records_created_author_sheet", "created_at", "author_id", "sheet"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(30), unique=True)  # 编号
    sheet: Mapped[str] = mapped_column(sa.String(40))  # form definition key
    spec_version: Mapped[int] = mapped_column(default=1)
    project_id: Mapped[int | None] = mapped_column(sa.ForeignKey("projects.id"))  # None: filed on the customer
    customer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    # The person a person-master sheet is filed for (FormSpec.updates_person);
    # set at its first approval when the sheet records a new person.
    person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("people.id", ondelete="SET NULL"), index=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    # draft | submitted | returned | approved
    status: Mapped[str] = mapped_column(sa.String(20), default="draft", index=True)
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    version: Mapped[int] = mapped_column(default=1)  # bumped on every save (edit conflicts)
    round: Mapped[int] = mapped_column(default=0)  # sign-off round, 1 at first submission
    chain: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)  # slots of this round
    current_slot: Mapped[int | None]
    waiting_for_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)  # the current slot's signer
    submitted_at: Mapped[datetime | None]
    first_submitted_at: Mapped[datetime | None]
    # 补录: a follow-up sheet first submitted more than 24 h after its contact date.
    late_entry: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    approved_at: Mapped[datetime | None]
    waiting_since: Mapped[datetime | None]
    pdf_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    impl_status: Mapped[str | None] = mapped_column(sa.String(20))  # handover: received|started|finished
    impl_started_at: Mapped[datetime | None]
    impl_finished_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    project: Mapped[Project | None] = relationship(back_populates="records")
    customer: Mapped[Customer | None] = relationship(foreign_keys=[customer_id])
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    waiting_for: Mapped[User | None] = relationship(foreign_keys=[waiting_for_id])
    revisions: Mapped[list[Revision]] = relationship(
        back_populates="record", order_by="Revision.number", cascade="all, delete-orphan")
    signatures: Mapped[list[Signature]] = relationship(
        back_populates="record", order_by="Signature.id", cascade="all, delete-orphan")
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="record", order_by="Attachment.id", cascade="all, delete-orphan")

    @property
    def archiving(self) -> bool:
        """归档中: approved along its sign-off chain, its sealed PDF still
        being made by the queue's seal_final_pdf job. Records generated
        approved without a chain (demo --scale funnel data) have none to wait for."""
        return self.status == "approved" and not self.pdf_sha256 and bool(self.chain)


class Revision(db.Model):
    """Every save of a record: a full snapshot plus the field-level changes
    from the previous one (the paper's 信息修改记录)."""
    __tablename__ = "revisions"
    __table_args__ = (sa.UniqueConstraint("record_id", "number", name="uq_revisions_record_number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(sa.ForeignKey("records.id", ondelete="CASCADE"))
    number: Mapped[int]
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    changes: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    record: Mapped[Record] = relationship(back_populates="revisions")
    author: Mapped[User] = relationship()


class Signature(db.Model):
    """One act on one slot of a record's sign-off chain."""
    __tablename__ = "signatures"
    __table_args__ = (
        sa.UniqueConstraint("record_id", "round", "slot_index", name="uq_signatures_slot"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(sa.ForeignKey("records.id", ondelete="CASCADE"), index=True)
    round: Mapped[int]
    slot_index: Mapped[int]
    slot_key: Mapped[str] = mapped_column(sa.String(40))
    slot_label: Mapped[str] = mapped_column(sa.String(80))
    signer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))  # who acted
    on_behalf_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))  # 代签: for whom
    decision: Mapped[str] = mapped_column(sa.String(20))  # approved | returned
    comment: Mapped[str | None] = mapped_column(sa.Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    record: Mapped[Record] = relationship(back_populates="signatures")
    signer: Mapped[User] = relationship(foreign_keys=[signer_id])
    on_behalf_of: Mapped[User | None] = relationship(foreign_keys=[on_behalf_of_id])


class Delegation(db.Model):
    """代签: `deputy` may sign for `principal` between two dates."""
    __tablename__ = "delegations"
    id: Mapped[int] = mapped_column(primary_key=True)
    principal_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    deputy_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    principal: Mapped[User] = relationship(foreign_keys=[principal_id])
    deputy: Mapped[User] = relationship(foreign_keys=[deputy_id])


class Attachment(db.Model):
    """A file uploaded to a record's `files` field, stored outside static/
    under a server-made name."""
    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int | None] = mapped_column(sa.ForeignKey("records.id", ondelete="CASCADE"), index=True)
    field_key: Mapped[str] = mapped_column(sa.String(40))
    filename: Mapped[str] = mapped_column(sa.String(255))
    stored_name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    record: Mapped[Record | None] = relationship(back_populates="attachments")


class KeptForm(db.Model):
    """What a signed-out user had typed into a sheet form when he saved it:
    kept when he signs in again from the page that told him, handed back
    once to the same form for the same user, then deleted."""
    __tablename__ = "kept_forms"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(sa.String(300))
    pairs: Mapped[list[Any]] = mapped_column(sa.JSON)  # [[input name, value], …] as posted
    kept_at: Mapped[datetime] = mapped_column(default=utcnow)


class UsedFormToken(db.Model):
    """The one-time token of a rendered form whose act (save, submit, sign,
    return) has been done. The same POST arriving again — a double click, a
    network retry, Back and resubmit — finds its token here and acts no more;
    it is answered with the record the first one produced."""
    __tablename__ = "used_form_tokens"
    token: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    act: Mapped[str] = mapped_column(sa.String(20))  # save|submit|sign
    record_id: Mapped[int | None] = mapped_column(sa.ForeignKey("records.id", ondelete="CASCADE"))
    used_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (sa.Index("ix_notifications_user_read", "user_id", "read_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(sa.String(20))  # submitted|returned|approved|reminder|...
    message: Mapped[str] = mapped_column(sa.String(500))
    link: Mapped[str | None] = mapped_column(sa.String(300))
    record_id: Mapped[int | None] = mapped_column(sa.ForeignKey("records.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]


class ArchivedPdf(db.Model):
    """A sealed final PDF, stored once under its SHA-256 and never changed."""
    __tablename__ = "archived_pdfs"
    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(sa.ForeignKey("records.id"), index=True)
    revision_number: Mapped[int]
    round: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    size: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)  # the moment of final approval
    record: Mapped[Record] = relationship()


class Target(db.Model):
    """Sales targets set by managers: per rep (user) or team, per year+month."""
    __tablename__ = "targets"
    __table_args__ = (sa.UniqueConstraint("user_id", "team_id", "year", "month", name="uq_targets_period"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("teams.id"))
    year: Mapped[int]
    month: Mapped[int]
    signed_amount: Mapped[Decimal] = mapped_column(sa.Numeric(14, 2), default=0)
    new_customers: Mapped[int] = mapped_column(default=0)
    set_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))


class AuditEvent(db.Model):
    """Append-only audit trail. Each event carries the hash of the previous
    one, so an edited, deleted or reordered event breaks the chain."""
    __tablename__ = "audit_events"
    __table_args__ = (sa.Index("ix_audit_events_action_at", "action", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    on_behalf_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(sa.String(30))
    target_type: Mapped[str | None] = mapped_column(sa.String(30))
    target_id: Mapped[int | None]
    target_label: Mapped[str | None] = mapped_column(sa.String(120))
    ip: Mapped[str | None] = mapped_column(sa.String(64))
    user_agent: Mapped[str | None] = mapped_column(sa.String(300))
    detail: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    content_hash: Mapped[str | None] = mapped_column(sa.String(64))
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    on_behalf_of: Mapped[User | None] = relationship(foreign_keys=[on_behalf_of_id])
