"""Follow-up discipline (sales-process.md): when each open project's next
follow-up sheet is due, judged from its customer class and the last sheet
filed against it, and whether the rep has passed the limit after which the
project may be reassigned."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app

from .models import Project, utcnow
from .process import OPEN_STAGES


@dataclass
class FollowUp:
    project: Project
    last: datetime
    due: datetime
    overdue_days: int
    past_loss_limit: bool


def follow_up(project: Project, now: datetime | None = None) -> FollowUp:
    now = now or utcnow()
    intervals = current_app.config["FOLLOWUP_INTERVAL_DAYS"]
    limits = current_app.config["FOLLOWUP_LOSS_DAYS"]
    last = project.last_followup_at or project.created_at
    due = last + timedelta(days=intervals.get(project.customer_class, 30))
    limit = limits.get(project.customer_class)
    return FollowUp(project, last, due, max(0, (now - due).days),
                    limit is not None and (now - last).days > limit)


def due_list(projects, within_days: int = 7, now: datetime | None = None) -> list[FollowUp]:
    """Open projects whose follow-up is due within `within_days` or overdue,
    most urgent first."""
    now = now or utcnow()
    items = [follow_up(p, now) for p in projects if p.stage in OPEN_STAGES]
    return sorted((f for f in items if f.due <= now + timedelta(days=within_days)), key=lambda f: f.due)
