"""Every change of state happens here: one function per act, one transaction
per act, each writing its audit event. Routes load, check access, then call
one of these; they never write to the database themselves."""
from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from . import accounts, audit, clock
from .database import write_transaction
from .formkit import registry
from .extensions import db
from .models import Customer, Instalment, Project, ProjectEvent, ProjectNode, Target, Team, User, utcnow
from .process import NODE_BY_CODE, STAGE_BY_CODE, STAGE_NODES, STAGE_PROBABILITY, stage_label


class OperationError(Exception):
    """An act refused by a business rule; `field` names the input at fault."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class ConflictError(OperationError):
    """Someone else saved the same object since this user loaded it."""


class StaleError(OperationError):
    """The sheet changed after the signer opened it: a signature applies only
    to the content the signer saw."""


class AlreadyDone(OperationError):
    """The form's act was done already (the same POST arrived again); nothing
    was changed. `record_id` is the record the first request acted on."""

    def __init__(self, record_id: int | None):
        super().__init__("此操作已完成（重复的提交已忽略）。")
        self.record_id = record_id


def _use_form_token(actor: User, token: str | None, act: str) -> None:
    """Marks a rendered form's one-time token used, as the first write of the
    act's transaction; raises AlreadyDone if it was used before. Concurrent
    duplicates queue on the token's primary key (SQLite: the write lock taken
    at BEGIN IMMEDIATE; PostgreSQL: the unique index), so exactly one acts.
    `token` None (acts not started from a page: CLI, demo) checks nothing."""
    if token is None:
        return
    claimed = db.session.execute(sa.text(
        "INSERT INTO used_form_tokens (token, user_id, act, used_at) VALUES (:t, :u, :a, :at) "
        "ON CONFLICT (token) DO NOTHING RETURNING token"),
        {"t": token, "u": actor.id, "a": act, "at": utcnow()}).scalar()
    if claimed is None:
        from .models import UsedFormToken
        used = db.session.get(UsedFormToken, token)
        raise AlreadyDone(used.record_id if used is not None and used.user_id == actor.id else None)


def _form_token_result(token: str | None, record) -> None:
    """Notes which record the act of `token` produced (for its duplicates)."""
    if token is not None:
        db.session.execute(sa.text("UPDATE used_form_tokens SET record_id = :r WHERE token = :t"),
                           {"r": record.id, "t": token})


def next_number(series: str) -> int:
    """The next value of a gap-free series, taken inside the current write
    transaction (INSERT … ON CONFLICT works on SQLite and PostgreSQL)."""
    return db.session.execute(sa.text(
        "INSERT INTO counters (key, value) VALUES (:k, 1) "
        "ON CONFLICT (key) DO UPDATE SET value = counters.value + 1 RETURNING value"), {"k": series}).scalar_one()


def _locked(obj):
    """Reloads `obj` in the writing transaction, row-locked on PostgreSQL."""
    db.session.refresh(obj, with_for_update=db.session.get_bind().dialect.name == "postgresql")
    return obj


# ── people ────────────────────────────────────────────────────────────────
def hash_password(password: str) -> str:
    """Deliberately slow to guess (scrypt); tests configure a faster method."""
    from flask import has_app_context
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if has_app_context() else "scrypt"
    return generate_password_hash(password, method=method)


def _check_password(password: str, username: str) -> None:
    problem = accounts.password_problem(password, username)
    if problem:
        raise OperationError(problem, "password")


def create_user(actor: User | None, *, username: str, name: str, role: str, password: str,
                team: Team | None = None, email: str | None = None, title: str | None = None,
                check_policy: bool = True) -> User:
    """A new account. The password must meet accounts.password_problem (else
    OperationError on "password"); only the demo command passes
    check_policy=False, for its published demo accounts. A name equal to an
    existing one after accounts.normalise_username is refused ("username")."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,40}", username or ""):
        raise OperationError("用户名只能使用字母、数字、点、下划线和连字符（最多 40 个）", "username")
    if check_policy:
        _check_password(password, username)
    with write_transaction():
        if db.session.scalar(sa.select(User.id).where(
                sa.func.lower(User.username) == accounts.normalise_username(username))):
            raise OperationError("该用户名已存在", "username")
        user = User(username=username, name=name, role=role, team_id=team.id if team else None,
                    email=email or None, title=title or None, password_hash=hash_password(password))
        db.session.add(user)
        db.session.flush()
        audit.append("user_create", actor, target=user, target_label=username, detail={"role": role})
    return user


def update_user(actor: User | None, user: User, **fields) -> User:
    """Changes a person's name, role, team, e-mail, title or active flag.
    Deactivating him (active → False) in the same transaction ends every
    delegation he gave or received and moves the slots waiting for him to
    his manager (_hand_over_slots; issue 15 findings 2 and 3)."""
    with write_transaction():
        _locked(user)
        allowed = {"name", "role", "team_id", "email", "title", "active"}
        changed = {}
        for key, value in fields.items():
            if key in allowed and getattr(user, key) != value:
                changed[key] = [str(getattr(user, key)), str(value)]
                setattr(user, key, value)
        audit.append("user_update", actor, target=user, target_label=user.username, detail=changed)
        if "active" in changed and not user.active:
            db.session.flush()
            _end_delegations(actor, user)
            _hand_over_slots(actor, user)
    return user


def _end_delegations(actor: User | None, user: User) -> None:
    """Revokes the delegations `user` gave or received that have not ended."""
    from .models import Delegation
    items = db.session.scalars(sa.select(Delegation).where(
        sa.or_(Delegation.principal_id == user.id, Delegation.deputy_id == user.id),
        Delegation.revoked_at.is_(None), Delegation.ends_on >= clock.today()).with_for_update())
    for item in items:
        item.revoked_at = utcnow()
        audit.append("delegate_revoke", actor, target=item, target_label=f"#{item.id}",
                     detail={"reason": "deactivated", "user": user.username})


def slots_held(user: User, lock: bool = False) -> list[tuple]:
    """[(record, [chain indexes])] of every submitted record with a slot of
    this round that `user` holds and has not yet signed: what deactivating
    him hands over (the admin's user page names them first)."""
    from .models import Record
    q = sa.select(Record).where(Record.status == "submitted").order_by(Record.id)
    out = []
    for record in db.session.scalars(q.with_for_update() if lock else q):
        held = [i for i, e in enumerate(record.chain or []) if e["signer_id"] == user.id
                and i >= (record.current_slot or 0)]
        if held:
            out.append((record, held))
    return out


def _hand_over_slots(actor: User | None, user: User) -> None:
    """Every slot of a submitted record that `user` holds and has not signed
    goes to workflow.substitute_for (his manager, else a director, else the
    general manager), each with a `reassign` audit event; the one now
    waiting is told. A record nobody fits stays for 转交 (reassign_slot)."""
    from . import workflow
    from .notify import notify
    for record, held in slots_held(user, lock=True):
        substitute = workflow.substitute_for(user, record)
        if substitute is None:
            continue
        _reassign(actor, record, held, substitute, "签署人已停用")
        if record.current_slot in held:
            notify(substitute, "submitted", f"{user.name} 已停用，《{_title(record)}》{record.number} 转由您审批"
                   f"（{record.chain[record.current_slot]['label']}）。", _record_link(record), record)


def _title(record) -> str:
    from .formkit import registry
    return registry.get(record.sheet).title


def _reassign(actor: User | None, record, indexes, new: User, reason: str) -> None:
    """Puts `new` in the chain entries `indexes` of the record's round
    (their label keeps the slot's name), restarting the wait when the
    current slot is among them; one `reassign` audit event."""
    chain = [dict(e) for e in record.chain]
    before = []
    for i in indexes:
        before.append(chain[i]["signer_name"])
        chain[i]["signer_id"], chain[i]["signer_name"] = new.id, new.name
        chain[i].pop("author_signs", None)
    record.chain = chain
    if record.current_slot in indexes:
        _wait_at(record, record.current_slot)
    audit.append("reassign", actor, target=record, target_label=record.number,
                 detail={"round": record.round, "slots": [chain[i]["label"] for i in indexes],
                         "from": before, "to": new.username, "reason": reason})


def reassign_slot(actor: User, record, new: User, reason: str = "", once: str | None = None) -> None:
    """转交: an admin or director gives the slot a submitted record waits at
    to `new`, who must be allowed to hold it (workflow.refusal with the
    slot's roles), not be the author, and hold no other slot of the round
    (unless the sheet allows it). Raises OperationError (field 'signer' or
    'reason'); one `reassign` audit event; `new` is told."""
    from . import workflow
    from .formkit import registry
    from .notify import notify
    with write_transaction():
        _use_form_token(actor, once, "reassign")
        _form_token_result(once, record)
        _locked(record)
        if actor.role not in ("admin", "director") or not actor.active:
            raise OperationError("只有系统管理员或销售总监可以转交待签环节")
        if record.status != "submitted" or record.current_slot is None:
            raise OperationError("此表单当前不在审批中（可能已被他人处理）")
        reason = (reason or "").strip()
        if not reason:
            raise OperationError("请填写转交原因", "reason")
        spec = registry.get(record.sheet)
        entry = record.chain[record.current_slot]
        slot = next((s for s in spec.slots if s.key == entry["key"]), None)
        roles = workflow.slot_roles(spec, slot) if slot is not None else ()
        why = workflow.refusal(new, roles, f"签署「{entry['label']}」")
        if why:
            raise OperationError(why, "signer")
        if new.id == record.author_id:
            raise OperationError("不能转交给填写人本人", "signer")
        if new.id == entry["signer_id"]:
            raise OperationError(f"此环节已在等待 {new.name}", "signer")
        others = [e["label"] for i, e in enumerate(record.chain) if i != record.current_slot
                  and e["signer_id"] == new.id]
        if others and not spec.signers_may_repeat:
            raise OperationError(f"{new.name} 已是「{others[0]}」的签署人，同一轮中一人只能签署一个环节", "signer")
        _reassign(actor, record, [record.current_slot], new, reason[:200])
        notify(new, "submitted", f"《{spec.title}》{record.number} 已转交由您审批（{entry['label']}）。",
               _record_link(record), record)


def set_password(actor: User | None, user: User, password: str) -> None:
    """An admin's reset (actor) or the command line's (None): the password must
    meet accounts.password_problem (else OperationError on "password"); every
    session and remember cookie of `user` ends (session_version + 1)."""
    _check_password(password, user.username)
    with write_transaction():
        _locked(user)
        user.password_hash = hash_password(password)
        user.session_version += 1
        audit.append("password_set", actor, target=user, target_label=user.username)


