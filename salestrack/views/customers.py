"""The customer master: list with live search, page, create, edit. The full
客户基本信息表 is a sheet filed on the customer's project; its key fields
are kept here."""
import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from .. import access, operations, people
from ..formkit import registry
from ..records import customer_sheets, master_profile
from ..customer_keys import duplicate_message
from ..extensions import db
from ..formkit.builder import build_form, form_data
from ..extensions import htmx
from ..models import CustomerChange, Customer, Person, Project, Record
from .common import page_number, render_page

bp = Blueprint("customers", __name__, url_prefix="/customers")
PAGE_SIZE = 50
CATEGORIES = ("一般", "重要", "VIP")
SOURCES = ("广告反馈", "展会", "老客户介绍", "主动上门", "销售人员发掘")
INDUSTRIES = ("航空", "机械", "电器", "电信", "烟草", "信息", "传媒", "政府", "其他")


def _choices(values):
    return [("", "—")] + [(v, v) for v in values]


class CustomerForm(FlaskForm):
    name = StringField("企业名称", validators=[DataRequired("请填写企业名称"), Length(max=200)])
    short_name = StringField("企业简称", validators=[Optional(), Length(max=80)])
    category = SelectField("客户类别", choices=_choices(CATEGORIES), validators=[Optional()])
    source = SelectField("客户来源", choices=_choices(SOURCES), validators=[Optional()])
    industry = SelectField("企业所属行业", choices=_choices(INDUSTRIES), validators=[Optional()])
    contact = StringField("联系人", validators=[Optional(), Length(max=80)])
    phone = StringField("电话", validators=[Optional(), Length(max=40)])
    address = StringField("地址", validators=[Optional(), Length(max=300)])
    tax_id = StringField("统一社会信用代码/增值税号", validators=[Optional(), Length(max=40)])


def _can_create(user) -> bool:
    return user.role in ("rep", "manager", "director", "gm")


