"""A sales department with everyone a sign-off chain can name, a logged-in
browser per person, and sheets filled the way a user fills them: one valid
value per field kind, taken from the sheet's definition."""
import re
import time
from dataclasses import dataclass, field
from datetime import date

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from salestrack.extensions import db
from salestrack.formkit import registry
from salestrack.formkit.spec import Table, parse_signer
from salestrack.models import Notification, Record, User
from tests.formkit.formkit_samples import row_count, scoring_cell
from tests.sheet_samples import new_url


@dataclass
class World:
    team: object
    manager: User  # 李娜, manager of 华东片区
    rep: User  # 张伟, the author of most sheets
    rep2: User  # 王芳, same team
    other_manager: User  # 陈刚, manager of 华南片区
    other_rep: User  # 刘洋, 华南片区
    director: User
    gm: User
    hr: User
    pm: User  # 吴磊, implementation (项目经理)
    engineer: User  # 郑浩, implementation (技术工程师)
    clerk: User
    auditor: User
    project: object
    clients: dict = field(default_factory=dict)

    def everyone(self) -> list[User]:
        return [self.manager, self.rep, self.rep2, self.other_manager, self.other_rep, self.director, self.gm,
                self.hr, self.pm, self.engineer, self.clerk, self.auditor]

    def holders(self, role: str, author: User) -> list[User]:
        """The people of a role a chain may name, as the submit page lists them (by name)."""
        return sorted((u for u in self.everyone() if u.role == role and u.id != author.id), key=lambda u: u.name)


@pytest.fixture
def world(factory, app, login) -> World:
    team = factory.team("华东片区")
    manager = factory.user("manager", team, username="lina", name="李娜")
    rep = factory.user("rep", team, username="zhangwei", name="张伟")
    rep2 = factory.user("rep", team, username="wangfang", name="王芳")
    south = factory.team("华南片区")
    other_manager = factory.user("manager", south, username="chengang", name="陈刚")
    other_rep = factory.user("rep", south, username="liuyang", name="刘洋")
    w = World(team=team, manager=manager, rep=rep, rep2=rep2, other_manager=other_manager, other_rep=other_rep,
              director=factory.user("director", username="zhaomin", name="赵敏"),
              gm=factory.user("gm", username="sunjianguo", name="孙建国"),
              hr=factory.user("hr", username="zhouting", name="周婷"),
              pm=factory.user("implementation", username="wulei", name="吴磊", title="项目经理"),
              engineer=factory.user("implementation", username="zhenghao", name="郑浩", title="技术工程师"),
              clerk=factory.user("clerk", username="fengxue", name="冯雪"),
              auditor=factory.user("auditor", username="qianjin", name="钱进"),
              project=None)
    w.project = factory.project(rep, factory.customer(rep, name="苏州恒力精密机械有限公司"), name="恒力精机 MES 系统")

    def browser(user: User):
        """A test client signed in as `user` (one per person, kept for the test)."""
        if user.id not in w.clients:
            w.clients[user.id] = login(user, c=app.test_client())
        return w.clients[user.id]

    w.browser = browser
    return w


# ── filling a sheet from its definition ───────────────────────────────────
def field_value(field, w: World) -> list[str]:
    """What a user would type or pick for one field: valid for its kind."""
    kind = field.kind
    if kind in ("text", "contact"):
        return [f"{field.label}：按合同约定"]
    if kind == "textarea":
        return [f"{field.label}：客户计划三季度改造两条产线。"]
    if kind == "date":
        return [date.today().isoformat()]
    if kind == "datetime":
        return ["2027-03-20T14:30"]
    if kind == "time":
        return ["09:45"]
    if kind == "int":
        return ["1"]
    if kind == "money":
        return ["128.50"]
    if kind == "percent":
        return ["35"]
    if kind == "score":
        return [str((field.scale or (0, 100))[1])]
    if kind == "choice":
        return [field.choices[0]]
    if kind == "checks":
        return [field.choices[0]]
    if kind == "user":
        person = next(u for u in w.everyone() if field.role in (None, u.role) and u.id != w.rep.id)
        return [str(person.id)]
    if kind == "files":
        return []
    raise AssertionError(f"no sample value for kind {kind!r}")