def change_own_password(user: User, current: str, new: str) -> None:
    """修改密码 by the account's holder: `current` must be his password
    (else OperationError on "current"), `new` must meet the policy and differ
    from it ("password"). Every other session of his ends (session_version
    + 1); the caller signs the current one in again with the new version."""
    if not check_password_hash(user.password_hash, current or ""):
        raise OperationError("当前密码不正确", "current")
    if current == new:
        raise OperationError("新密码不能与当前密码相同", "password")
    _check_password(new, user.username)
    with write_transaction():
        _locked(user)
        user.password_hash = hash_password(new)
        user.session_version += 1
        audit.append("password_change", user, target=user, target_label=user.username)


def create_team(actor: User | None, name: str, manager: User | None = None) -> Team:
    with write_transaction():
        team = Team(name=name, manager_id=manager.id if manager else None)
        db.session.add(team)
        db.session.flush()
        audit.append("team_create", actor, target=team, target_label=name)
    return team


def set_team_manager(actor: User | None, team: Team, manager: User | None) -> None:
    with write_transaction():
        _locked(team)
        team.manager_id = manager.id if manager else None
        audit.append("team_update", actor, target=team, target_label=team.name,
                     detail={"manager": manager.username if manager else None})


def log_login(user: User) -> None:
    with write_transaction():
        audit.append("login", user, target=user, target_label=user.username)


def log_logout(user: User) -> None:
    """Sign-out: ends every session and remember cookie of `user`, copies
    included (session_version + 1)."""
    with write_transaction():
        _locked(user)
        user.session_version += 1
        audit.append("logout", user, target=user, target_label=user.username)


def log_failed_login(username: str, user: User | None) -> None:
    with write_transaction():
        audit.append("login_failed", None, target=user, target_label=username[:120])


def _throttle_keys(username: str, ip: str | None) -> list[tuple[str, int]]:
    limit = current_app.config["LOGIN_MAX_FAILURES"]
    keys = [("user:" + accounts.normalise_username(username)[:190], limit)]
    if ip:
        keys.append(("ip:" + ip[:190], limit * 4))
    return keys


def claim_login_attempt(username: str, ip: str | None) -> bool:
    """Count one sign-in attempt for the account name (normalised, so "clerK"
    with a Kelvin sign is "clerk") and for the address, before the password is
    checked. False when either is at its limit (LOGIN_MAX_FAILURES per name,
    four times that per address, within LOGIN_WINDOW_MINUTES of the window's
    first attempt): nothing is counted then and no password may be checked.
    Each count is one conditional UPDATE under the row's lock, so N
    simultaneous attempts check at most the limit of passwords."""
    from sqlalchemy.dialects import postgresql, sqlite
    from .models import LoginThrottle
    now = utcnow()
    since = now - timedelta(minutes=current_app.config["LOGIN_WINDOW_MINUTES"])
    table = LoginThrottle.__table__
    insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
    try:
        with write_transaction():
            for key, limit in _throttle_keys(username, ip):
                db.session.execute(insert(table).values(key=key, failures=0, window_start=now)
                                   .on_conflict_do_nothing(index_elements=["key"]))
                expired = table.c.window_start < since
                claimed = db.session.execute(
                    table.update().where(table.c.key == key, sa.or_(expired, table.c.failures < limit)).values(
                        failures=sa.case((expired, 1), else_=table.c.failures + 1),
                        window_start=sa.case((expired, now), else_=table.c.window_start)))
                if claimed.rowcount != 1:
                    raise _LimitReached
    except _LimitReached:
        return False
    return True


class _LimitReached(Exception):
    pass


def release_login_attempt(username: str, ip: str | None) -> None:
    """A successful sign-in: its claimed attempt is not a failure (counts - 1)."""
    from .models import LoginThrottle
    table = LoginThrottle.__table__
    with write_transaction():
        for key, _ in _throttle_keys(username, ip):
            db.session.execute(table.update().where(table.c.key == key, table.c.failures > 0)
                               .values(failures=table.c.failures - 1))


# ── customers ─────────────────────────────────────────────────────────────
CUSTOMER_COLUMNS = ("name", "short_name", "category", "source", "industry", "contact", "phone", "address",
                    "tax_id")


class DuplicateCustomer(OperationError):
    """The customer exists already (same normalised name or tax id):
    `existing` is it, `reason` 'name' or 'tax_id'. The message for the user
    comes from customer_keys.duplicate_message (it depends on who asks)."""

    def __init__(self, existing: Customer, reason: str):
        super().__init__("该客户已登记过，不能重复登记", "tax_id" if reason == "tax_id" else "name")
        self.existing = existing
        self.reason = reason


def _lock_customer_keys() -> None:
    """Serialises duplicate checks with the inserts they guard (SQLite: the
    write lock of BEGIN IMMEDIATE already does; PostgreSQL: an advisory lock)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": 0x5C057})


def _check_tax_id(value) -> None:
    from .customer_keys import TAX_ID_SHAPE, tax_key
    key = tax_key(value)
    if key is not None and not TAX_ID_SHAPE.fullmatch(key):
        raise OperationError("统一社会信用代码/增值税号应为 8–20 位数字或大写字母", "tax_id")


def _refuse_duplicate(name, tax_id, exclude_id=None) -> None:
    from .customer_keys import find_duplicate
    found = find_duplicate(name, tax_id, exclude_id)
    if found is not None:
        raise DuplicateCustomer(*found)


def create_customer(actor: User, **fields) -> Customer:
    """Registers a customer owned by `actor` and his team. Refused with
    DuplicateCustomer when its name (normalised, customer_keys.name_key) or
    统一社会信用代码/增值税号 is already on file (issue 10: one company, one customer)."""
    with write_transaction():
        if not (fields.get("name") or "").strip():
            raise OperationError("请填写企业名称", "name")
        _check_tax_id(fields.get("tax_id"))
        _lock_customer_keys()
        _refuse_duplicate(fields.get("name"), fields.get("tax_id"))
        number = next_number("customer")
        customer = Customer(customer_no=f"C{number:05d}", owner_id=actor.id, team_id=actor.team_id,
                            profile={}, **{k: fields.get(k) or None for k in CUSTOMER_COLUMNS})
        db.session.add(customer)
        db.session.flush()
        audit.append("customer_create", actor, target=customer, target_label=customer.customer_no)
    return customer


def _customer_labels() -> dict[str, str]:
    """Labels of the customer columns as 客户基本信息表 prints them."""
    from .formkit import registry
    labels = {}
    for spec in registry.all_specs():
        for field in spec.master_fields():
            labels.setdefault(field.prefill.partition(".")[2], field.label)
    labels.setdefault("tax_id", "统一社会信用代码/增值税号")
    return labels


def update_customer(actor: User, customer: Customer, **fields) -> Customer:
    """The customer edit page (owner/manager): the changed columns are set and
    each change is listed in the customer's 信息修改记录; a new name or tax id
    that another customer has already is refused with DuplicateCustomer."""
    with write_transaction():
        _locked(customer)
        from .models import CustomerChange
        _check_tax_id(fields.get("tax_id"))
        changed = {}
        for key in CUSTOMER_COLUMNS:
            if key in fields and (fields[key] or None) != getattr(customer, key):
                old = getattr(customer, key)
                setattr(customer, key, fields[key] or None)
                if getattr(customer, key) != old:
                    changed[key] = [old, getattr(customer, key)]
        if not customer.name:
            raise OperationError("请填写企业名称", "name")
        if "name" in changed or "tax_id" in changed:
            _lock_customer_keys()
            _refuse_duplicate(customer.name if "name" in changed else None,
                              customer.tax_id if "tax_id" in changed else None, exclude_id=customer.id)
        labels = _customer_labels()
        for key, (old, new) in changed.items():  # listed in 信息修改记录 like an approved sheet's changes
            db.session.add(CustomerChange(customer_id=customer.id, field_key=key, field_label=labels.get(key, key),
                                          old_value=old, new_value=new, changed_by_id=actor.id,
                                          approved_by_id=actor.id, at=utcnow()))
        customer.updated_at = utcnow()
        audit.append("customer_update", actor, target=customer, target_label=customer.customer_no, detail=changed)
    return customer


def add_person(actor: User, customer: Customer, *, name: str, title: str | None = None,
               phone: str | None = None):
    """Records a person of the customer's organisation (联系人). Returns
    (person, added): a person of this customer with the same name and 职位 is
    not recorded twice (so a repeated click adds one), it is returned with
    added=False. Raises OperationError('请填写姓名', 'name') for a blank name."""
    from .models import Person
    from .formkit.kinds import Invalid, clean_text
    try:
        name = clean_text(name or "", multiline=False, limit=80) or ""
        title = clean_text(title or "", multiline=False, limit=80) or None
        phone = clean_text(phone or "", multiline=False, limit=40) or None
    except Invalid as exc:
        raise OperationError(str(exc), "name") from None
    if not name:
        raise OperationError("请填写姓名", "name")
    with write_transaction():
        _locked(customer)
        same = db.session.scalar(sa.select(Person).where(
            Person.customer_id == customer.id, Person.name == name,
            Person.title.is_(None) if title is None else Person.title == title).limit(1))
        if same is not None:
            return same, False
        person = Person(customer_id=customer.id, name=name, title=title, phone=phone, key_decision_maker=False,
                        details={}, private={}, created_by_id=actor.id)
        db.session.add(person)
        db.session.flush()
        audit.append("person_create", actor, target=person, target_label=f"{customer.customer_no} {name}")
    return person, True


def update_person(actor: User, person, values: dict, *, private: bool) -> dict:
    """The 信息审核人's direct edit of a person (as for the customer master):
    `values` are the person form's cleaned values (people.FORM). Private
    fields are written only when `private` (the caller may see them), else
    they stay as they are. Returns {label: [old, new]} of what changed, also
    the audit event's detail (private values named by label only)."""
    from .people import BASIC, COLUMNS, PRIVATE, PRIVATE_FIELDS
    from .records import is_blank
    if is_blank(values.get("name")):
        raise OperationError("请填写姓名", "name")
    with write_transaction():
        _locked(person)
        details, secret, changed = dict(person.details or {}), dict(person.private or {}), {}
        for field in BASIC + (PRIVATE if private else ()):
            new = None if is_blank(values.get(field.key)) else values.get(field.key)
            if field.key in COLUMNS:
                old = getattr(person, field.key)
                setattr(person, field.key, new)
            else:
                store = secret if field.key in PRIVATE_FIELDS else details
                old = store.get(field.key)
                if new is None:
                    store.pop(field.key, None)
                else:
                    store[field.key] = new
            if old != new:
                changed[field.label] = ["", ""] if field.key in PRIVATE_FIELDS else [old, new]
        flag = values.get("key_decision_maker") == "是"
        if flag != person.key_decision_maker:
            changed["关键决策人"] = [person.key_decision_maker, flag]
            person.key_decision_maker = flag
        person.details, person.private = details, secret
        if changed:
            person.updated_at = utcnow()
            audit.append("person_update", actor, target=person, target_label=person.name, detail=changed)
    return changed


