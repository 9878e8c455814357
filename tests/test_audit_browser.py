"""The audit trail browser: who may see it, filters, 代签 display, chain
verification from the page, and the CSV export."""
import csv
import io
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from salestrack import audit, operations
from salestrack.database import write_transaction
from salestrack.extensions import db
from salestrack.models import AuditEvent

HX = {"HX-Request": "true"}


@pytest.fixture
def trail(factory):
    """An auditor, an admin and a small trail: people, a project, a 代签."""
    auditor = factory.user("auditor", name="审计员")
    admin = factory.user("admin", name="管理员")
    rep = factory.user("rep", name="张伟")
    gm = factory.user("gm", name="王总")
    deputy = factory.user("director", name="李总监")
    project = factory.project(rep, name="恒力精机 MES 系统")
    operations.change_stage(rep, project, "contact")
    with write_transaction():
        audit.append("approve", deputy, target=project, target_label=project.project_no, on_behalf_of=gm)
    return dict(auditor=auditor, admin=admin, rep=rep, gm=gm, deputy=deputy, project=project)


def _rows(client, **params):
    return client.get("/audit/", query_string=params, headers=HX).get_data(as_text=True)


@pytest.mark.parametrize("role", ["rep", "manager", "director", "gm", "hr", "implementation", "clerk"])
def test_only_admin_and_auditor_may_open_it(role, factory, client, login):
    login(factory.user(role))
    assert client.get("/audit/").status_code == 403
    assert client.post("/audit/verify").status_code == 403
    assert client.get("/audit/export.csv").status_code == 403


@pytest.mark.parametrize("role", ["admin", "auditor"])
def test_admin_and_auditor_see_the_trail_in_the_navigation(role, trail, client, login):
    login(trail[role])
    page = client.get("/audit/").get_data(as_text=True)
    assert '<a href="/audit/">审计日志</a>' in page
    assert "项目阶段变更" in page and "新建项目" in page and "登录" in page


def test_newest_first_with_chinese_actions_local_time_and_short_hash(trail, client, login):
    login(trail["auditor"])
    text = _rows(client)
    assert "<html" not in text
    assert text.index("同意") < text.index("项目阶段变更") < text.index("新建项目")
    last = db.session.scalar(sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
    local = (last.at + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S")  # Asia/Shanghai
    assert local in text


def test_acts_on_someones_behalf_read_x_for_y(trail, client, login):
    login(trail["auditor"])
    assert "李总监 代 王总" in _rows(client, action="approve")


def test_unknown_actions_are_shown_raw(trail, client, login):
    with write_transaction():
        audit.append("seal_rotate", trail["admin"])
    login(trail["auditor"])
    assert ">seal_rotate<" in _rows(client)


def test_filter_by_action(trail, client, login):
    login(trail["auditor"])
    text = _rows(client, action="project_stage")
    assert "共 1 条事件" in text and "项目阶段变更" in text and "新建项目" not in text


def test_filter_by_actor_includes_acts_done_for_him(trail, client, login):
    login(trail["auditor"])
    text = _rows(client, actor=trail["rep"].id)
    assert "李总监" not in text and "新建项目" in text and "项目阶段变更" in text
    text = _rows(client, actor=trail["gm"].id)
    assert "李总监 代 王总" in text


def test_filter_by_target_type_and_text(trail, client, login):
    login(trail["auditor"])
    number = trail["project"].project_no
    text = _rows(client, type="project")
    assert "共 3 条事件" in text and "新建用户" not in text
    text = _rows(client, q=number[-4:])
    assert number in text and "新建用户" not in text
    assert "共 0 条事件" in _rows(client, q="100%_不存在")


def test_filter_by_local_date_range(trail, client, login):
    old = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "project_create"))
    # 2025-03-01 23:30 in Shanghai is 15:30 UTC the same day; 2025-03-02 00:30 local is 16:30 UTC on 03-01.
    for at, label in ((datetime(2025, 3, 1, 15, 30), "三月一日"), (datetime(2025, 3, 1, 16, 30), "三月二日")):
        with write_transaction():
            ev = audit.append("export", trail["admin"], target_label=label)
            ev.at = at
            ev.hash = audit.event_hash(ev)
    login(trail["auditor"])
    text = _rows(client, **{"from": "2025-03-01", "to": "2025-03-01"})
    assert "三月一日" in text and "三月二日" not in text and "共 1 条事件" in text
    text = _rows(client, **{"from": "2025-03-02", "to": "2025-03-02"})
    assert "三月二日" in text and "三月一日" not in text
    assert old.target_label not in _rows(client, to="2025-12-31")
    assert "共 0 条事件" not in _rows(client, **{"from": "not-a-date"})


