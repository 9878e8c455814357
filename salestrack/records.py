"""What the sheet pages need around the form engine: values that come from
the project, the people pickers offer, plain-dict views of a record for the
page and the PDF, attachments, and which sheets to offer on a project."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from .extensions import db
from .formkit import registry
from .formkit.printable import printable
from .models import Attachment, Project, Record, User
from .process import RECORD_STATUS_LABELS, STAGE_BY_CODE

# Customer master columns that 客户基本信息表 fills; its other fields are
# kept in Customer.profile.
CUSTOMER_COLUMNS = {"name": "name", "short_name": "short_name", "category": "category", "source": "source",
                    "industry": "industry", "contact": "contact", "phone": "phone", "address": "address"}

ALLOWED_UPLOADS = {
    # detected type (by content) → what users call it
    "application/pdf": "PDF", "image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF",
    "image/webp": "WebP", "application/zip": "Office/ZIP",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "PowerPoint",
    "application/x-ole-storage": "Office 97–2003", "application/msword": "Word",
    "application/vnd.ms-excel": "Excel",
}


def source_context(project: Project | None, customer=None) -> dict:
    """{source: value} sheets take without retyping: 'customer.name' and
    'customer.customer_no' from the customer master, 'project.name' from the
    project, and '<name>.<field key>' from the project's sheet that provides
    <name> (FormSpec.provides: the approved one if there is one, else the
    latest). A customer-level sheet passes `customer` and no project."""
    customer = project.customer if project is not None else customer
    context = {"customer.name": customer.name, "customer.customer_no": customer.customer_no}
    if project is None:
        return context
    context["project.name"] = project.name
    context["project.project_no"] = project.project_no
    for name, spec in registry.providers().items():
        provided = provider_record(project, spec.key)
        if provided is not None:
            for field in spec.fields():
                context[f"{name}.{field.key}"] = (provided.data or {}).get(field.key)
    return context


def provider_record(project: Project, sheet: str) -> Record | None:
    """The project's record of `sheet` that its values are read from: the
    approved one if there is one, else the latest."""
    return db.session.scalar(
        sa.select(Record).where(Record.project_id == project.id, Record.sheet == sheet)
        .order_by(sa.case((Record.status == "approved", 0), else_=1), Record.id.desc()).limit(1))


def record_sources(record: Record) -> dict:
    """source_context for an existing record: its project's, or its customer's
    for a customer-level sheet."""
    return source_context(record.project, record.customer)


def picker_users(user: User | None = None) -> list[tuple[int, str, str]]:
    """(id, name, role) of everyone a user field may name (those who may
    hold a slot: workflow.candidates), by name; with
    `user` (the person filling the sheet), the people of his team first."""
    from .process import SIGNING_ROLES
    from .workflow import candidates, own_team_first
    people = candidates(SIGNING_ROLES)  # never admin, clerk, auditor or inactive people (issue 15)
    return [(u.id, u.name, u.role) for u in own_team_first(people, user)]


def last_approved(record: Record) -> tuple[dict, bool]:
    """(content of `record`'s last approved version, whether a later revision
    exists that is not yet approved — being revised or in sign-off). The
    approved version is the revision its latest sealed PDF was made from
    (ArchivedPdf.revision_number); a record never approved gives
    ({}, True). Used where the agreed content matters, e.g. 交接工作台."""
    from .models import ArchivedPdf, Revision
    if record.status == "approved":
        return dict(record.data or {}), False
    number = db.session.scalar(sa.select(ArchivedPdf.revision_number).where(ArchivedPdf.record_id == record.id)
                               .order_by(ArchivedPdf.id.desc()).limit(1))
    data = db.session.scalar(sa.select(Revision.data).where(Revision.record_id == record.id,
                                                            Revision.number == number)) if number else None
    return dict(data or {}), True


def user_names() -> dict[int, str]:
    return dict(db.session.execute(sa.select(User.id, User.name)).all())


def master_value(customer, attr: str):
    """What the customer master holds for `attr`: a customer column
    (CUSTOMER_COLUMNS) or a key of Customer.profile; None when nothing."""
    if attr in CUSTOMER_COLUMNS.values():
        return getattr(customer, attr)
    return (customer.profile or {}).get(attr)


def master_profile(customer) -> list[tuple[str, str]]:
    """(paper label, printed value) of every customer master field kept in
    Customer.profile (those of the master sheets beyond the customer
    columns: 法人代表, 邮编, E-mail, 开户银行, 增值税号 …) that holds a value,
    in registry order, each field once: what the customer page shows."""
    from .formkit.kinds import kind_of
    facts, seen = [], set(CUSTOMER_COLUMNS.values())
    profile = customer.profile or {}
    for spec in registry.all_specs():
        for field in spec.master_fields():
            attr = field.prefill.split(".", 1)[1]
            if attr in seen:
                continue
            seen.add(attr)
            value = profile.get(attr)
            if is_blank(value):
                continue
            try:
                text = str(kind_of(field).to_input(value))
            except Exception:  # a value stored by an older definition: shown as it is
                text = str(value)
            facts.append((field.label, text))
    return facts


def prefill_values(spec, project: Project | None, person=None, *, private: bool = False, customer=None) -> dict:
    """{field key: value} a new sheet opens with: each field's declared
    `prefill` ('customer.<attr>' from the customer master, 'project.<attr>'
    from the project, 'person.<attr>' from `person`, the person the sheet is
    filed for — his private fields only when `private`, i.e. the user may
    read them), translated by its prefill_map; a value that is not one of a
    choice field's choices is left out (the field stays blank). A
    customer-level sheet passes `customer` and no project."""
    from .formkit.spec import PREFILL_CUSTOMER, PREFILL_PERSON
    from .people import values_of
    customer = project.customer if project is not None else customer
    out = {}
    on_file = values_of(person, private=private) if person is not None else {}
    for field in spec.fields():
        if not field.prefill:
            continue
        head, _, attr = field.prefill.partition(".")
        if field.prefill.startswith(PREFILL_PERSON):
            value = on_file.get(attr)
        elif field.prefill.startswith(PREFILL_CUSTOMER):
            value = master_value(customer, attr)
        else:
            value = getattr(project, attr, None) if project is not None else None
        value = dict(field.prefill_map).get(value, value) if field.prefill_map else value
        if value is None or value == "":
            continue
        if field.kind == "choice" and value not in field.choices:
            continue
        out[field.key] = value
    return out


# The 清空 box under a master field: ticked, a blank field erases the value on
# file at approval; the ticked keys are stored in the sheet's data as "_clear".
CLEAR_INPUT = "_clear"
CLEAR_KEY = "_clear"


def cleared_fields(spec, posted) -> list[str]:
    """The master fields (spec.master_fields) whose 清空 box was ticked, from
    the posted values; anything else is ignored."""
    keys = {f.key for f in spec.master_fields() if not f.required}
    return sorted({k for k in posted or [] if k in keys})


def is_blank(value) -> bool:
    return value is None or value == "" or value == [] or value == {}


def customer_column_problems(spec, data: dict) -> dict[str, str]:
    """Messages for values a customer-updating sheet would put in a customer
    column too short for them (the sheet itself allows longer text)."""
    from .models import Customer
    problems = {}
    for field in spec.master_fields():
        column = field.prefill.partition(".")[2]
        if column not in CUSTOMER_COLUMNS.values():
            continue
        limit = Customer.__table__.c[column].type.length
        value = data.get(field.key)
        if isinstance(value, str) and limit and len(value) > limit:
            problems[field.key] = f"内容过长，最多 {limit} 字"
    return problems


def attach_uploads(record: Record, attachment_ids) -> None:
    """Links the user's freshly uploaded files to the record."""
    if not attachment_ids:
        return
    for attachment in db.session.scalars(sa.select(Attachment).where(
            Attachment.id.in_(list(attachment_ids)), Attachment.record_id.is_(None))):
        attachment.record_id = record.id