def merge_preview(keep: Customer, merged: Customer) -> dict:
    """What merging `merged` into `keep` moves: counts of projects and sheets
    (records), and the master fields `keep` lacks that `merged` would fill."""
    from .models import Record
    fill = {k: getattr(merged, k) for k in CUSTOMER_COLUMNS
            if k != "name" and not getattr(keep, k) and getattr(merged, k)}
    return {
        "projects": db.session.scalar(sa.select(sa.func.count()).where(Project.customer_id == merged.id)),
        "records": db.session.scalar(sa.select(sa.func.count()).select_from(Record)
                                     .where(Record.customer_id == merged.id)),
        "fill": fill,
        "profile_keys": sorted(k for k, v in (merged.profile or {}).items()
                               if v not in (None, "", [], {}) and not (keep.profile or {}).get(k)),
    }


def merge_customers(actor: User, keep: Customer, merged: Customer) -> dict:
    """Merges customer `merged` into `keep` (admin; issue 10). Every project
    and sheet (records.customer_id, hence their revisions) moves to `keep`;
    master fields and 客户基本信息表 profile entries `keep` lacks are taken from
    `merged`, as is its info sheet link when `keep` has none; then `merged`
    is deleted. The audit event `customer_merge` names both numbers and what
    moved. Returns the summary (merge_preview's shape)."""
    from .models import Record
    if keep.id == merged.id:
        raise OperationError("请选择两个不同的客户", "merged")
    with write_transaction():
        _locked(keep)
        _locked(merged)
        summary = merge_preview(keep, merged)
        db.session.execute(sa.update(Project).where(Project.customer_id == merged.id)
                           .values(customer_id=keep.id))
        db.session.execute(sa.update(Record).where(Record.customer_id == merged.id)
                           .values(customer_id=keep.id))
        tax_id = merged.tax_id
        merged.tax_id = None
        db.session.flush()  # frees the unique tax id before keep takes it
        for key, value in summary["fill"].items():
            setattr(keep, key, tax_id if key == "tax_id" else value)
        profile = dict(keep.profile or {})
        for key in summary["profile_keys"]:
            profile[key] = merged.profile[key]
        keep.profile = profile
        if keep.info_record_id is None and merged.info_record_id is not None:
            keep.info_record_id = merged.info_record_id
        keep.updated_at = utcnow()
        detail = {"kept": keep.customer_no, "merged": merged.customer_no, "merged_name": merged.name,
                  "projects": summary["projects"], "records": summary["records"],
                  "filled": sorted(summary["fill"]), "profile": summary["profile_keys"]}
        audit.append("customer_merge", actor, target=keep,
                     target_label=f"{merged.customer_no}→{keep.customer_no}", detail=detail)
        db.session.delete(merged)
    return summary


# ── projects ──────────────────────────────────────────────────────────────
PROJECT_COLUMNS = ("name", "customer_id", "product_line", "amount", "probability", "expected_sign_date",
                   "competitors", "funding", "lead_source", "customer_class", "stage_stay_reason")


def create_project(actor: User, owner: User | None = None, **fields) -> Project:
    owner = owner or actor
    with write_transaction():
        year = clock.today().year
        number = next_number(f"project-{year}")
        project = Project(project_no=f"XM-{year}-{number:04d}", owner_id=owner.id, team_id=owner.team_id,
                          stage="lead", stage_entered_at=utcnow(),
                          **{k: fields[k] for k in PROJECT_COLUMNS if k in fields})
        db.session.add(project)
        db.session.flush()
        db.session.add(ProjectEvent(project_id=project.id, kind="created", to_value="lead", actor_id=actor.id))
        audit.append("project_create", actor, target=project, target_label=project.project_no)
    return project


def update_project(actor: User, project: Project, expected_version: int | None = None, **fields) -> Project:
    with write_transaction():
        _locked(project)
        if expected_version is not None and project.version != expected_version:
            raise ConflictError("该项目已被他人修改，请刷新后再保存。")
        changed = {}
        for key in PROJECT_COLUMNS:
            if key in fields and fields[key] != getattr(project, key):
                old = getattr(project, key)
                if isinstance(old, Decimal) and fields[key] is not None and Decimal(fields[key]) == old:
                    continue
                changed[key] = [str(old) if old is not None else None,
                                str(fields[key]) if fields[key] is not None else None]
                setattr(project, key, fields[key])
        if changed:
            project.version += 1
            project.updated_at = utcnow()
            from .history import edit_summary
            db.session.add(ProjectEvent(project_id=project.id, kind="edited", actor_id=actor.id,
                                        reason=edit_summary(changed)))
            audit.append("project_update", actor, target=project, target_label=project.project_no, detail=changed)
    return project


def days_in_stage(project: Project, now=None) -> int:
    return ((now or utcnow()) - project.stage_entered_at).days


def stage_change_problem(project: Project, to_stage: str, reason: str = "") -> str | None:
    """Why `project` may not move to `to_stage` with `reason`, in Chinese, or
    None when it may (sales-process.md, 销售推进流程): a reason is required
    for 丢单, when leaving a stage after more than STAGE_STAY_DAYS (unless a
    阶段停留原因 is on file), when reopening a won project and when jumping
    more than one stage forward."""
    reason = (reason or "").strip()
    if to_stage not in STAGE_BY_CODE:
        return "请选择有效的阶段"
    if to_stage == project.stage:
        return "项目已处于该阶段"
    stay = days_in_stage(project)
    limit = current_app.config["STAGE_STAY_DAYS"]
    if to_stage == "lost" and not reason:
        return "丢单/放弃须填写丢标原因"
    if project.stage == "won" and not reason:
        return "重新打开已签约的项目须填写原因（签约概率将按新阶段重置，签约日期将清除）"
    here, there = STAGE_BY_CODE[project.stage].number, STAGE_BY_CODE[to_stage].number
    if here and there and there - here > 1 and not reason:
        return (f"从「{stage_label(project.stage)}」直接跳到「{stage_label(to_stage)}」"
                f"跨过了 {there - here - 1} 个阶段，请填写原因")
    if stay > limit and not reason and not project.stage_stay_reason:
        return (f"项目在「{stage_label(project.stage)}」已停留 {stay} 天（超过 {limit} 天），"
                "请填写阶段停留原因")
    return None


def change_stage(actor: User, project: Project, to_stage: str, reason: str = "") -> Project:
    """Moves a project to another stage, recording who, when, why and how
    long it stayed (sales-process.md, 销售推进流程); refused with the reason
    stage_change_problem gives. Leaving 签约成交 resets 签约概率 to the new
    stage's STAGE_PROBABILITY and clears 签约日期, so it no longer counts in
    预计可回款. 签约日期 is the department's date (Asia/Shanghai) of winning."""
    with write_transaction():
        _locked(project)
        _move_stage(actor, project, to_stage, reason)
    return project


def _move_stage(actor: User, project: Project, to_stage: str, reason: str, audited: bool = True) -> None:
    """change_stage inside the caller's write transaction."""
    reason = (reason or "").strip()
    problem = stage_change_problem(project, to_stage, reason)
    if problem:
        raise OperationError(problem, "stage" if problem in ("请选择有效的阶段", "项目已处于该阶段") else "reason")
    stay = days_in_stage(project)
    db.session.add(ProjectEvent(project_id=project.id, kind="stage", from_value=project.stage,
                                to_value=to_stage, reason=reason or project.stage_stay_reason,
                                days_in_stage=stay, actor_id=actor.id))
    old = project.stage
    project.stage = to_stage
    project.stage_entered_at = utcnow()
    if to_stage in STAGE_NODES:
        _reach_node(actor, project, STAGE_NODES[to_stage], clock.today())
    project.stage_stay_reason = None
    if to_stage == "won":
        project.probability = 100
        project.signed_at = clock.today()
    elif to_stage == "lost":
        project.probability = 0
        project.lost_reason = reason
    if old == "won":
        project.probability = STAGE_PROBABILITY[to_stage]
        project.signed_at = None
    project.version += 1
    project.updated_at = utcnow()
    if audited:
        audit.append("project_stage", actor, target=project, target_label=project.project_no,
                     detail={"from": old, "to": to_stage, "reason": reason, "days": stay,
                             "probability": project.probability})


def _reach_node(actor: User, project: Project, node: str, day: date) -> bool:
    """Records that `project` reached 销售项目跟踪表 node `node` on `day`
    (department date) unless a date is on file; True when recorded."""
    exists = db.session.scalar(sa.select(ProjectNode.id).where(
        ProjectNode.project_id == project.id, ProjectNode.node == node))
    if exists:
        return False
    db.session.add(ProjectNode(project_id=project.id, node=node, reached_on=day, actor_id=actor.id))
    return True


def set_node(actor: User, project: Project, node: str, reached_on: date | None) -> Project:
    """Records, corrects (a date) or clears (None) the date `project` reached
    node `node` of 销售项目跟踪表 (paper-forms-toolkit.md 3.7, 13 nodes in
    process.TRACKING_NODES); `reached_on` is a department date, not in the
    future. Raises OperationError (field "reached_on" or "node")."""
    if node not in NODE_BY_CODE:
        raise OperationError("请选择有效的节点", "node")
    if reached_on is not None and reached_on > clock.today():
        raise OperationError("到达日期不能晚于今天", "reached_on")
    with write_transaction():
        _locked(project)
        item = db.session.scalar(sa.select(ProjectNode).where(
            ProjectNode.project_id == project.id, ProjectNode.node == node))
        old = item.reached_on if item else None
        if old == reached_on:
            return project
        if reached_on is None:
            db.session.delete(item)
        elif item is None:
            db.session.add(ProjectNode(project_id=project.id, node=node, reached_on=reached_on, actor_id=actor.id))
        else:
            item.reached_on, item.actor_id, item.at = reached_on, actor.id, utcnow()
        label = NODE_BY_CODE[node].label
        project.version += 1
        project.updated_at = utcnow()
        db.session.add(ProjectEvent(project_id=project.id, kind="edited", actor_id=actor.id,
                                    reason=f"跟踪节点「{label}」 {old or '—'} → {reached_on or '—'}"))
        audit.append("project_node", actor, target=project, target_label=project.project_no,
                     detail={"node": node, "from": str(old) if old else None,
                             "to": str(reached_on) if reached_on else None})
    return project


