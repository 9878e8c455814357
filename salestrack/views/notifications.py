"""The user's own notifications: list newest first, open one, mark one or
all read (in place with htmx). Others' notifications answer 404."""
import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import operations
from ..extensions import db, htmx
from ..models import Notification
from ..notify import kind_label
from ..templating import _unread_count
from .common import page_number, render_page

bp = Blueprint("notifications", __name__, url_prefix="/notifications")
PAGE_SIZE = 50


def local_link(link: str | None) -> str | None:
    """The link if it points inside this site, else None (no open redirects)."""
    if link and link.startswith("/") and not link.startswith(("//", "/\\")):
        return link
    return None


def _own_or_404(notification_id: int) -> Notification:
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != current_user.id:
        abort(404)
    return notification


def _list_context() -> dict:
    mine = sa.select(Notification).where(Notification.user_id == current_user.id)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(mine.subquery()))
    page, pages = page_number(total, PAGE_SIZE)
    notifications = list(db.session.scalars(
        mine.order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    return dict(notifications=notifications, total=total, page=page, pages=pages,
                unread=_unread_count(current_user), kind_label=kind_label, local_link=local_link)


@bp.route("/")
@login_required
def index():
    return render_page("notifications/index.html", "notifications/_list.html", **_list_context())


@bp.post("/<int:notification_id>/read")
@login_required
def read(notification_id: int):
    """Marks one notification read; with `open` set, goes on to its link."""
    notification = _own_or_404(notification_id)
    operations.mark_notifications_read(current_user, [notification.id])
    if htmx:
        return render_template("notifications/_item.html", n=notification, oob_unread=True, kind_label=kind_label,
                               local_link=local_link, unread=_unread_count(current_user))
    if request.form.get("open") and local_link(notification.link):
        return redirect(notification.link)
    return redirect(url_for(".index"))


@bp.post("/read-all")
@login_required
def read_all():
    count = operations.mark_notifications_read(current_user)
    if htmx:
        return render_template("notifications/_list.html", **_list_context())
    flash(f"已将 {count} 条通知标为已读" if count else "没有未读通知", "success")
    return redirect(url_for(".index"))