def usable_attachment_ids(user: User, record: Record | None, ids) -> list[int]:
    """Of the ids a form sent, those this user may put on this record: the
    record's own files and the user's unlinked uploads. Others are dropped."""
    ids = [i for i in (ids or []) if isinstance(i, int)]
    if not ids:
        return []
    own = sa.and_(Attachment.record_id.is_(None), Attachment.uploaded_by_id == user.id)
    clause = sa.or_(own, Attachment.record_id == record.id) if record is not None else own
    allowed = set(db.session.scalars(sa.select(Attachment.id).where(Attachment.id.in_(ids), clause)))
    return [i for i in ids if i in allowed]


# detected type → the file name endings a file of that type may carry. A name
# whose ending is not its content's (evil.html with a PNG header) is refused.
UPLOAD_EXTENSIONS = {
    "application/pdf": {".pdf"}, "image/png": {".png"}, "image/jpeg": {".jpg", ".jpeg"}, "image/gif": {".gif"},
    "image/webp": {".webp"}, "application/zip": {".zip", ".docx", ".xlsx", ".pptx"},
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {".docx"},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {".xlsx"},
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": {".pptx"},
    "application/x-ole-storage": {".doc", ".xls", ".ppt"}, "application/msword": {".doc"},
    "application/vnd.ms-excel": {".xls"},
}