def reassign_project(actor: User, project: Project, new_owner: User, reason: str = "") -> Project:
    """Gives a project to another rep (e.g. after the follow-up limit passed,
    跟进提醒). The new owner gets one full follow-up period of the project's
    class: the follow-up clock restarts now (followup.py). Refused when
    `new_owner` already owns it, so a form that fell back to its first choice
    never records a reassignment to the same man."""
    with write_transaction():
        _locked(project)
        if new_owner is None:
            raise OperationError("请选择要转交的业务员", "owner")
        if new_owner.id == project.owner_id:
            raise OperationError(f"该项目已由 {new_owner.name} 负责，请选择另一位业务员", "owner")
        if new_owner.role not in ("rep", "manager") or not new_owner.active:
            raise OperationError("只能转交给在职的业务员", "owner")
        old = project.owner
        db.session.add(ProjectEvent(project_id=project.id, kind="reassigned", from_value=old.username,
                                    to_value=new_owner.username, reason=reason or None, actor_id=actor.id))
        project.owner_id = new_owner.id
        project.team_id = new_owner.team_id
        project.version += 1
        project.updated_at = utcnow()
        project.followup_from = project.updated_at
        project.filing_right_lost_at = None  # the new owner files for it
        audit.append("project_reassign", actor, target=project, target_label=project.project_no,
                     detail={"from": old.username, "to": new_owner.username, "reason": reason})
    return project


LOSS_BATCH = 500  # projects whose 立项权 is cancelled per transaction


def cancel_lapsed_filing_rights(now=None) -> list[int]:
    """Cancels the 立项权 of every open project whose owner went past its
    class's loss limit without a follow-up (A 30, B 60, C 90 days by default,
    D none: FOLLOWUP_LOSS_DAYS; source 000, paper-forms-toolkit.md 3.13):
    sets Project.filing_right_lost_at, writes it in the project's history and
    the audit trail (actor: the system), and asks the team's manager to
    reassign the project or restore the right. A project already cancelled is
    left alone, so running it twice has the effect once. `now`: naive UTC,
    default the present. Returns the ids of the projects cancelled now."""
    from . import followup
    from .notify import notify
    now = now or utcnow()
    limits = current_app.config["FOLLOWUP_LOSS_DAYS"]
    lapsed = (sa.select(Project.id).where(Project.stage.in_(followup.OPEN_STAGES), Project.filing_right_lost_at.is_(None),
                                          followup.loss_condition(now)).order_by(Project.id))
    done = []
    while True:
        ids = list(db.session.scalars(lapsed.limit(LOSS_BATCH)))
        db.session.rollback()
        if not ids:
            return done
        with write_transaction():
            for project in db.session.scalars(sa.select(Project).where(Project.id.in_(ids))
                                              .with_for_update().order_by(Project.id)):
                if project.filing_right_lost_at is not None:
                    continue  # another run took it meanwhile
                limit = limits.get(project.customer_class)
                why = f"{project.customer_class} 类项目超过 {limit} 天未跟进，取消业务员该项目立项权"
                project.filing_right_lost_at = now
                db.session.add(ProjectEvent(project_id=project.id, kind="right_lost", from_value=project.owner.username,
                                            reason=why, at=now))
                audit.append("filing_right_lost", None, target=project, target_label=project.project_no,
                             detail={"owner": project.owner.username, "class": project.customer_class, "days": limit})
                manager = project.team.manager if project.team else None
                notify(manager, "followup", f"{project.name}（{project.project_no}）：{project.owner.name} {why}。"
                       "请转交其他业务员，或恢复其立项权。", f"/projects/{project.id}")
                done.append(project.id)


def restore_filing_right(actor: User, project: Project, reason: str) -> Project:
    """The manager gives the owner his 立项权 back instead of reassigning: the
    follow-up clock restarts now (one full period of the class). `reason`
    (required, ≤ 500 characters) goes into the project's history and the audit
    trail. OperationError when `actor` may not decide (access.can_restore_filing_right),
    the right is not cancelled, or the reason is missing."""
    from . import access
    reason = (reason or "").strip()
    if not access.can_restore_filing_right(actor, project):
        raise OperationError("只有项目所在片区的经理、销售总监或总经理可以恢复立项权")
    if not reason:
        raise OperationError("请填写恢复立项权的理由", "reason")
    if len(reason) > 500:
        raise OperationError("理由最多 500 字", "reason")
    with write_transaction():
        _locked(project)
        if project.filing_right_lost_at is None:
            raise OperationError("该项目的立项权未被取消")
        project.filing_right_lost_at = None
        project.followup_from = utcnow()
        project.version += 1
        db.session.add(ProjectEvent(project_id=project.id, kind="right_restored", to_value=project.owner.username,
                                    reason=reason, actor_id=actor.id))
        audit.append("filing_right_restored", actor, target=project, target_label=project.project_no,
                     detail={"owner": project.owner.username, "reason": reason})
    return project


def class_key(project: Project) -> str:
    """What a class acceptance is about: class, 签约概率 and 预计签约日期."""
    return f"{project.customer_class}|{project.probability}|{project.expected_sign_date or ''}"


def accept_class(actor: User, project: Project) -> Project:
    """The manager accepts a 客户分类 that contradicts 签约概率/预计签约日期
    (process.class_mismatch, sales-process.md); the acceptance lapses when
    class, probability or date change. Only managers, the director and the GM."""
    if actor.role not in ("manager", "director", "gm"):
        raise OperationError("只有经理可以确认客户分类")
    with write_transaction():
        _locked(project)
        project.class_accepted = class_key(project)
        project.class_accepted_by_id = actor.id
        project.version += 1
        project.updated_at = utcnow()
        db.session.add(ProjectEvent(project_id=project.id, kind="edited", actor_id=actor.id,
                                    reason=f"经理确认客户分类 {project.customer_class} 类"))
        audit.append("class_accept", actor, target=project, target_label=project.project_no,
                     detail={"accepted": project.class_accepted})
    return project


def set_signed_date(actor: User, project: Project, signed_at: date) -> Project:
    """Corrects 签约日期 (department date) of a won project; only a project in
    签约成交 has one, and it cannot lie in the future."""
    with write_transaction():
        _locked(project)
        if project.stage != "won":
            raise OperationError("只有签约成交的项目有签约日期", "signed_at")
        if signed_at > clock.today():
            raise OperationError("签约日期不能晚于今天", "signed_at")
        old = project.signed_at
        if old == signed_at:
            return project
        project.signed_at = signed_at
        project.version += 1
        project.updated_at = utcnow()
        db.session.add(ProjectEvent(project_id=project.id, kind="edited", actor_id=actor.id,
                                    reason=f"签约日期 {old or '—'} → {signed_at}"))
        audit.append("project_update", actor, target=project, target_label=project.project_no,
                     detail={"signed_at": [str(old) if old else None, str(signed_at)]})
    return project


INSTALMENT_FIELDS = ("planned_date", "planned_amount", "kind", "actual_date", "actual_amount")


def _check_instalment(fields: dict) -> None:
    if fields.get("actual_amount") is not None and fields.get("actual_date") is None:
        raise OperationError("填写了实际金额，请同时填写实际回款日期", "actual_date")
    if fields.get("actual_date") is not None and fields.get("actual_amount") is None:
        raise OperationError("填写了实际回款日期，请同时填写实际金额", "actual_amount")
    if fields.get("actual_date") is not None and fields["actual_date"] > clock.today():
        raise OperationError("实际回款日期不能晚于今天", "actual_date")


def add_instalment(actor: User, project: Project, once: str | None = None, **fields) -> Instalment:
    """Adds the next 期次 to a project's 回款计划: 计划日期, 计划金额 (万元),
    kind software/implementation (软件/实施), optionally 实际回款日期 and
    实际金额 (万元). Source: 销售收入预测表 (回款日期, 已实现回款). `once` is
    the form's one-time token: the same form posted twice adds one 期次
    (AlreadyDone for the second)."""
    _check_instalment(fields)
    with write_transaction():
        _use_form_token(actor, once, "instalment_add")
        _locked(project)
        seq = (db.session.scalar(sa.select(sa.func.max(Instalment.seq)).where(Instalment.project_id == project.id))
               or 0) + 1
        item = Instalment(project_id=project.id, seq=seq, **{k: fields.get(k) for k in INSTALMENT_FIELDS})
        item.kind = item.kind or "software"
        db.session.add(item)
        project.version += 1
        project.updated_at = utcnow()
        db.session.flush()
        audit.append("instalment_add", actor, target=project, target_label=project.project_no,
                     detail={"seq": seq} | {k: str(v) if v is not None else None for k, v in fields.items()})
    return item


def update_instalment(actor: User, item: Instalment, **fields) -> Instalment:
    """Changes one 期次 of the 回款计划 (e.g. records 实际回款日期/实际金额, 万元)."""
    _check_instalment(fields)
    with write_transaction():
        _locked(item)
        changed = {}
        for key in INSTALMENT_FIELDS:
            if key in fields and fields[key] != getattr(item, key):
                changed[key] = [str(getattr(item, key)) if getattr(item, key) is not None else None,
                                str(fields[key]) if fields[key] is not None else None]
                setattr(item, key, fields[key])
        if changed:
            item.updated_at = utcnow()
            item.project.version += 1
            item.project.updated_at = utcnow()
            audit.append("instalment_update", actor, target=item.project, target_label=item.project.project_no,
                         detail={"seq": item.seq} | changed)
    return item


def delete_instalment(actor: User, item: Instalment) -> None:
    """Removes one 期次 from the 回款计划 (the page asks first)."""
    with write_transaction():
        project = item.project
        audit.append("instalment_delete", actor, target=project, target_label=project.project_no,
                     detail={"seq": item.seq, "planned_date": str(item.planned_date),
                             "planned_amount": str(item.planned_amount),
                             "actual_amount": str(item.actual_amount) if item.actual_amount is not None else None})
        db.session.delete(item)
        project.version += 1
        project.updated_at = utcnow()


# ── records (filled sheets) ───────────────────────────────────────────────
EDITABLE_STATUSES = ("draft", "returned", "approved")


