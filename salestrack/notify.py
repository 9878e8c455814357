"""Telling people that something waits for them: a notification in the app,
always, and an email when a mail server is configured. Operations call
notify() inside their write transaction; the emails wait in the session's
outbox and go out only after that transaction commits, so an act that is
rolled back tells nobody anything."""
from __future__ import annotations

import logging
import smtplib
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app
from sqlalchemy import event

from .extensions import db
from .models import Notification, Record, User

log = logging.getLogger("salestrack.mail")

# kind → (short label shown in the app, email subject)
KINDS = {
    "submitted": ("待审批", "有表单提交给您审批"),
    "returned": ("已退回", "您的表单被退回"),
    "approved": ("已批准", "您的表单已批准"),
    "reminder": ("催办", "催办：有表单等待您审批"),
    "delegated": ("委托代签", "您被委托代签"),
    "worklist": ("项目交接", "有新的项目交接给您"),  # a sheet landed in the implementation worklist
}
SUBJECT_PREFIX = "【销售项目管理】"
SMTP_TIMEOUT_SECONDS = 10
_OUTBOX = "salestrack_outbox"


def kind_label(kind: str) -> str:
    return KINDS[kind][0] if kind in KINDS else kind


def notify(user: User | None, kind: str, message: str, link: str | None = None,
           record: Record | None = None) -> Notification | None:
    """Adds a notification for `user` to the current write transaction and,
    when MAIL_SERVER is set and the user has an email address, queues an
    email that is sent once the transaction has committed. Nobody to tell
    (`user` None) is not an error."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind: {kind!r}")
    if user is None:
        return None
    session = db.session
    if not session.connection().get_execution_options().get("salestrack_write"):
        raise RuntimeError("notify() must be called inside write_transaction()")
    notification = Notification(user_id=user.id, kind=kind, message=message[:500], link=link[:300] if link else None,
                                record_id=record.id if record is not None else None)
    session.add(notification)
    config = current_app.config
    if config.get("MAIL_SERVER") and user.email:
        session.info.setdefault(_OUTBOX, []).append({
            "server": config["MAIL_SERVER"], "port": int(config.get("MAIL_PORT") or 25),
            "sender": config["MAIL_SENDER"], "to": user.email, "name": user.name,
            "subject": SUBJECT_PREFIX + KINDS[kind][1] + (f"：{record.number}" if record is not None else ""),
            "body": _body(user.name, message, _absolute(_base_url(), link)),
        })
    return notification


def _base_url() -> str:
    from .printing import base_url
    return base_url()


def _absolute(base_url: str, link: str | None) -> str | None:
    if not link:
        return None
    if link.startswith(("http://", "https://")):
        return link
    return base_url.rstrip("/") + "/" + link.lstrip("/")


def _body(name: str, message: str, url: str | None) -> str:
    lines = [f"{name}，您好：", "", message, ""]
    if url:
        lines += ["请点击以下链接查看：", url, ""]
    lines += ["——", "销售项目管理系统（此邮件由系统自动发送，请勿直接回复）"]
    return "\n".join(lines) + "\n"


def _message(mail: dict) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = mail["subject"]
    msg["From"] = mail["sender"]
    msg["To"] = Address(display_name=mail["name"], addr_spec=mail["to"])
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=mail["sender"].rpartition("@")[2] or "localhost")
    msg.set_content(mail["body"], charset="utf-8")
    return msg


def send_mails(mails: list[dict]) -> None:
    """Sends the mails over one SMTP connection per server. Failures are
    logged, never raised: the act they belong to has already happened."""
    by_server: dict[tuple[str, int], list[dict]] = {}
    for mail in mails:
        by_server.setdefault((mail["server"], mail["port"]), []).append(mail)
    for (server, port), batch in by_server.items():
        try:
            with smtplib.SMTP(server, port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
                for mail in batch:
                    try:
                        smtp.send_message(_message(mail))
                    except Exception:  # noqa: BLE001 - one bad address must not stop the others
                        log.exception("mail to %s (%s) not sent", mail["to"], mail["subject"])
        except Exception:  # noqa: BLE001 - an unreachable or broken server must not break the act
            log.exception("mail server %s:%s unavailable; %d mail(s) not sent to %s", server, port, len(batch),
                          ", ".join(m["to"] for m in batch))


@event.listens_for(db.session, "after_commit")
def _send_after_commit(session) -> None:
    if session.in_nested_transaction():  # a savepoint: the real commit is still to come
        return
    mails = session.info.pop(_OUTBOX, None)
    if mails:
        send_mails(mails)


@event.listens_for(db.session, "after_rollback")
def _discard_after_rollback(session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_OUTBOX, None)
