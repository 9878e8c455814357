"""Who sees and changes what. Every list, search and page asks here, so a
rule is written once: a rep his own projects, a manager his team's, the
director, general manager, clerk and auditor everything (clerk and auditor
read-only). Objects a user may not see are answered with 404, never leaked."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort

from .extensions import db
from .models import Customer, Person, Project, Record, Signature, Team, User
from .process import READ_ONLY_ROLES, SEE_ALL_ROLES


def managed_team_ids(user: User) -> list[int]:
    return list(db.session.scalars(sa.select(Team.id).where(Team.manager_id == user.id)))


def project_scope(user: User):
    """A WHERE clause limiting projects to those `user` may see."""
    if user.role in SEE_ALL_ROLES:
        return sa.true()
    if user.role == "manager":
        teams = managed_team_ids(user)
        return sa.or_(Project.team_id.in_(teams), Project.owner_id == user.id)
    if user.role == "rep":
        return Project.owner_id == user.id
    # hr and implementation see the projects of sheets waiting for them or
    # that they have signed (a handover they received, a request they approved).
    involved = sa.select(Record.project_id).where(sa.or_(
        Record.waiting_for_id == user.id,
        Record.id.in_(sa.select(Signature.record_id).where(
            sa.or_(Signature.signer_id == user.id, Signature.on_behalf_of_id == user.id)))))
    return Project.id.in_(involved)


def visible_projects(user: User):
    return sa.select(Project).where(project_scope(user))


def can_view_project(user: User, project: Project) -> bool:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Project).where(Project.id == project.id, project_scope(user))) > 0


def can_edit_project(user: User, project: Project) -> bool:
    if user.role in READ_ONLY_ROLES:
        return False
    if user.role in ("director", "gm"):
        return True
    if user.role == "manager":
        return project.team_id in managed_team_ids(user) or project.owner_id == user.id
    return user.role == "rep" and project.owner_id == user.id


def can_create_project(user: User) -> bool:
    return user.role in ("rep", "manager", "director", "gm")


def customer_scope(user: User):
    """Customers a user may see: those he registered or owns by team, and the
    customers of every project he may see."""
    if user.role in SEE_ALL_ROLES:
        return sa.true()
    of_visible_projects = sa.select(Project.customer_id).where(project_scope(user))
    clauses = [Customer.id.in_(of_visible_projects), Customer.owner_id == user.id]
    if user.role == "manager":
        clauses.append(Customer.team_id.in_(managed_team_ids(user)))
    return sa.or_(*clauses)


def visible_customers(user: User):
    return sa.select(Customer).where(customer_scope(user))


def can_view_customer(user: User, customer: Customer) -> bool:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Customer).where(Customer.id == customer.id, customer_scope(user))) > 0


def can_edit_customer(user: User, customer: Customer) -> bool:
    if user.role in READ_ONLY_ROLES or user.role in ("hr", "implementation", "admin"):
        return False
    if user.role in ("director", "gm"):
        return True
    if user.role == "manager":
        return customer.team_id in managed_team_ids(user) or customer.owner_id == user.id or can_view_customer(user, customer)
    return customer.owner_id == user.id or can_view_customer(user, customer)


def can_review_customer(user: User, customer: Customer) -> bool:
    """Who may change the customer master directly, as its 信息审核人: the
    manager of the customer's team, the director and the general manager.
    Everyone else changes it by filing the customer master's sheet
    (客户基本信息表), which the 信息审核人 approves (paper-forms.md, 信息审核)."""
    if user.role in ("director", "gm"):
        return True
    return user.role == "manager" and customer.team_id is not None and customer.team_id in managed_team_ids(user)


def can_see_private_person(user: User, customer: Customer) -> bool:
    """Who reads a person's private fields (people.PRIVATE_FIELDS: family,
    birthday, political status, spouse, children …): the customer's team, the
    manager of that team, the director and the general manager. Nobody else,
    not even the read-only roles that see every customer (clerk, auditor):
    the source asks to share contact data inside the sales team only
    (paper-forms-toolkit.md, Master data ⚠; 002, 003)."""
    if user.role in ("director", "gm"):
        return True
    if customer.team_id is None:
        return customer.owner_id == user.id
    if user.role == "manager" and customer.team_id in managed_team_ids(user):
        return True
    return user.role in ("rep", "manager") and user.team_id == customer.team_id


def may_read_private(user: User, record: Record) -> bool:
    """Whether `user` reads the private details a sheet holds about a person
    of its customer (Field.private: 联系人基本信息表, 关键决策人基本信息表):
    the same people as can_see_private_person; True for a record without a
    customer (nothing private to protect)."""
    customer = record.customer
    return True if customer is None else can_see_private_person(user, customer)


def record_scope(user: User):
    """Records a user may see: those of projects he sees, the customer-level
    sheets of customers he sees, those waiting for his signature (or for
    someone he deputises for today) and those signed by him."""
    from .workflow import principals_of
    signed = sa.select(Signature.record_id).where(
        sa.or_(Signature.signer_id == user.id, Signature.on_behalf_of_id == user.id))
    on_customers = sa.and_(Record.project_id.is_(None),
                           Record.customer_id.in_(sa.select(Customer.id).where(customer_scope(user))))
    return sa.or_(Record.project_id.in_(sa.select(Project.id).where(project_scope(user))), on_customers,
                  Record.waiting_for_id.in_([user.id] + principals_of(user)), Record.author_id == user.id,
                  Record.id.in_(signed))


def can_view_record(user: User, record: Record) -> bool:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Record).where(Record.id == record.id, record_scope(user))) > 0


def can_file_sheet(user: User, project: Project) -> bool:
    """Who may file a new sheet against a project: whoever may edit it,
    except its owner while his 立项权 is cancelled (Project.filing_right_lost_at)
    and he may not restore it himself."""
    if filing_right_lost(user, project):
        return False
    return can_edit_project(user, project)


def filing_right_lost(user: User, project: Project) -> bool:
    """Whether `user` is the owner who lost the 立项权 of `project` (source
    000: no follow-up for A 1 month / B 2 / C 3 → 取消业务员该项目立项权)."""
    return project.filing_right_lost_at is not None and project.owner_id == user.id \
        and not can_restore_filing_right(user, project)


def can_restore_filing_right(user: User, project: Project) -> bool:
    """Who decides after a 立项权 was cancelled (reassign or restore): the
    manager of the project's team, the director and the general manager."""
    if user.role in ("director", "gm"):
        return True
    return user.role == "manager" and project.team_id in managed_team_ids(user)
def can_file_customer_sheet(user: User, customer: Customer) -> bool:
    """Who may file a customer-level sheet (营销活动表, 异常客户信息表): whoever
    may change the customer (can_edit_customer), as its master is changed
    by filing a sheet that its 信息审核人 approves."""
    return can_edit_customer(user, customer)


def can_edit_record(user: User, record: Record) -> bool:
    """Only the author edits his sheet (the paper's 填写人)."""
    return record.author_id == user.id and user.role not in READ_ONLY_ROLES


def get_visible_or_404(model, object_id: int, user: User):
    """Load → check access: 404 whether it does not exist or is not visible."""
    obj = db.session.get(model, object_id)
    checks = {Project: can_view_project, Customer: can_view_customer, Record: can_view_record,
              Person: lambda u, person: can_view_customer(u, person.customer)}
    if obj is None or not checks[model](user, obj):
        abort(404)
    return obj