def _record_number(spec) -> str:
    year = clock.today().year
    return f"{spec.prefix}-{year}-{next_number(f'sheet-{spec.prefix}-{year}'):04d}"


def _printed(field, value) -> str | None:
    from .formkit.kinds import kind_of
    from .records import is_blank
    if is_blank(value):
        return None
    try:
        return str(kind_of(field).to_input(value))
    except Exception:  # a value stored by an older definition: show it as it is
        return str(value)


def _update_customer_master(approver: User, record, spec) -> list[dict]:
    """At final approval of a sheet with updates_customer: the customer master
    takes each master field (spec.master_fields) whose approved value differs
    from what is on file. A blank field keeps the stored value unless the
    author ticked its 清空 box (record.data['_clear']). Every change becomes a
    line of the customer's 信息修改记录 (CustomerChange: who filled it, who
    approved, field label, old → new, when). Returns the changes."""
    from .models import CustomerChange
    from .records import CUSTOMER_COLUMNS, is_blank, master_value
    if not record.customer_id:
        return []
    customer = db.session.get(Customer, record.customer_id)
    _locked(customer)
    data = record.data or {}
    cleared = set(data.get("_clear") or [])
    profile = dict(customer.profile or {})
    changes, now = [], utcnow()
    for field in spec.master_fields():
        attr = field.prefill.partition(".")[2]
        old, new = master_value(customer, attr), data.get(field.key)
        if is_blank(new):
            if field.key not in cleared or is_blank(old):
                continue
            new = None
        if new == old:
            continue
        if attr in CUSTOMER_COLUMNS.values():
            if attr == "name" and is_blank(new):
                continue  # a customer always has a name
            setattr(customer, attr, new)
        elif new is None:
            profile.pop(attr, None)
        else:
            profile[attr] = new
        change = {"field": field.key, "label": field.label, "old": _printed(field, old), "new": _printed(field, new)}
        changes.append(change)
        db.session.add(CustomerChange(customer_id=customer.id, record_id=record.id, field_key=field.key[:40],
                                      field_label=field.label[:80], old_value=change["old"],
                                      new_value=change["new"], changed_by_id=record.author_id,
                                      approved_by_id=approver.id, at=now))
    customer.profile = profile
    if spec.holds_customer_master():
        customer.info_record_id = record.id  # the sheet that holds the whole master (客户基本信息表)
    if changes:
        customer.updated_at = now
        audit.append("customer_update", approver, target=customer, target_label=customer.customer_no,
                     detail={"record": record.number, "changes": changes})
    return changes


def _update_person_master(approver: User, record, spec) -> dict:
    """At final approval of a person-master sheet (spec.updates_person): the
    person it was filed for — recorded now for the project's customer when
    the sheet named none — takes each of its 'person.<attr>' fields that
    holds a value (a blank field keeps what is on file); a sheet with
    marks_key_decision_maker marks him a 关键决策人. Returns {label: [old,
    new]}, also the audit event's detail, private values named by label only
    (people.PRIVATE_FIELDS)."""
    from .models import Person
    from .people import COLUMNS, PRIVATE_FIELDS
    from .records import is_blank
    data = record.data or {}
    person = db.session.get(Person, record.person_id) if record.person_id else None
    created = person is None
    if created:
        name = str(data.get("name") or "").strip()[:80]
        if not name or not record.customer_id:
            return {}
        person = Person(customer_id=record.customer_id, name=name, key_decision_maker=False, details={},
                        private={}, created_by_id=record.author_id)
        db.session.add(person)
        db.session.flush()
        record.person_id = person.id
    else:
        _locked(person)
    details, secret, changed = dict(person.details or {}), dict(person.private or {}), {}
    for field in spec.person_fields():
        attr, new = field.prefill.partition(".")[2], data.get(field.key)
        if is_blank(new):
            continue
        if attr in COLUMNS:
            old = getattr(person, attr)
            limit = Person.__table__.c[attr].type.length
            setattr(person, attr, str(new)[:limit] if limit else new)
            new = getattr(person, attr)
        else:
            store = secret if attr in PRIVATE_FIELDS else details
            old = store.get(attr)
            store[attr] = new
        if old != new:
            changed[field.label] = ["", ""] if attr in PRIVATE_FIELDS else [old, new]
    if spec.marks_key_decision_maker and not person.key_decision_maker:
        person.key_decision_maker = True
        changed["关键决策人"] = [False, True]
    person.details, person.private = details, secret
    if changed or created:
        person.updated_at = utcnow()
        audit.append("person_create" if created else "person_update", approver, target=person,
                     target_label=person.name, detail={"record": record.number, "changes": changed})
    return changed


def _add_revision(actor: User, record, spec, old: dict, new: dict):
    from .formkit.canonical import content_hash
    from .formkit.diff import diff
    from .models import Revision
    from .records import user_names
    number = len(record.revisions) + 1
    changes = diff(spec, old, new, user_names()) if number > 1 else []
    revision = Revision(record_id=record.id, number=number, author_id=actor.id, data=new,
                        changes=changes, content_hash=content_hash(new))
    db.session.add(revision)
    return revision


def create_record(actor: User, project: Project | None, spec, data: dict, attachment_ids=(), once: str | None = None,
                  customer: Customer | None = None, person=None):
    """Files a new sheet as a draft, with revision 1: against `project`, or,
    for a customer-level sheet (FormSpec.filed_on == "customer"), against
    `customer` with project None. `once` is the form's one-time token: a
    second call with it raises AlreadyDone(record id) and files nothing.
    `person`: the person of the customer a person-master sheet is filed for
    (None: a new person, recorded at its approval). Raises OperationError
    when the sheet is filed on the wrong kind of owner or for anyone else's
    person."""
    from .models import Record
    from .records import attach_uploads, source_context
    from .formkit.builder import fill_sources
    on_customer = spec.filed_on == "customer"
    if on_customer != (project is None) or (on_customer and customer is None):
        raise OperationError(f"《{spec.title}》" + ("应在客户档案中填写" if on_customer else "应在销售项目中填写"))
    customer = project.customer if project is not None else customer
    with write_transaction():
        _use_form_token(actor, once, "save")
        _locked(project if project is not None else customer)
        data = fill_sources(spec, data, source_context(project, customer))
        if person is not None and (not spec.updates_person or person.customer_id != customer.id):
            raise OperationError("此联系人不属于本客户")
        record = Record(number=_record_number(spec), sheet=spec.key, spec_version=spec.version,
                        project_id=project.id if project is not None else None, customer_id=customer.id,
                        author_id=actor.id, status="draft", data=data, version=1,
                        person_id=person.id if person else None)
        db.session.add(record)
        db.session.flush()
        attach_uploads(record, attachment_ids)
        _add_revision(actor, record, spec, {}, data)
        where = {"project": project.project_no} if project is not None else {"customer": customer.customer_no}
        audit.append("create", actor, target=record, target_label=record.number,
                     detail={"sheet": spec.key, **where},
                     content_hash=record.revisions[-1].content_hash if record.revisions else None)
        _form_token_result(once, record)
    return record


def save_record(actor: User, record, spec, data: dict, expected_version: int, attachment_ids=(),
                once: str | None = None):
    """Saves a new revision of a sheet. Refused while it is in sign-off; a
    stale `expected_version` raises ConflictError (nothing is overwritten);
    editing an approved sheet makes it a draft that goes through sign-off
    again, the approval staying in its history. `once`: the form's one-time
    token (a repeat raises AlreadyDone)."""
    from .records import attach_uploads, record_sources
    from .formkit.builder import fill_sources
    with write_transaction():
        _use_form_token(actor, once, "save")
        _form_token_result(once, record)
        _locked(record)
        if record.author_id != actor.id:
            raise OperationError("只有填写人可以修改此表单")
        if record.status not in EDITABLE_STATUSES:
            raise OperationError("表单正在审批中，不能修改；如需修改请先撤回。")
        if record.archiving:
            raise OperationError("此表单已审批通过，签章 PDF 正在归档，请稍后再修改。")
        if record.version != expected_version:
            raise ConflictError("此表单已被他人修改。")
        data = fill_sources(spec, data, record_sources(record))
        old = record.data or {}
        if data == old and not attachment_ids:
            return record
        attach_uploads(record, attachment_ids)
        was = record.status
        record.data = data
        record.version += 1
        record.updated_at = utcnow()
        if was == "approved":
            record.status = "draft"
            record.approved_at = None
        revision = _add_revision(actor, record, spec, old, data)
        audit.append("edit", actor, target=record, target_label=record.number,
                     detail={"revision": revision.number, "fields": [c.get("label") for c in revision.changes][:50],
                             "reopened": was == "approved"},
                     content_hash=revision.content_hash)
    return record


def remove_stale_uploads() -> tuple[int, int]:
    """Uploads no saved sheet took (sent with a form that was refused and
    never saved) are held for ATTACHMENT_HOLD_HOURS (24 h), long enough to
    correct the form; older ones are deleted, row and file, with one audit
    event. Returns (files, bytes) removed. Runs before every upload and as
    `flask attachments cleanup`."""
    import os
    from .models import Attachment
    before = utcnow() - timedelta(hours=current_app.config["ATTACHMENT_HOLD_HOURS"])
    stale = sa.and_(Attachment.record_id.is_(None), Attachment.uploaded_at < before)
    with write_transaction():
        rows = db.session.execute(sa.select(Attachment.id, Attachment.stored_name, Attachment.size).where(stale)).all()
        if not rows:
            return 0, 0
        db.session.execute(sa.delete(Attachment).where(Attachment.id.in_([r.id for r in rows]), stale))
        audit.append("upload_expired", None, detail={"files": len(rows), "bytes": sum(r.size for r in rows)})
    for row in rows:
        try:
            os.remove(os.path.join(current_app.config["ATTACHMENT_DIR"], row.stored_name))
        except FileNotFoundError:
            pass
    return len(rows), sum(r.size for r in rows)


