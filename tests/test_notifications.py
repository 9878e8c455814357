"""Notifications: rows in the app, the unread badge, marking read, privacy,
and email through a real SMTP server that only happens after commit."""
import email
import email.policy
import logging
import socket

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from salestrack import operations
from salestrack.database import write_transaction
from salestrack.extensions import db
from salestrack.models import Notification
from salestrack.notify import notify


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """aiosmtpd handler keeping every message it receives."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"

    def messages(self):
        return [email.message_from_bytes(e.original_content, policy=email.policy.default) for e in self.envelopes]


@pytest.fixture
def smtp(app):
    """A real SMTP server on a free local port, with the app pointed at it."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_SENDER="salestrack@example.com",
                      BASE_URL="http://sales.example.com/")
    yield inbox
    controller.stop()


def _notify(user, kind="submitted", message="资源申请表 ZY-2026-0001 已提交，请审批", link="/records/1"):
    with write_transaction():
        return notify(user, kind, message, link=link)


def _rows(user):
    return list(db.session.scalars(sa.select(Notification).where(Notification.user_id == user.id)
                                   .order_by(Notification.id)))


def test_notify_adds_a_row_in_the_callers_transaction(factory):
    rep = factory.user("rep")
    _notify(rep, "returned", "您的资源申请表被退回：请补充预算", "/records/7")
    [row] = _rows(rep)
    assert (row.kind, row.message, row.link, row.read_at) == ("returned", "您的资源申请表被退回：请补充预算", "/records/7", None)


def test_notify_refuses_unknown_kinds_and_calls_outside_a_write_transaction(factory):
    rep = factory.user("rep")
    with pytest.raises(ValueError), write_transaction():
        notify(rep, "gossip", "x")
    with pytest.raises(RuntimeError):
        notify(rep, "submitted", "x")
    db.session.rollback()
    assert _rows(rep) == []


def test_unread_count_shows_as_a_badge_in_the_navigation(factory, client, login):
    rep = factory.user("rep")
    for _ in range(3):
        _notify(rep)
    login(rep)
    page = client.get("/").get_data(as_text=True)
    assert 'href="/notifications/">通知 <span class="badge" aria-label="3 项">3</span>' in page
    operations.mark_notifications_read(rep)
    page = client.get("/").get_data(as_text=True)
    assert 'href="/notifications/">通知</a>' in page


def test_list_is_newest_first_with_unread_highlighted(factory, client, login):
    rep = factory.user("rep")
    _notify(rep, "submitted", "第一条", "/records/1")
    _notify(rep, "approved", "第二条", "/records/2")
    operations.mark_notifications_read(rep, [_rows(rep)[0].id])
    login(rep)
    page = client.get("/notifications/").get_data(as_text=True)
    assert page.index("第二条") < page.index("第一条")
    first, second = _rows(rep)
    assert f'class="notice unread" id="notification-{second.id}"' in page
    assert f'class="notice" id="notification-{first.id}"' in page
    assert '<a href="/records/1">查看</a>' in page and "已批准" in page
    assert '<span id="unread-count">1</span> 条未读' in page


def test_mark_one_read_in_place_with_htmx(factory, client, login):
    rep = factory.user("rep")
    _notify(rep)
    _notify(rep)
    first, second = _rows(rep)
    login(rep)
    response = client.post(f"/notifications/{first.id}/read", headers={"HX-Request": "true"})
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in text
    assert f'class="notice" id="notification-{first.id}"' in text
    assert '<span id="unread-count" hx-swap-oob="true">1</span>' in text
    assert [r.read_at is not None for r in _rows(rep)] == [True, False]


def test_opening_an_unread_notification_marks_it_read_and_follows_the_link(factory, client, login):
    rep = factory.user("rep")
    _notify(rep, link="/records/42")
    [row] = _rows(rep)
    login(rep)
    response = client.post(f"/notifications/{row.id}/read", data={"open": "1"})
    assert response.status_code == 302 and response.headers["Location"] == "/records/42"
    assert _rows(rep)[0].read_at is not None


def test_links_leading_off_the_site_are_not_followed(factory, client, login):
    rep = factory.user("rep")
    _notify(rep, link="//evil.example.com/x")
    [row] = _rows(rep)
    login(rep)
    assert "evil.example.com" not in client.get("/notifications/").get_data(as_text=True)
    response = client.post(f"/notifications/{row.id}/read", data={"open": "1"})
    assert response.headers["Location"] == "/notifications/"


def test_mark_all_read(factory, client, login):
    rep, other = factory.user("rep"), factory.user("rep")
    for user in (rep, rep, other):
        _notify(user)
    login(rep)
    response = client.post("/notifications/read-all", headers={"HX-Request": "true"})
    assert response.status_code == 200 and '<span id="unread-count">0</span> 条未读' in response.get_data(as_text=True)
    assert all(r.read_at for r in _rows(rep))
    assert not any(r.read_at for r in _rows(other))  # only one's own
    response = client.post("/notifications/read-all")
    assert response.status_code == 302


