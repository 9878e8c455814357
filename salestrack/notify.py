"""Notifications: an in-app row for every event a person should know of."""
from .extensions import db
from .models import Notification


def notify(user, kind: str, message: str, link: str | None = None, record=None) -> None:
    """Adds a notification inside the caller's transaction."""
    if user is None:
        return
    db.session.add(Notification(user_id=user.id, kind=kind, message=message[:500], link=link,
                                record_id=record.id if record is not None else None))