def store_attachment(actor: User, field_key: str, filename: str, content: bytes, content_type: str):
    """Keeps an uploaded file under a server-made name outside static/; the
    record links it when the sheet is saved. Until then it is held for
    ATTACHMENT_HOLD_HOURS, and one person holds at most
    ATTACHMENT_HOLD_MAX_BYTES (50 MB) of such files: beyond that
    OperationError (the form is to be saved first)."""
    import hashlib
    import os
    import uuid
    from .models import Attachment
    remove_stale_uploads()
    held = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Attachment.size), 0)).where(
        Attachment.record_id.is_(None), Attachment.uploaded_by_id == actor.id))
    cap = current_app.config["ATTACHMENT_HOLD_MAX_BYTES"]
    if held + len(content) > cap:
        raise OperationError(f"尚未保存的附件已达 {cap // (1024 * 1024)} MB，请先保存表单再上传", "attachments")
    directory = current_app.config["ATTACHMENT_DIR"]
    os.makedirs(directory, exist_ok=True)
    stored = uuid.uuid4().hex
    path = os.path.join(directory, stored)
    with open(path, "xb") as fh:
        fh.write(content)
    os.chmod(path, 0o440)
    with write_transaction():
        attachment = Attachment(field_key=field_key, filename=filename[:255], stored_name=stored,
                                content_type=content_type, size=len(content),
                                sha256=hashlib.sha256(content).hexdigest(), uploaded_by_id=actor.id)
        db.session.add(attachment)
        db.session.flush()
        audit.append("upload", actor, target=attachment, target_label=filename[:120],
                     content_hash=attachment.sha256)
    return attachment


def log_download(actor: User, target, label: str, content_hash: str | None = None) -> None:
    with write_transaction():
        audit.append("download", actor, target=target, target_label=label[:120], content_hash=content_hash)


# ── sign-off ──────────────────────────────────────────────────────────────
def _record_link(record) -> str:
    return f"/records/{record.id}"


def followup_day(spec, data: dict, submitted_on) -> "date | None":
    """The local date a follow-up sheet dates its follow-up by: its own
    contact/visit date (FormSpec.followup_date), never later than the day it
    was submitted (`submitted_on`, local). None when the sheet is not a
    follow-up sheet or carries no valid date. Rule: paper-forms-toolkit.md 3.13."""
    if not spec.followup:
        return None
    try:
        day = date.fromisoformat(str((data or {}).get(spec.followup_date) or ""))
    except ValueError:
        return None
    return min(day, submitted_on)


def is_late_entry(contact_day, first_submitted_at) -> bool:
    """补录: a contact is recorded within 24 hours (paper-forms-toolkit.md 3.13).
    The contact's hour is not on the sheet, so it is taken at the latest, the
    end of its day: a sheet first submitted (naive UTC) after the end of the
    day after its contact date (local) is late."""
    return first_submitted_at >= clock.end_of_day(contact_day + timedelta(days=1))


def _count_followup(record, spec, now) -> None:
    """A submitted follow-up sheet moves its project's follow-up clock to its
    contact date (never backwards, never past today) and is marked 补录 when
    submitted more than 24 h after that date."""
    day = followup_day(spec, record.data, clock.local_date(now))
    if day is None:
        return
    record.late_entry = is_late_entry(day, record.first_submitted_at or now)
    project = record.project
    start = clock.start_of_day(day)
    if project.last_followup_at is None or start > project.last_followup_at:
        project.last_followup_at = start
    if project.followup_from is None or start > project.followup_from:
        project.followup_from = start


def _wait_at(record, index: int) -> None:
    record.current_slot = index
    record.waiting_for_id = record.chain[index]["signer_id"]
    record.waiting_since = utcnow()


def submit_record(actor: User, record, spec, chosen: dict[str, int], once: str | None = None):
    """Sends a draft or returned sheet into sign-off; a new round starts at
    the first slot. The sheet must pass full validation first (the route
    checks it with the sheet's form). `once`: the form's one-time token (a
    repeat raises AlreadyDone)."""
    from . import workflow
    from .notify import notify
    from .formkit.canonical import content_hash
    with write_transaction():
        _use_form_token(actor, once, "submit")
        _form_token_result(once, record)
        _locked(record)
        if record.author_id != actor.id:
            raise OperationError("只有填写人可以提交此表单")
        if record.status not in ("draft", "returned"):
            raise OperationError("此表单已在审批中或已批准")
        if not spec.slots:
            raise OperationError("此表单无需审批")
        try:
            chain = workflow.resolve_chain(spec, actor, record.data or {}, chosen, project=record.project)
        except workflow.ChainError as e:
            raise OperationError(e.message, e.slot) from None
        record.round += 1
        record.chain = chain
        record.status = "submitted"
        record.submitted_at = utcnow()
        record.first_submitted_at = record.first_submitted_at or record.submitted_at
        _count_followup(record, spec, record.submitted_at)
        _wait_at(record, 0)
        audit.append("submit", actor, target=record, target_label=record.number,
                     detail={"round": record.round, "signers": [s["signer_name"] for s in chain]},
                     content_hash=content_hash(record.data or {}))
        notify(db.session.get(User, chain[0]["signer_id"]), "submitted",
               f"{actor.name} 提交了《{spec.title}》{record.number}，请您审批（{chain[0]['label']}）。",
               _record_link(record), record)
    return record


def sign_record(actor: User, record, spec, decision: str, comment: str = "", expected_slot: int | None = None,
                expected_version: int | None = None, once: str | None = None):
    """The current slot's signer (or his deputy) approves or returns the sheet.
    Exactly one decision per slot and round: the record row is locked and
    the (record, round, slot) signature is unique. `expected_version` is the
    record version the signer was shown: if the sheet was saved since, the
    act raises StaleError and signs nothing. `once`: the form's one-time token
    (a repeat raises AlreadyDone)."""
    from . import workflow
    from .models import Signature
    from .notify import notify
    from .formkit.canonical import content_hash
    comment = (comment or "").strip()
    if decision not in ("approved", "returned"):
        raise OperationError("无效的审批操作", "decision")
    with write_transaction():
        _use_form_token(actor, once, "sign")
        _form_token_result(once, record)
        _locked(record)
        if record.status != "submitted" or record.current_slot is None:
            raise OperationError("此表单当前不在审批中（可能已被他人处理）")
        if expected_slot is not None and expected_slot != record.current_slot:
            raise OperationError("此环节已被他人处理，请刷新查看最新状态")
        principal = workflow.acting_for(actor, record)
        if principal is None:
            raise OperationError("您不是当前环节的签署人")
        if expected_version is not None and expected_version != record.version:
            raise StaleError(f"您打开此表单后，填写人修改了内容（现为第 {record.version} 版）。"
                             "请先查看下面的最新内容，再决定同意或退回。")
        slot = record.chain[record.current_slot]
        if principal.id != actor.id and not spec.signers_may_repeat:
            other = next((e["label"] for i, e in enumerate(record.chain)
                          if i != record.current_slot and e["signer_id"] == actor.id), None)
            if other is not None:
                raise OperationError(f"您已是此表单「{other}」的签署人，同一轮中不能再代签「{slot['label']}」")
        if decision == "returned" and not comment:
            raise OperationError("退回时请填写退回原因", "comment")
        if decision == "approved" and slot.get("comment_required") and not comment:
            raise OperationError(f"请填写{slot.get('comment_label') or '意见'}", "comment")
        digest = content_hash(record.data or {})
        on_behalf = principal if principal.id != actor.id else None
        db.session.add(Signature(record_id=record.id, round=record.round, slot_index=record.current_slot,
                                 slot_key=slot["key"], slot_label=slot["label"][:80], signer_id=actor.id,
                                 on_behalf_of_id=on_behalf.id if on_behalf else None, decision=decision,
                                 comment=comment or None, content_hash=digest))
        try:
            db.session.flush()  # the unique (record, round, slot) refuses a second decision here
        except sa.exc.IntegrityError:
            raise OperationError("此环节已被他人处理，请刷新查看最新状态") from None
        author = db.session.get(User, record.author_id)
        who = f"{actor.name} 代 {principal.name}" if on_behalf else actor.name
        if decision == "returned":
            record.status = "returned"
            record.current_slot = None
            record.waiting_for_id = None
            record.waiting_since = None
            audit.append("return", actor, target=record, target_label=record.number, on_behalf_of=on_behalf,
                         detail={"slot": slot["label"], "comment": comment, "round": record.round},
                         content_hash=digest)
            notify(author, "returned", f"《{spec.title}》{record.number} 被 {who} 退回：{comment}",
                   _record_link(record), record)
        else:
            audit.append("sign", actor, target=record, target_label=record.number, on_behalf_of=on_behalf,
                         detail={"slot": slot["label"], "comment": comment, "round": record.round},
                         content_hash=digest)
            if record.current_slot + 1 < len(record.chain):
                _wait_at(record, record.current_slot + 1)
                nxt = record.chain[record.current_slot]
                notify(db.session.get(User, nxt["signer_id"]), "submitted",
                       f"《{spec.title}》{record.number}（{author.name} 填写）等待您审批（{nxt['label']}）。",
                       _record_link(record), record)
            else:
                _approve(actor, record, spec, author)
    return record


def _approve(actor: User, record, spec, author: User) -> None:
    """Final approval: lock, queue the sealing of the final PDF (after
    commit; the record shows 归档中 until it is there), tell the author; a
    worklist sheet (FormSpec.worklist) lands in the implementation team's
    worklist, received by the last slot's signer. What would stop the
    sealing (the seal missing, an unprintable character) refuses the
    approval here."""
    from . import jobs
    from .notify import notify
    from .printing import base_url, check_sealable
    record.status = "approved"
    record.approved_at = utcnow()
    record.current_slot = None
    record.waiting_for_id = None
    record.waiting_since = None
    record.pdf_sha256 = None
    if spec.updates_customer:
        _update_customer_master(actor, record, spec)
    if spec.updates_person:
        _update_person_master(actor, record, spec)
    db.session.flush()
    check_sealable(record)
    jobs.later("seal_final_pdf", record.id, base_url())
    notify(author, "approved", f"《{spec.title}》{record.number} 已审批通过。", _record_link(record), record)
    if spec.worklist:
        receiver = db.session.get(User, record.chain[-1]["signer_id"])
        if record.impl_status is None:
            record.impl_status = "received"
            notify(receiver, "worklist", f"《{spec.title}》{record.number} 已进入实施工作台。", "/handover/", record)
        else:  # a revised sheet keeps where implementation stands
            notify(receiver, "worklist", f"《{spec.title}》{record.number} 已修订并重新审批。", _record_link(record),
                   record)


def stuck(record) -> bool:
    """Whether a submitted record waits for nobody who can act: its signer
    is gone, deactivated, or now in a role that never signs (admin, clerk,
    auditor) (issue 15 finding 3)."""
    from .process import SIGNING_ROLES
    if record.status != "submitted":
        return False
    signer = db.session.get(User, record.waiting_for_id) if record.waiting_for_id else None
    return signer is None or not signer.active or signer.role not in SIGNING_ROLES


