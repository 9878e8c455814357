"""Telling people that something waits for them: a notification in the app,
always, and an email when a mail server is configured. Operations call
notify() inside their write transaction; each email is a send_mail job
queued only after that transaction commits (jobs.later), so an act that is
rolled back tells nobody anything, and a mail server that is down delays
the mail (retried by the queue) instead of the act."""
from __future__ import annotations

import logging
import smtplib
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app
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
    "followup": ("跟进纪律", "项目超过跟进期限：请转交或恢复立项权"),
    "escalated": ("超期升级", "审批超期：有表单超期未审批"),
}
SUBJECT_PREFIX = "【销售项目管理】"
SMTP_TIMEOUT_SECONDS = 10


def kind_label(kind: str) -> str:
    return KINDS[kind][0] if kind in KINDS else kind


def notify(user: User | None, kind: str, message: str, link: str | None = None,
           record: Record | None = None) -> Notification | None:
    """Adds a notification for `user` to the current write transaction and,
    when MAIL_SERVER is set and the user has an email address, a send_mail
    job queued once the transaction has committed. Nobody to tell (`user`
    None) is not an error."""
    from . import jobs
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
        jobs.later("send_mail", {
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


def send_mail(mail: dict) -> None:
    """The send_mail job: one mail (a dict made by notify()) over SMTP.
    A refused recipient or message is logged and not retried; any other
    failure (server unreachable, timeout, temporary refusal) is raised, and
    the queue retries it (jobs.RETRIES)."""
    try:
        with smtplib.SMTP(mail["server"], mail["port"], timeout=SMTP_TIMEOUT_SECONDS) as smtp:
            smtp.send_message(_message(mail))
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as e:
        code = getattr(e, "smtp_code", None) or 550
        if isinstance(e, smtplib.SMTPRecipientsRefused):
            code = min((c for c, _ in e.recipients.values()), default=550)
        if not 400 <= code < 500:
            log.error("mail to %s (%s) refused by %s: %s", mail["to"], mail["subject"], mail["server"], e)
            return
        log.warning("mail to %s (%s) deferred by %s (%s); will try again", mail["to"], mail["subject"],
                    mail["server"], e)
        raise
    except (OSError, smtplib.SMTPException) as e:
        log.warning("mail server %s:%s unavailable for mail to %s (%s): %s; will try again", mail["server"],
                    mail["port"], mail["to"], mail["subject"], e)
        raise
