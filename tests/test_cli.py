"""Command-line tasks: accounts, demo data, audit chain verification."""
import pytest
import sqlalchemy as sa
from werkzeug.security import check_password_hash

from salestrack.extensions import db
from salestrack.models import AuditEvent, Customer, Project, Team, User


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def test_users_create_and_set_password(runner):
    result = runner.invoke(args=["users", "create", "liuyang", "--name", "刘洋", "--role", "manager",
                                 "--team", "华南片区", "--password", "s3cret-pass-2026"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.username == "liuyang"))
    team = db.session.scalar(sa.select(Team).where(Team.name == "华南片区"))
    assert user.team_id == team.id and team.manager_id == user.id
    assert runner.invoke(args=["users", "set-password", "liuyang", "--password", "n3w-pass-2026"]).exit_code == 0
    db.session.refresh(user)
    assert check_password_hash(user.password_hash, "n3w-pass-2026")


def test_users_create_refuses_a_duplicate(runner):
    runner.invoke(args=["users", "create", "dup", "--name", "甲", "--role", "rep", "--password", "x12345678-z"])
    result = runner.invoke(args=["users", "create", "DUP", "--name", "乙", "--role", "rep", "--password", "x12345678-z"])
    assert result.exit_code != 0 and "已存在" in result.output


def test_demo_loads_once_and_every_account_signs_in(runner, app, client, monkeypatch):
    monkeypatch.setenv("SALESTRACK_DEMO_PASSWORD", "pw-demo")
    assert runner.invoke(args=["demo", "--once"]).exit_code == 0
    assert "nothing loaded" in runner.invoke(args=["demo", "--once"]).output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 12
    stages = set(db.session.scalars(sa.select(Project.stage)))
    assert len(stages) >= 8
    for username in ("rep", "rep2", "manager", "director", "gm", "hr", "impl", "clerk", "auditor", "admin"):
        response = client.post("/login", data={"username": username, "password": "pw-demo"})
        assert response.status_code == 302, username
        assert client.get("/", follow_redirects=True).status_code == 200
        client.post("/logout")


def test_demo_rep_lands_on_his_projects_and_due_follow_ups(runner, client):
    runner.invoke(args=["demo"])
    client.post("/login", data={"username": "rep", "password": "demo"})
    page = client.get("/").get_data(as_text=True)
    assert "我的项目" in page and "待跟进" in page and "恒力精机数控车间 MES 系统" in page
    assert "航天测控" not in page  # rep2's project


def test_demo_manager_lands_on_his_team(runner, client):
    runner.invoke(args=["demo"])
    client.post("/login", data={"username": "manager", "password": "demo"})
    page = client.get("/").get_data(as_text=True)
    assert "团队项目" in page and "华东片区" in page and "航天测控试验数据平台" in page
    assert "鹏程信息数据中心监控" not in page  # the other team's


def _tamper(kind):
    events = list(db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)))
    middle = events[len(events) // 2]
    if kind == "edited":
        db.session.execute(sa.update(AuditEvent).where(AuditEvent.id == middle.id).values(target_label="改过"))
    elif kind == "deleted":
        db.session.execute(sa.delete(AuditEvent).where(AuditEvent.id == middle.id))
    else:  # swap the contents of two neighbouring events
        a, b = middle, events[len(events) // 2 + 1]
        cols = ["at", "actor_id", "action", "target_type", "target_id", "target_label", "detail", "prev_hash", "hash"]
        va, vb = ({c: getattr(e, c) for c in cols} for e in (a, b))
        db.session.execute(sa.update(AuditEvent).where(AuditEvent.id == a.id).values(hash="tmp" + a.hash[3:]))
        db.session.execute(sa.update(AuditEvent).where(AuditEvent.id == b.id).values(**va))
        db.session.execute(sa.update(AuditEvent).where(AuditEvent.id == a.id).values(**vb))
    db.session.commit()
    return middle.id


@pytest.mark.parametrize("kind", ["edited", "deleted", "swapped"])
def test_audit_verify_finds_the_first_tampered_event(runner, kind):
    runner.invoke(args=["demo"])
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0 and "chain intact" in ok.output
    tampered = _tamper(kind)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    reported = int(result.output.split("#")[1].split()[0])
    assert reported == (tampered + 1 if kind == "deleted" else tampered)


def test_demo_has_sealed_archive_an_inbox_and_a_worklist(runner, client, worker):
    from salestrack.models import ArchivedPdf, Record
    from tests.queue_support import wait_archived
    assert runner.invoke(args=["demo"]).exit_code == 0
    for record_id in db.session.scalars(sa.select(Record.id).where(Record.status == "approved")).all():
        wait_archived(record_id)  # sealed by the queue's worker, as bin/run starts it
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ArchivedPdf)) == 4
    assert runner.invoke(args=["archive", "verify"]).exit_code == 0
    waiting = db.session.scalar(sa.select(Record).where(Record.status == "submitted"))
    client.post("/login", data={"username": "manager", "password": "demo"})
    assert waiting.number in client.get("/inbox/").get_data(as_text=True)
    client.post("/logout")
    client.post("/login", data={"username": "impl", "password": "demo"})
    handover = db.session.scalar(sa.select(Record).where(Record.sheet == "handover"))
    assert handover.impl_status == "received" and handover.number in client.get("/handover/").get_data(as_text=True)
    client.post("/logout")
    client.post("/login", data={"username": "auditor", "password": "demo"})
    from salestrack.archive import local_today
    today = local_today().isoformat()
    page = client.get("/archive/export", query_string={"from": today, "to": today}).get_data(as_text=True)
    assert "共 4 份归档文件" in page