def withdraw_record(actor: User, record):
    """The author takes a submission back before anyone has signed it, or
    at any time while it is stuck on a deactivated signer (stuck)."""
    from .models import Signature
    with write_transaction():
        _locked(record)
        if record.author_id != actor.id:
            raise OperationError("只有填写人可以撤回")
        if record.status != "submitted":
            raise OperationError("只有审批中的表单可以撤回")
        signed = db.session.scalar(sa.select(sa.func.count()).select_from(Signature).where(
            Signature.record_id == record.id, Signature.round == record.round))
        if signed and not stuck(record):
            raise OperationError("已有人签署，不能撤回；如需修改请请签署人退回")
        record.status = "draft"
        record.current_slot = None
        record.waiting_for_id = None
        record.waiting_since = None
        audit.append("withdraw", actor, target=record, target_label=record.number, detail={"round": record.round})
    return record


def discard_draft(actor: User, record) -> str:
    """Deletes a draft its author no longer wants: only a draft never submitted
    (round 0) — once submitted, a sheet keeps its sign-off history and is
    edited or withdrawn, not deleted. Its revisions and attachments (rows and
    files) go with it; one audit event keeps its number, sheet and project, so
    a gap in the numbering is explained. Returns the number; OperationError
    when `actor` is not the author or the record is not such a draft."""
    import os
    from .models import Attachment, Record
    with write_transaction():
        _locked(record)
        if record.author_id != actor.id:
            raise OperationError("只有填写人可以删除草稿")
        if record.status != "draft" or record.round:
            raise OperationError("只有从未提交过的草稿可以删除；提交过的表单保留审批记录，可修改后重新提交")
        files = list(db.session.scalars(sa.select(Attachment.stored_name).where(Attachment.record_id == record.id)))
        number = record.number
        audit.append("discard", actor, target=record, target_label=number,
                     detail={"sheet": record.sheet, "project": record.project.project_no if record.project else None,
                             "attachments": len(files)})
        db.session.expunge(record)
        db.session.execute(sa.delete(Record).where(Record.id == record.id))  # revisions, attachments: ON DELETE CASCADE
    for name in files:
        try:
            os.remove(os.path.join(current_app.config["ATTACHMENT_DIR"], name))
        except FileNotFoundError:
            pass
    return number


def next_reminder_at(record):
    """When 催办 is next possible for `record` (UTC, naive), or None if now:
    at most one reminder per REMINDER_INTERVAL_HOURS (4 hours by default)
    per sheet, counted from the last 催办 in the audit trail."""
    from .models import AuditEvent
    last = db.session.scalar(sa.select(sa.func.max(AuditEvent.at)).where(
        AuditEvent.action == "remind", AuditEvent.target_type == "record", AuditEvent.target_id == record.id))
    if last is None:
        return None
    due = last + timedelta(hours=current_app.config.get("REMINDER_INTERVAL_HOURS", 4))
    return due if due > utcnow() else None


def remind_signer(actor: User, record, spec) -> None:
    """催办: the author nudges whoever the sheet waits for (and his deputies),
    at most once per 4 hours per sheet (REMINDER_INTERVAL_HOURS). Requests
    arriving together queue on the sheet's row (PostgreSQL: FOR UPDATE;
    SQLite: the write lock), so the second sees the first and is refused with
    the time the next reminder is possible (department time zone)."""
    from .models import Delegation
    from .notify import notify
    from .templating import local_time
    with write_transaction():
        _locked(record)
        if record.author_id != actor.id:
            raise OperationError("只有填写人可以催办")
        if record.status != "submitted" or record.waiting_for_id is None:
            raise OperationError("此表单不在审批中")
        due = next_reminder_at(record)
        if due is not None:
            hours = current_app.config.get("REMINDER_INTERVAL_HOURS", 4)
            raise OperationError(f"此表单刚催办过，每 {hours} 小时最多催办一次；下次可催办时间：{local_time(due)}。")
        signer = db.session.get(User, record.waiting_for_id)
        message = f"{actor.name} 催办《{spec.title}》{record.number}，已等待您审批。"
        notify(signer, "reminder", message, _record_link(record), record)
        today = clock.today()
        for deputy_id in db.session.scalars(sa.select(Delegation.deputy_id).where(
                Delegation.principal_id == signer.id, Delegation.revoked_at.is_(None),
                Delegation.starts_on <= today, Delegation.ends_on >= today)):
            notify(db.session.get(User, deputy_id), "reminder", message + f"（您是 {signer.name} 的代签人）",
                   _record_link(record), record)
        audit.append("remind", actor, target=record, target_label=record.number, detail={"signer": signer.username})


def delegate(actor: User, deputy: User, starts_on: date, ends_on: date):
    """代签: `actor` lets `deputy` sign for him from `starts_on` to `ends_on`
    (department dates, both included, at most a year). The deputy must be
    allowed to hold the actor's slots (workflow.deputy_refusal: active, a
    signing role of the same line); one person's delegations do not overlap.
    Raises OperationError naming the field at fault."""
    from . import workflow
    from .models import Delegation
    from .notify import notify
    if deputy.id == actor.id:
        raise OperationError("不能委托给自己", "deputy")
    if ends_on < starts_on:
        raise OperationError("结束日期不能早于开始日期", "ends_on")
    if ends_on < clock.today():
        raise OperationError("结束日期已过", "ends_on")
    if (ends_on - starts_on).days > 366:
        raise OperationError("委托期限最长一年", "ends_on")
    why = workflow.deputy_refusal(deputy, actor)
    if why:
        raise OperationError(why, "deputy")
    with write_transaction():
        _locked(actor)  # a person's delegations are checked and added one at a time
        overlap = db.session.scalar(sa.select(Delegation).where(
            Delegation.principal_id == actor.id, Delegation.revoked_at.is_(None),
            Delegation.starts_on <= ends_on, Delegation.ends_on >= starts_on).order_by(Delegation.starts_on).limit(1))
        if overlap is not None:
            raise OperationError(f"您已委托 {overlap.deputy.name} 在 {overlap.starts_on} 至 {overlap.ends_on} 期间代签，"
                                 "委托期间不能重叠；请先撤销或另选日期", "starts_on")
        item = Delegation(principal_id=actor.id, deputy_id=deputy.id, starts_on=starts_on, ends_on=ends_on)
        db.session.add(item)
        db.session.flush()
        audit.append("delegate", actor, target=item, target_label=f"{actor.username}→{deputy.username}",
                     detail={"deputy": deputy.username, "from": starts_on.isoformat(), "to": ends_on.isoformat()})
        notify(deputy, "delegated", f"{actor.name} 委托您在 {starts_on} 至 {ends_on} 期间代签。", "/inbox/")
    return item


def revoke_delegation(actor: User, item) -> None:
    with write_transaction():
        _locked(item)
        if item.principal_id != actor.id:
            raise OperationError("只能撤销自己的委托")
        if item.revoked_at is None:
            item.revoked_at = utcnow()
            audit.append("delegate_revoke", actor, target=item, target_label=f"#{item.id}")


def set_implementation_status(actor: User, record, status: str) -> None:
    """The implementation team marks a received worklist sheet (the handover)
    started or finished."""
    from .notify import notify
    order = {"received": 0, "started": 1, "finished": 2}
    with write_transaction():
        _locked(record)
        if record.sheet not in registry.worklist_keys() or record.status != "approved" \
                or record.impl_status is None:
            raise OperationError("只有已接收的交接单可以更新实施状态")
        if status not in ("started", "finished") or order[status] != order[record.impl_status] + 1:
            raise OperationError("实施状态只能按 已接收 → 实施中 → 已完成 推进")
        record.impl_status = status
        if status == "started":
            record.impl_started_at = utcnow()
        else:
            record.impl_finished_at = utcnow()
        audit.append("implementation", actor, target=record, target_label=record.number, detail={"status": status})
        label = "已开始实施" if status == "started" else "已完成实施"
        project = record.project
        for person in {record.author_id, project.owner_id}:
            notify(db.session.get(User, person), "worklist", f"{project.name}：交接单 {record.number} {label}。",
                   _record_link(record), record)


# ── notifications and exports ─────────────────────────────────────────────
KEPT_FORM_HOURS = 24


def keep_form(user: User, path: str, pairs: list[tuple[str, str]]) -> None:
    """Keeps what `user` had typed into the sheet form at `path` (a same-site
    path) when he posted it signed out: [(input name, value), …]. Only his
    latest one per path is kept; taken back by take_kept_form. UI state, not a
    business act: no audit event (like marking notifications read)."""
    from .models import KeptForm
    with write_transaction():
        db.session.execute(sa.delete(KeptForm).where(KeptForm.user_id == user.id, KeptForm.path == path))
        db.session.add(KeptForm(user_id=user.id, path=path[:300], pairs=[[str(n), str(v)] for n, v in pairs]))


def take_kept_form(user: User, path: str) -> list[tuple[str, str]] | None:
    """The pairs `user` kept for the form at `path` within KEPT_FORM_HOURS,
    once: they are deleted as they are handed back. None if there are none."""
    from .models import KeptForm
    with write_transaction():
        kept = db.session.scalars(sa.select(KeptForm).where(KeptForm.user_id == user.id, KeptForm.path == path)
                                  .order_by(KeptForm.id.desc())).first()
        if kept is None:
            return None
        pairs = [(n, v) for n, v in kept.pairs]
        fresh = kept.kept_at >= utcnow() - timedelta(hours=KEPT_FORM_HOURS)
        db.session.execute(sa.delete(KeptForm).where(KeptForm.user_id == user.id, KeptForm.path == path))
    return pairs if fresh else None


def mark_notifications_read(user: User, ids=None) -> int:
    """Marks `user`'s unread notifications read: those in `ids`, or all of
    them when `ids` is None. Others' ids are ignored. Returns how many."""
    from .models import Notification
    with write_transaction():
        query = sa.update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        if ids is not None:
            query = query.where(Notification.id.in_(list(ids)))
        return db.session.execute(query.values(read_at=utcnow())).rowcount


def log_export(actor: User | None, label: str, detail: dict | None = None, content_hash: str | None = None) -> None:
    """Records that `actor` (None: the command line) exported data: what, with
    which filters, how many rows, and the hash of what was handed out."""
    with write_transaction():
        audit.append("export", actor, target_label=label[:120], detail=detail, content_hash=content_hash)