def reviewers_for(spec, w: World) -> list[User]:
    """People named in a table that a 'table:' slot draws its signers from."""
    return [w.engineer, w.rep2]


def signer_tables(spec) -> dict[str, str]:
    """{table key: user column} for the tables a 'table:' slot reads."""
    out = {}
    for slot in spec.slots:
        how, arg = parse_signer(slot.signer)
        if how == "table":
            out[arg[0]] = arg[1]
    return out


def fill(spec, w: World, **overrides) -> list[tuple[str, str]]:
    """Form data completing every input of the sheet (tables: one row, or
    one row per reviewer for a table that names signers)."""
    tables = signer_tables(spec)
    pairs = []
    for item in spec.items():
        if isinstance(item, Table):
            people = reviewers_for(spec, w) if item.key in tables else [None] * row_count(item, 1)
            for index, person in enumerate(people):
                for col in item.columns:
                    decided = scoring_cell(item, col, index, len(people))  # preprinted labels, weights to 100 %
                    if person is not None and col.key == tables[item.key]:
                        values = [str(person.id)]
                    elif decided is not None:
                        values = decided[0]
                    else:
                        values = field_value(col, w)
                    pairs += [(f"{item.key}-{index}-{col.key}", v) for v in values]
        elif not item.source:
            pairs += [(item.key, v) for v in overrides.get(item.key, field_value(item, w))]
    return pairs


def editable_input(spec) -> tuple[str, callable]:
    """A typed text input to change (a field, else a table cell), and how to
    read its stored value back from the record's data."""
    for kinds in (("text", "textarea"), ("contact",)):  # a person typed, not picked, is text too
        for item in spec.items():
            if isinstance(item, Table):
                printed = item.label_column if item.fixed(0) and not item.fixed(0).typed else None
                col = next((c for c in item.columns if c.kind in kinds and c.key != printed), None)
                if col is not None:
                    return f"{item.key}-0-{col.key}", lambda data, t=item.key, c=col.key: data[t][0][c]
            elif item.kind in kinds and not item.source:
                return item.key, lambda data, k=item.key: data[k]
    raise AssertionError(f"{spec.key} has nothing to type in")


def chosen_signers(spec, w: World, author: User) -> dict[str, User]:
    """Whom the author picks for each slot he must choose: different people
    for slots of the same role where there are enough (e.g. the handover's
    engineer and project manager)."""
    picks, used = {}, set()
    for slot in spec.slots:
        how, role = parse_signer(slot.signer)
        holders = w.holders(role, author) if how in ("chosen", "role") else []
        if how == "chosen" or (how == "role" and len(holders) > 1):
            fresh = [u for u in holders if u.id not in used] or holders
            if how == "chosen" and role == "implementation":
                # 技术工程师 then 项目经理, as the department fills the handover.
                fresh = sorted(fresh, key=lambda u: u.title != "技术工程师")
            picks[slot.key] = fresh[0]
            used.add(fresh[0].id)
    return picks


def expected_chain(spec, w: World, author: User, picks: dict[str, User]) -> list[User]:
    """The people who sign, in order, according to the definition."""
    out = []
    for slot in spec.slots:
        how, arg = parse_signer(slot.signer)
        if how == "team_manager":
            out.append(w.manager if author.id != w.manager.id else w.director)
        elif how == "project_owner":  # the project's account manager, author or not
            out.append(db.session.get(User, w.project.owner_id))
        elif slot.key in picks:
            out.append(picks[slot.key])
        elif how == "role":
            out += w.holders(arg, author)
        else:
            out += reviewers_for(spec, w)
    return out