def test_other_users_notifications_are_invisible(factory, client, login):
    rep, other = factory.user("rep"), factory.user("rep")
    _notify(other, message="别人的秘密通知")
    [theirs] = _rows(other)
    login(rep)
    assert "别人的秘密通知" not in client.get("/notifications/").get_data(as_text=True)
    assert client.post(f"/notifications/{theirs.id}/read").status_code == 404
    assert client.post(f"/notifications/{theirs.id}/read", headers={"HX-Request": "true"}).status_code == 404
    assert client.post("/notifications/999999/read").status_code == 404
    assert _rows(other)[0].read_at is None
    assert operations.mark_notifications_read(rep, [theirs.id]) == 0


# ── email ─────────────────────────────────────────────────────────────────
def test_email_is_delivered_after_commit_in_utf8(factory, smtp):
    manager = factory.user("manager", name="王经理", email="wang@example.com")
    with write_transaction():
        notify(manager, "submitted", "张伟提交了资源申请表 ZY-2026-0001（华东数控 MES 项目），请审批。",
               link="/records/5")
        assert smtp.envelopes == []  # not before the act commits
    [envelope] = smtp.envelopes
    assert envelope.mail_from == "salestrack@example.com"
    assert envelope.rcpt_tos == ["wang@example.com"]
    [msg] = smtp.messages()
    assert msg["Subject"] == "【销售项目管理】有表单提交给您审批"
    assert msg["To"].addresses[0].display_name == "王经理"
    assert msg.get_content_charset() == "utf-8"
    body = msg.get_content()
    assert "王经理，您好" in body
    assert "张伟提交了资源申请表 ZY-2026-0001（华东数控 MES 项目），请审批。" in body
    assert "http://sales.example.com/records/5" in body


def test_subject_names_the_record(factory, smtp):
    author = factory.user("rep", email="rep@example.com")
    customer = factory.customer(author)
    project = factory.project(author, customer)
    from salestrack.formkit import registry
    record = operations.create_record(author, project, registry.get("phone_log"), {})
    with write_transaction():
        notify(author, "returned", "被退回", link=f"/records/{record.id}", record=record)
    [msg] = smtp.messages()
    assert msg["Subject"] == f"【销售项目管理】您的表单被退回：{record.number}"
    assert _rows(author)[0].record_id == record.id


def test_nothing_is_sent_when_the_act_rolls_back(factory, smtp):
    manager = factory.user("manager", email="wang@example.com")
    with pytest.raises(operations.OperationError), write_transaction():
        notify(manager, "submitted", "提交了表单")
        raise operations.OperationError("规则不允许")
    _notify(factory.user("rep"))  # a later act commits: the discarded mail must not ride along
    assert smtp.envelopes == []
    assert _rows(manager) == []


def test_no_mail_without_an_address(factory, smtp):
    _notify(factory.user("rep"))
    assert smtp.envelopes == []


def test_no_mail_and_no_error_when_mail_server_is_unset(app, factory, smtp, caplog):
    app.config["MAIL_SERVER"] = None
    manager = factory.user("manager", email="wang@example.com")
    with caplog.at_level(logging.DEBUG, logger="salestrack.mail"):
        _notify(manager)
    assert smtp.envelopes == []
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(_rows(manager)) == 1


def test_mail_server_down_logs_an_error_and_the_act_still_succeeds(app, factory, caplog):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())  # nothing listens there
    manager = factory.user("manager", email="wang@example.com")
    with caplog.at_level(logging.ERROR, logger="salestrack.mail"):
        _notify(manager)
    assert len(_rows(manager)) == 1
    [record] = [r for r in caplog.records if r.name == "salestrack.mail"]
    assert record.levelno == logging.ERROR and "wang@example.com" in record.getMessage()


@pytest.mark.parametrize("kind", ["submitted", "returned", "approved", "reminder", "delegated", "worklist"])
def test_every_kind_has_a_chinese_subject(factory, smtp, kind):
    _notify(factory.user("rep", email="rep@example.com"), kind)
    [msg] = smtp.messages()
    subject = msg["Subject"].removeprefix("【销售项目管理】")
    assert subject and all("\u4e00" <= ch <= "\u9fff" or ch in "：" for ch in subject)


def test_a_real_act_mails_after_it_commits(factory, smtp):
    """operations.delegate notifies the deputy from inside its transaction."""
    from datetime import date, timedelta
    manager = factory.user("manager", name="王经理")
    deputy = factory.user("director", name="李总监", email="li@example.com")
    operations.delegate(manager, deputy, date.today(), date.today() + timedelta(days=3))
    [msg] = smtp.messages()
    assert msg["Subject"] == "【销售项目管理】您被委托代签"
    assert "王经理 委托您" in msg.get_content() and "http://sales.example.com/inbox/" in msg.get_content()
    assert _rows(deputy)[0].kind == "delegated"


@pytest.mark.parametrize("page", ["99999999999999999999", "-1", "abc"])
def test_an_absurd_page_number_shows_a_page_not_an_error(client, factory, login, page):
    login(factory.user("rep"))
    assert client.get(f"/notifications/?page={page}").status_code == 200