# ── targets ───────────────────────────────────────────────────────────────
def set_target(actor: User, *, year: int, month: int, user: User | None = None, team: Team | None = None,
               signed_amount: Decimal | int | str = 0, new_customers: int = 0) -> Target:
    """Sets one rep's or one team's monthly target (签约金额 万元, 新增客户数),
    replacing the one set before."""
    if (user is None) == (team is None):
        raise OperationError("请选择业务员或团队", "target")
    if not 1 <= month <= 12 or not 2000 <= year <= 2100:
        raise OperationError("请选择有效的月份", "month")
    amount = Decimal(str(signed_amount or 0))
    if amount < 0 or new_customers < 0:
        raise OperationError("目标不能为负数", "signed_amount")
    with write_transaction():
        whose = sa.and_(Target.user_id == user.id, Target.team_id.is_(None)) if user else \
            sa.and_(Target.user_id.is_(None), Target.team_id == team.id)
        target = db.session.scalar(
            sa.select(Target).where(whose, Target.year == year, Target.month == month).with_for_update())
        before = None
        if target is None:
            target = Target(user_id=user.id if user else None, team_id=team.id if team else None,
                            year=year, month=month)
            db.session.add(target)
        else:
            before = [str(target.signed_amount), target.new_customers]
        target.signed_amount = amount
        target.new_customers = new_customers
        target.set_by_id = actor.id
        db.session.flush()
        audit.append("target_set", actor, target=target,
                     target_label=f"{user.username if user else team.name} {year}-{month:02d}",
                     detail={"before": before, "after": [str(amount), new_customers]})
    return target


# ── import ────────────────────────────────────────────────────────────────
def _raise_counter(number: str) -> None:
    """Moves a number series past an imported number, so it is never issued again."""
    from .excel import series_of
    series = series_of(number)
    if series:
        db.session.execute(sa.text(
            "INSERT INTO counters (key, value) VALUES (:k, :v) ON CONFLICT (key) DO UPDATE SET value = "
            "CASE WHEN counters.value < excluded.value THEN excluded.value ELSE counters.value END"),
            {"k": series[0], "v": series[1]})


def import_rows(actor: User, plan) -> tuple[int, int, int]:
    """Carries out a checked import (excel.plan_import): creates its customers
    and projects and changes the existing projects it lists (fields, stage
    with its reason, first 回款) in one transaction — all of it, or nothing
    if anything fails (OperationError, e.g. a project changed since the
    preview). One audit event `data_import` carries the file's SHA-256 and
    the numbers created and changed. Returns (customers created, projects
    created, projects changed)."""
    now = utcnow()
    customers, projects = plan.customers, plan.projects
    done = {"new_customers": [], "new_projects": [], "changed_projects": []}
    with write_transaction():
        created = {}
        if customers:
            _lock_customer_keys()
        for c in customers:
            _refuse_duplicate(c.get("name"), c.get("tax_id"))
            if c["customer_no"]:
                if db.session.scalar(sa.select(Customer.id).where(Customer.customer_no == c["customer_no"])):
                    raise OperationError(f"客户编号 {c['customer_no']} 已被占用，请重新上传文件")
                _raise_counter(c["customer_no"])
            number = c["customer_no"] or f"C{next_number('customer'):05d}"
            owner = c["owner"]
            customer = Customer(customer_no=number, owner_id=owner.id, team_id=owner.team_id, profile={},
                                **{k: c.get(k) for k in CUSTOMER_COLUMNS})
            db.session.add(customer)
            db.session.flush()
            created[id(c)] = customer.id
            done["new_customers"].append(number)
        year = clock.today().year
        for p in projects:
            if p["project_no"]:
                if db.session.scalar(sa.select(Project.id).where(Project.project_no == p["project_no"])):
                    raise OperationError(f"项目编号 {p['project_no']} 已被占用，请重新上传文件")
                _raise_counter(p["project_no"])
            number = p["project_no"] or f"XM-{year}-{next_number(f'project-{year}'):04d}"
            customer_id = created[id(p["customer"])] if isinstance(p["customer"], dict) else p["customer"]
            owner = p["owner"]
            project = Project(
                project_no=number, owner_id=owner.id, team_id=owner.team_id, customer_id=customer_id,
                stage=p["stage"], stage_entered_at=now, created_at=now, updated_at=now,
                **{k: p[k] for k in ("name", "product_line", "amount", "probability", "expected_sign_date",
                                     "competitors", "funding", "lead_source", "customer_class",
                                     "stage_stay_reason", "signed_at")},
                lost_reason=p["lost_reason"] if p["stage"] == "lost" else None)
            db.session.add(project)
            db.session.flush()
            _first_collection(project, p.get("collected_amount"), p.get("collection_date"), p)
            db.session.add(ProjectEvent(project_id=project.id, kind="created", to_value=p["stage"], actor_id=actor.id,
                                        at=now, reason="Excel 导入"))
            if p["stage"] in STAGE_NODES:
                _reach_node(actor, project, STAGE_NODES[p["stage"]], clock.today())
            done["new_projects"].append(number)
        for u in plan.updates:
            project = _locked(db.session.get(Project, u["project_id"]))
            if project.version != u["version"]:
                raise ConflictError(f"项目 {project.project_no} 在预览后已被修改，请重新上传文件")
            if u["stage"]:
                _move_stage(actor, project, *u["stage"], audited=False)
            changed = {}
            for key, value in u["fields"].items():
                old = getattr(project, key)
                if old != value:
                    changed[key] = [str(old) if old is not None else None, str(value) if value is not None else None]
                    setattr(project, key, value)
            if u["collection"]:
                _first_collection(project, *u["collection"], {"signed_at": project.signed_at,
                                                              "expected_sign_date": project.expected_sign_date,
                                                              "amount": project.amount})
            if changed:
                from .history import edit_summary
                db.session.add(ProjectEvent(project_id=project.id, kind="edited", actor_id=actor.id,
                                            reason="Excel 导入：" + edit_summary(changed)))
            project.version += 1
            project.updated_at = now
            done["changed_projects"].append(project.project_no)
        audit.append("data_import", actor, content_hash=plan.digest,
                     detail={"customers": len(customers), "projects": len(projects), "updated": len(plan.updates)}
                     | {k: v[:500] for k, v in done.items() if v})
    return len(customers), len(projects), len(plan.updates)


def _first_collection(project: Project, paid, when, p: dict) -> None:
    """已回款/回款日期 of an import row become the project's first instalment."""
    if not (paid or when):
        return
    when = when or p.get("signed_at") or p.get("expected_sign_date") or clock.today()
    db.session.add(Instalment(project_id=project.id, seq=1, planned_date=when,
                              planned_amount=paid or p.get("amount") or 0, kind="software",
                              actual_date=when if paid else None, actual_amount=paid or None))


# ── 我的日程: the personal calendar feed ──────────────────────────────────
def make_calendar_feed(actor: User) -> str:
    """Makes (or replaces) `actor`'s secret iCalendar link and returns its
    token, which is kept only as a hash: the link is shown once. A link made
    before stops working (its URL answers 404)."""
    from .agenda import new_token, token_hash
    token = new_token()
    with write_transaction():
        _locked(actor)
        replaced = actor.calendar_token_hash is not None
        actor.calendar_token_hash = token_hash(token)
        actor.calendar_token_at = utcnow()
        audit.append("calendar_feed", actor, target=actor, target_label=actor.username,
                     detail={"replaced": replaced})
    return token


def revoke_calendar_feed(actor: User) -> bool:
    """Ends `actor`'s iCalendar link (its URL answers 404 from now on).
    Returns whether there was one."""
    with write_transaction():
        _locked(actor)
        if actor.calendar_token_hash is None:
            return False
        actor.calendar_token_hash = None
        actor.calendar_token_at = None
        audit.append("calendar_feed_revoke", actor, target=actor, target_label=actor.username)
    return True


# ── approvals waiting too long: escalated to the signer's manager ─────────
def escalation_target(signer: User | None) -> User | None:
    """Whom an overdue approval of `signer` goes up to: the manager of his
    team (when that is not himself), else a director, else the general
    manager — active people other than the signer; None when there is nobody."""
    from .models import Team
    team = db.session.get(Team, signer.team_id) if signer is not None and signer.team_id else None
    if team is not None and team.manager_id and team.manager_id != signer.id:
        manager = db.session.get(User, team.manager_id)
        if manager is not None and manager.active:
            return manager
    for role in ("director", "gm"):
        above = db.session.scalar(sa.select(User).where(User.role == role, User.active,
                                                        User.id != (signer.id if signer else None)).order_by(User.id))
        if above is not None:
            return above
    return None


def escalate_overdue_approvals(now=None) -> list[int]:
    """The escalate_approvals job: every sheet waiting at a slot longer than
    SIGNOFF_OVERDUE_WORKING_DAYS working days (Mon–Fri, Asia/Shanghai;
    workflow.is_overdue) is escalated once to the signer's manager
    (escalation_target): a notification and an `escalate` audit event naming
    the round, slot, signer and manager. Idempotent: a slot already
    escalated in its round is not escalated again, so a job run twice has
    its effect once. `now`: naive UTC (default the clock). Returns the ids
    of the records escalated by this run."""
    from . import workflow
    from .models import AuditEvent, Record
    from .notify import notify
    now = now or utcnow()
    done = []
    waiting = db.session.scalars(sa.select(Record.id).where(Record.status == "submitted",
                                                            Record.waiting_since.is_not(None))).all()
    for record_id in waiting:
        record = db.session.get(Record, record_id)
        if record is None or not workflow.is_overdue(record, now):
            continue
        with write_transaction():
            _locked(record)
            if record.status != "submitted" or record.current_slot is None or not workflow.is_overdue(record, now):
                continue
            key = {"round": record.round, "slot": record.current_slot}
            earlier = db.session.scalars(sa.select(AuditEvent.detail).where(
                AuditEvent.action == "escalate", AuditEvent.target_type == "record", AuditEvent.target_id == record.id))
            if any({k: (d or {}).get(k) for k in key} == key for d in earlier):
                continue
            signer = db.session.get(User, record.waiting_for_id) if record.waiting_for_id else None
            target = escalation_target(signer)
            if target is None:
                continue
            slot = record.chain[record.current_slot]["label"]
            days = workflow.working_days_between(record.waiting_since, now)
            notify(target, "escalated", f"{record.number} 在「{slot}」等待 {signer.name if signer else '（无人）'} "
                   f"审批已 {days} 个工作日，请督促或安排转交。", _record_link(record), record)
            audit.append("escalate", None, target=record, target_label=record.number,
                         detail={**key, "slot_label": slot, "signer": signer.username if signer else None,
                                 "to": target.username, "working_days": days})
            done.append(record.id)
    return done