def clean_filename(name: str) -> str:
    """An uploaded file's name as it is kept and shown: the last path part,
    NFC, without control and format characters (U+202E RIGHT-TO-LEFT OVERRIDE
    and the other bidi controls would show "evil" + U+202E + "gnp.exe" as
    "evilexe.png"), at most 200 characters; "附件" when nothing is left."""
    import unicodedata
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp"))
    return name.strip().strip(".")[:200].strip() or "附件"


def extension_matches(name: str, kind: str) -> bool:
    """Whether file name `name` ends as a file of detected type `kind` may."""
    import os
    return os.path.splitext(name)[1].lower() in UPLOAD_EXTENSIONS.get(kind, set())


def detect_upload_type(content: bytes) -> str | None:
    """The file's type judged by its bytes, if it is one we accept."""
    import filetype
    kind = filetype.guess(content)
    if kind is None:
        return None
    return kind.mime if kind.mime in ALLOWED_UPLOADS else None


def attachment_names(record: Record) -> dict[int, str]:
    return {a.id: a.filename for a in record.attachments}


def record_view(record: Record, paper: bool = False, *, private: bool = True) -> dict:
    """The sheet as plain data for the read-only page, or (`paper`) as the
    PDF prints it (formkit.printable); `private=False` for a reader who may
    not see a person's private details (access.may_read_private): each is
    shown as withheld."""
    spec = registry.get(record.sheet)
    doc = printable(spec, {
        "number": record.number, "sheet": record.sheet, "status": record.status,
        "author_name": record.author.name, "created_at": record.created_at, "data": record.data or {},
        "attachments": attachment_names(record)}, user_names(), paper=paper, private=private)
    doc["status_label"] = RECORD_STATUS_LABELS.get(record.status, record.status)
    return doc


def withheld_labels(record: Record, private: bool) -> set[str]:
    """Labels of the record's private details (Field.private) that a reader
    who may not see them (`private` False) must not read in the revision
    history either; empty when he may."""
    if private:
        return set()
    try:
        return {f.label for f in registry.get(record.sheet).private_fields()}
    except KeyError:
        return set()


def sheets_for_project(project: Project) -> tuple[list, list]:
    """(sheets of the project's current stage, the others), each in toolkit
    order; customer-level sheets are offered on the customer page instead."""
    stage = project.stage
    specs = [s for s in registry.all_specs() if s.filed_on == "project"]
    first = [s for s in specs if stage in s.stages]
    return first, [s for s in specs if s not in first]


def customer_sheets() -> list:
    """The customer-level sheets (FormSpec.filed_on == 'customer'), in toolkit
    order: what the customer page offers."""
    return [s for s in registry.all_specs() if s.filed_on == "customer"]


def sheets_by_group(records) -> list[tuple[str, list]]:
    """Records grouped by toolkit group (stage order), ungrouped sheets last."""
    order = {s.group: s.number for s in STAGE_BY_CODE.values() if s.number}
    groups: dict[str, list] = {}
    for record in records:
        try:
            group = registry.get(record.sheet).group or "其他表单"
        except KeyError:
            group = "其他表单"
        groups.setdefault(group, []).append(record)
    return sorted(groups.items(), key=lambda item: order.get(item[0], 99))


def attachment_path(attachment: Attachment) -> str:
    import os
    return os.path.join(current_app.config["ATTACHMENT_DIR"], attachment.stored_name)