@bp.route("/")
@login_required
def index():
    q = access.visible_customers(current_user)
    text = (request.args.get("q") or "").strip()[:100]
    if text:
        like = f"%{text}%"
        q = q.where(sa.or_(Customer.name.ilike(like), Customer.short_name.ilike(like),
                           Customer.customer_no.ilike(like), Customer.contact.ilike(like)))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(q.subquery()))
    page, pages = page_number(total, PAGE_SIZE)
    customers = list(db.session.scalars(q.order_by(Customer.name).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    return render_page("customers/index.html", "customers/_rows.html", customers=customers, total=total,
                       page=page, pages=pages, args=request.args,
                       can_create=_can_create(current_user))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    if not _can_create(current_user):
        abort(403)
    form = CustomerForm()
    duplicate = None
    if form.validate_on_submit():
        try:
            customer = operations.create_customer(current_user, **_fields(form))
        except operations.DuplicateCustomer as e:
            duplicate = _refused(form, e)
        except operations.OperationError as e:
            getattr(form, e.field or "name").errors.append(e.message)
        else:
            flash(f"已登记客户 {customer.customer_no}", "success")
            return redirect(url_for(".show", customer_id=customer.id))
    return render_page("customers/edit.html", form=form, customer=None, duplicate=duplicate), \
        400 if form.errors else 200


def _fields(form) -> dict:
    return {f.name: f.data for f in form if f.name != "csrf_token"}


def _refused(form, e) -> Customer | None:
    """Puts the duplicate's pointer next to the field at fault; returns the
    existing customer when the user may open it (for a link), else None."""
    getattr(form, e.field).errors.append(duplicate_message(current_user, e.existing, e.reason))
    return e.existing if access.can_view_customer(current_user, e.existing) else None


@bp.route("/<int:customer_id>")
@login_required
def show(customer_id: int):
    customer = access.get_visible_or_404(Customer, customer_id, current_user)
    projects = list(db.session.scalars(sa.select(Project).where(
        Project.customer_id == customer.id, access.project_scope(current_user)).order_by(Project.id.desc())))
    records = list(db.session.scalars(sa.select(Record).where(sa.or_(
        Record.project_id.in_([p.id for p in projects]),
        sa.and_(Record.project_id.is_(None), Record.customer_id == customer.id)))
        .order_by(Record.updated_at.desc()).limit(100)))
    changes = list(db.session.scalars(sa.select(CustomerChange).where(CustomerChange.customer_id == customer.id)
                                      .order_by(CustomerChange.at.desc(), CustomerChange.id.desc()).limit(200)))
    # A sheet is named (number, link) only to who may open it (issue 15 finding 13).
    referenced = {c.record_id for c in changes if c.record_id} | {customer.info_record_id} - {None}
    openable = set(db.session.scalars(sa.select(Record.id).where(
        Record.id.in_(referenced), access.record_scope(current_user)))) if referenced else set()
    info = db.session.get(Record, customer.info_record_id) if customer.info_record_id in openable else None
    return render_page("customers/show.html", customer=customer, projects=projects, records=records, info=info,
                       changes=changes, openable=openable, people=people.people_of(customer.id),
                       profile=master_profile(customer),
                       can_edit=access.can_edit_customer(current_user, customer),
                       can_review=access.can_review_customer(current_user, customer),
                       customer_sheets=customer_sheets(),
                       can_file=access.can_file_customer_sheet(current_user, customer))


@bp.route("/<int:customer_id>/edit", methods=["GET", "POST"])
@login_required
def edit(customer_id: int):
    """The 信息审核人 (access.can_review_customer) edits the master directly,
    each change listed in 信息修改记录; anyone else who may change it is shown
    the way through review: the customer master's sheet on one of his
    projects of this customer, prefilled with what is on file."""
    customer = access.get_visible_or_404(Customer, customer_id, current_user)
    if not access.can_edit_customer(current_user, customer):
        abort(403)
    if not access.can_review_customer(current_user, customer):
        if request.method == "POST":
            abort(403)
        return _through_review(customer)
    form = CustomerForm(obj=customer)
    duplicate = None
    if form.validate_on_submit():
        try:
            operations.update_customer(current_user, customer, **_fields(form))
        except operations.DuplicateCustomer as e:
            db.session.rollback()
            duplicate = _refused(form, e)
        except operations.OperationError as e:
            db.session.rollback()
            getattr(form, e.field or "name").errors.append(e.message)
        else:
            flash("已保存", "success")
            return redirect(url_for(".show", customer_id=customer.id))
    return render_page("customers/edit.html", form=form, customer=customer, duplicate=duplicate), \
        400 if form.errors else 200


def _through_review(customer: Customer):
    """The page telling a rep how his change reaches the master: a link to the
    master sheet on each of his projects of this customer that he may file on."""
    sheet = registry.customer_master_sheet()
    projects = [p for p in db.session.scalars(sa.select(Project).where(
        Project.customer_id == customer.id, access.project_scope(current_user)).order_by(Project.id.desc()))
        if access.can_file_sheet(current_user, p)]
    return render_page("customers/through_review.html", customer=customer, sheet=sheet, projects=projects,
                       can_create_project=access.can_create_project(current_user))


# ── the people of the customer's organisation (person master) ─────────────

@bp.post("/<int:customer_id>/people")
@login_required
def add_person(customer_id: int):
    """Records a person of the customer (姓名, 职位, 电话) from the customer
    page or, in place, from a sheet's contact field (htmx): the answer is then
    the refreshed list of people the sheet's contact fields offer, with a
    line saying what was done; nothing typed on the sheet is lost."""
    customer = access.get_visible_or_404(Customer, customer_id, current_user)
    if not access.can_edit_customer(current_user, customer):
        abort(403)
    in_sheet = request.form.get("_for") == "sheet"
    error, person, added = None, None, False
    try:
        person, added = operations.add_person(current_user, customer, name=request.form.get("person_name", ""),
                                              title=request.form.get("person_title"),
                                              phone=request.form.get("person_phone"))
    except operations.OperationError as e:
        db.session.rollback()
        error = e.message
    if htmx:
        return render_template("customers/_people_picker.html" if in_sheet else "customers/_people.html",
                               customer=customer, person=person,
                               people=people.offered_people(customer) if in_sheet else people.people_of(customer.id),
                               added=added, error=error, can_add=True), 400 if error else 200
    if error:
        flash(error, "error")
    elif added:
        flash(f"已添加联系人 {person.name}", "success")
    else:
        flash(f"{person.name} 已在联系人中，未重复添加", "info")
    return redirect(url_for(".show", customer_id=customer.id) + "#people")


def _person_or_404(customer_id: int, person_id: int) -> Person:
    person = access.get_visible_or_404(Person, person_id, current_user)
    if person.customer_id != customer_id:
        abort(404)
    return person


@bp.get("/<int:customer_id>/people/<int:person_id>")
@login_required
def person(customer_id: int, person_id: int):
    """A person's page: what is on file; the private fields only for the
    customer's team, its manager and above (access.can_see_private_person)."""
    item = _person_or_404(customer_id, person_id)
    private = access.can_see_private_person(current_user, item.customer)
    sheets = [spec for spec in registry.all_specs() if spec.updates_person]
    records = list(db.session.scalars(sa.select(Record).where(
        Record.person_id == item.id, access.record_scope(current_user)).order_by(Record.updated_at.desc())))
    projects = [p for p in db.session.scalars(sa.select(Project).where(
        Project.customer_id == item.customer_id, access.project_scope(current_user)).order_by(Project.id.desc()))
        if access.can_file_sheet(current_user, p)]
    return render_page("customers/person.html", person=item, customer=item.customer, private=private,
                       values=people.values_of(item, private=private), basic=people.BASIC,
                       private_fields=people.PRIVATE, sheets=sheets, records=records, projects=projects,
                       can_review=access.can_review_customer(current_user, item.customer))


@bp.route("/<int:customer_id>/people/<int:person_id>/edit", methods=["GET", "POST"])
@login_required
def edit_person(customer_id: int, person_id: int):
    """The customer's 信息审核人 edits a person directly (as he edits the
    customer master); the private fields only when he may see them."""
    item = _person_or_404(customer_id, person_id)
    if not access.can_review_customer(current_user, item.customer):
        abort(403)
    private = access.can_see_private_person(current_user, item.customer)
    if request.method == "POST":
        form = build_form(people.FORM, formdata=request.form)
        if form.validate():
            try:
                operations.update_person(current_user, item, form_data(people.FORM, form), private=private)
            except operations.OperationError as e:
                db.session.rollback()
                form[e.field or "name"].errors = list(form[e.field or "name"].errors) + [e.message]
            else:
                flash("已保存", "success")
                return redirect(url_for(".person", customer_id=customer_id, person_id=item.id))
        status = 400
    else:
        form = build_form(people.FORM, data=people.values_of(item, private=private))
        status = 200
    return render_page("customers/person_edit.html", person=item, customer=item.customer, form=form,
                       spec=people.FORM, private=private), status