# ── acting as a user ──────────────────────────────────────────────────────
def file_sheet(w: World, spec, author=None, action="draft", **overrides) -> Record:
    author = author or w.rep
    response = w.browser(author).post(new_url(w.project, spec),
                                      data=MultiDict(fill(spec, w, **overrides) + [("action", action)]))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return db.session.scalars(sa.select(Record).order_by(Record.id.desc())).first()


def submit(w: World, record: Record, picks: dict[str, User] | None = None, author=None, **extra):
    data = {f"signer_{key}": str(user.id) for key, user in (picks or {}).items()} | extra
    return w.browser(author or w.rep).post(f"/records/{record.id}/submit", data=data)


def sign(w: World, user: User, record: Record, decision="approved", comment="同意。", slot=None, **extra):
    """`user` signs as from the record page. Someone the page offers no
    signing form (not the signer) sends a request made by hand: a one-time
    token of the right shape, the version left out; the rules must hold
    whatever token comes."""
    reload(record)
    client = w.browser(user)
    url = f"/records/{record.id}/sign"
    data = {"decision": decision, "comment": comment,
            "slot": str(record.current_slot if slot is None else slot)} | extra
    if "form_token" not in client.served_form(url):
        data.setdefault("form_token", crafted_token())
    return client.post(url, data=data, follow_redirects=True)


def crafted_token() -> str:
    """A one-time form token as anyone could make one up (the server checks
    that it is unused and well formed, nothing more)."""
    import secrets
    return secrets.token_urlsafe(18)


def page(w: World, user: User, url: str) -> str:
    response = w.browser(user).get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def inbox(w: World, user: User) -> set[int]:
    """Ids of the sheets listed in `user`'s inbox."""
    listed = page(w, user, "/inbox/")
    return {int(i) for i in re.findall(r'<article class="card inbox-item[^"]*" id="inbox-(\d+)"', listed)}


def reload(obj):
    db.session.rollback()
    db.session.refresh(obj)
    return obj


def notifications(user: User, record: Record, kind: str | None = None) -> list[Notification]:
    q = sa.select(Notification).where(Notification.user_id == user.id, Notification.record_id == record.id)
    if kind:
        q = q.where(Notification.kind == kind)
    return list(db.session.scalars(q.order_by(Notification.id)))


def approve_all(w: World, record: Record) -> None:
    """Every signer of the chain approves in turn, through the record page;
    then the author waits on the record page, as its 归档中 asks again, until
    下载 PDF is offered (the queue's worker has sealed the PDF)."""
    reload(record)
    while record.status == "submitted":
        signer = db.session.get(User, record.waiting_for_id)
        response = sign(w, signer, record, comment=f"{signer.name}：同意")
        assert "已签署" in response.get_data(as_text=True)
        reload(record)
    if record.status == "approved":
        wait_for_pdf_link(w.browser(db.session.get(User, record.author_id)), record.id)
        reload(record)


def wait_for_pdf_link(client, record_id: int, timeout: float = 60.0) -> str:
    """What the record page's PDF links show once 下载 PDF is there, asked for
    as the page's 归档中 asks (GET …/pdf-links every so often)."""
    deadline = time.monotonic() + timeout
    while True:
        # Test requests share the fixture's session; in production each request has its own, so
        # end its transaction as a new request would begin one (and see what the worker committed).
        db.session.rollback()
        text = client.get(f"/records/{record_id}/pdf-links", headers={"HX-Request": "true"}).get_data(as_text=True)
        if "下载 PDF" in text:
            return text
        assert "归档中" in text, text
        assert time.monotonic() < deadline, f"record {record_id}: no sealed PDF after {timeout} s"
        time.sleep(0.2)


def state(record: Record) -> tuple:
    """Everything a refused act must leave as it was."""
    from salestrack.models import Signature
    reload(record)
    signatures = db.session.scalar(sa.select(sa.func.count()).select_from(Signature).where(
        Signature.record_id == record.id))
    return (record.status, record.round, record.current_slot, record.waiting_for_id, record.version,
            record.impl_status, signatures, repr(sorted((record.data or {}).items())))


def spec(key):
    return registry.get(key)