def test_pages_of_fifty(trail, client, login):
    with write_transaction():
        for n in range(60):
            audit.append("download", trail["rep"], target_label=f"文件{n:02d}")
    login(trail["auditor"])
    first = _rows(client, action="download")
    assert "文件59" in first and "文件09" not in first and "第 1 / 2 页" in first
    second = _rows(client, action="download", page=2)
    assert "文件09" in second and "文件59" not in second


def test_verify_reports_an_intact_chain(trail, client, login):
    login(trail["auditor"])
    count = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    text = client.post("/audit/verify", headers=HX).get_data(as_text=True)
    assert f"审计链完整：共 {count} 条事件" in text and "<html" not in text


def test_verify_shows_the_first_tampered_event(trail, client, login):
    login(trail["auditor"])
    victim = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "project_stage"))
    db.session.execute(sa.text("UPDATE audit_events SET target_label = 'XM-伪造' WHERE id = :id"), {"id": victim.id})
    db.session.commit()
    text = client.post("/audit/verify", headers=HX).get_data(as_text=True)
    assert "审计链校验未通过" in text and f"（#{victim.id}）事件内容被修改" in text
    assert f'<tr id="event-{victim.id}" class="broken">' in text and "XM-伪造" in text
    # Without htmx the whole page comes back, the event highlighted in the list too.
    page = client.post("/audit/verify").get_data(as_text=True)
    assert "<html" in page and page.count(f'<tr id="event-{victim.id}" class="broken">') == 2


def test_csv_export_of_the_filtered_list_is_excel_friendly_and_audited(trail, client, login):
    with write_transaction():
        audit.append("login_failed", None, target_label="=HYPERLINK(\"http://x\")")
    login(trail["auditor"])
    response = client.get("/audit/export.csv", query_string={"type": "project"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:5] == ["编号", "时间", "操作人", "代表", "操作"]
    body = rows[1:]
    assert [r[4] for r in body] == ["同意", "项目阶段变更", "新建项目"]
    assert body[0][2:4] == ["李总监", "王总"]
    assert all(r[8] == trail["project"].project_no for r in body)

    everything = client.get("/audit/export.csv").get_data().decode("utf-8-sig")
    assert "'=HYPERLINK" in everything  # a formula in a label stays text in Excel

    export = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "export")
                               .order_by(AuditEvent.id))
    assert export.actor_id == trail["auditor"].id
    assert export.detail == {"filters": {"type": "project"}, "rows": 3}
    assert audit.verify_chain()[1] is None


@pytest.mark.parametrize("url", ["/audit/?page=99999999999999999999", "/audit/?page=-3"])
def test_an_absurd_page_number_shows_a_page_not_an_error(client, factory, login, url):
    login(factory.user("auditor"))
    assert client.get(url).status_code == 200


def _actions_written_by_the_code() -> set[str]:
    import pathlib
    import re
    root = pathlib.Path(audit.__file__).parent
    found = set()
    for path in root.rglob("*.py"):
        found.update(re.findall(r'audit\.append\(\s*"([a-z_]+)"', path.read_text(encoding="utf-8")))
        found.update(re.findall(r'action="([a-z_]+)"', path.read_text(encoding="utf-8")))
    return found


def test_every_event_and_target_reads_in_chinese_in_the_trail():
    """An auditor reads 新建联系人 and 联系人, never person_create or person:
    every action the code writes and every kind of record it can name has a
    label (a new one without a label fails here)."""
    from salestrack.views.audit import ACTION_LABELS, TARGET_LABELS
    written = _actions_written_by_the_code()
    assert len(written) > 30
    assert sorted(written - ACTION_LABELS.keys()) == []
    models = {mapper.class_.__name__.lower() for mapper in db.Model.registry.mappers}
    unlabelled = models - TARGET_LABELS.keys() - {"auditevent", "loginthrottle", "counter", "keptform", "usedformtoken"}
    assert sorted(unlabelled) == []


def test_a_person_event_shows_its_label_on_the_page(client, login, trail, factory):
    from salestrack.models import Person
    customer = factory.customer(trail["rep"], name="苏州恒力精密机械有限公司")
    with write_transaction():
        person = Person(customer_id=customer.id, name="顾建华")
        db.session.add(person)
        audit.append("person_create", trail["rep"], target=person, target_label=person.name)
    login(trail["auditor"])
    import lxml.html
    page = lxml.html.fromstring(client.get("/audit/").get_data(as_text=True))
    cells = [td.text_content().strip() for td in page.xpath("//tbody//td")]
    assert "新建联系人" in cells and "联系人" in " ".join(cells)
    assert not {"person_create", "person"} & set(cells)
