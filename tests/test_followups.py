"""Follow-up discipline: due dates per customer class from the last sheet,
the due and overdue list per rep and manager, loss limits, and the
manager's one-step reassignment."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from salestrack import access, followup
from salestrack.extensions import db
from salestrack.models import AuditEvent, Project, ProjectEvent, utcnow


@pytest.fixture
def world(factory):
    team, manager, rep, rep2 = factory.team_with_people()
    _, _, other_rep, _ = factory.team_with_people()
    return dict(team=team, manager=manager, rep=rep, rep2=rep2, other_rep=other_rep,
                director=factory.user("director"))


def make(factory, owner, klass, last_ago=None, created_ago=None, stage=None, now=None):
    """A project of class `klass` last followed up `last_ago` before `now`
    (None: never) and created `created_ago` before it."""
    p = factory.project(owner, customer_class=klass)
    p = db.session.get(Project, p.id)
    p.last_followup_at = now - last_ago if last_ago is not None else None
    if created_ago is not None:
        p.created_at = now - created_ago
    if stage:
        p.stage = stage
    db.session.commit()
    return p


@pytest.fixture
def sample(world, factory):
    now = utcnow()
    rep = world["rep"]
    d = timedelta(days=1)
    projects = dict(
        a8=make(factory, rep, "A", 8 * d, now=now),  # due 1 day ago
        b10=make(factory, rep, "B", 10 * d, now=now),  # due in 4 days
        c10=make(factory, rep, "C", 10 * d, now=now),  # due in 20 days: not listed
        a31=make(factory, rep, "A", 31 * d, now=now),  # due 24 days ago, past the 30-day limit
        a30=make(factory, rep, "A", 30 * d + timedelta(hours=1), now=now),  # 30 whole days: not past it
        d100=make(factory, rep, "D", 100 * d, now=now),  # due 9 days ago, D is never lost
        b_never=make(factory, rep, "B", None, 20 * d, now=now),  # never followed up: from creation, due 6 days ago
        won=make(factory, rep, "A", 60 * d, stage="won", now=now),  # closed: never listed
        c95=make(factory, world["rep2"], "C", 95 * d, now=now),  # rep2's, past the 3-month limit
    )
    return now, projects


def test_due_list_per_class_in_due_order(world, sample):
    now, p = sample
    rows = followup.due_list([access.project_scope(world["rep"])], now=now)
    assert [r.project_id for r in rows] == [p[k].id for k in ("a31", "a30", "d100", "b_never", "a8", "b10")]
    by_id = {r.project_id: r for r in rows}
    assert by_id[p["a8"].id].due == p["a8"].last_followup_at + timedelta(days=7)
    assert by_id[p["a8"].id].overdue_days == 1
    assert by_id[p["b10"].id].overdue_days == 0
    assert by_id[p["b_never"].id].due == p["b_never"].created_at + timedelta(days=14)
    assert by_id[p["b_never"].id].overdue_days == 6
    assert by_id[p["d100"].id].overdue_days == 9 and not by_id[p["d100"].id].past_loss_limit
    assert by_id[p["a31"].id].past_loss_limit and not by_id[p["a30"].id].past_loss_limit


def test_intervals_and_limits_are_settings(app, world, sample):
    now, p = sample
    app.config["FOLLOWUP_INTERVAL_DAYS"] = {"A": 7, "B": 14, "C": 5, "D": 91}
    app.config["FOLLOWUP_LOSS_DAYS"] = {"A": 40, "B": 60, "C": 91, "D": None}
    rows = followup.due_list([access.project_scope(world["rep"])], within_days=0, now=now)
    assert p["c10"].id in {r.project_id for r in rows}  # 10 days > 5
    assert p["b10"].id not in {r.project_id for r in rows}  # not yet due, window 0
    lost = followup.past_loss_limit([access.project_scope(world["rep"])], now=now)
    assert [r.project_id for r in lost] == []  # A's limit is now 40 days


def test_loss_limits_flag_what_the_manager_may_reassign(world, sample):
    now, p = sample
    lost = followup.past_loss_limit([access.project_scope(world["manager"])], now=now)
    assert [r.project_id for r in lost] == [p["c95"].id, p["a31"].id]  # due 65 and 24 days ago
    assert followup.past_loss_limit([access.project_scope(world["other_rep"])], now=now) == []


def test_counts_by_owner(world, sample):
    now, _ = sample
    counts = {c.owner_id: (c.due, c.overdue, c.past_limit)
              for c in followup.counts_by_owner([access.project_scope(world["manager"])], now=now)}
    assert counts == {world["rep"].id: (6, 5, 1), world["rep2"].id: (1, 1, 1)}


def _login_as(login, client, user):
    client.post("/logout")
    login(user)


@pytest.mark.parametrize("role,sees,hides", [
    ("rep", ["a8", "a31"], ["c95"]),
    ("manager", ["a8", "c95"], []),
    ("director", ["a8", "c95"], []),
])
def test_followups_page_shows_each_role_its_own(client, login, world, sample, role, sees, hides):
    _, p = sample
    login(world[role])
    page = client.get("/followups/").get_data(as_text=True)
    for key in sees:
        assert p[key].name in page, key
    for key in hides:
        assert p[key].name not in page, key
    assert (f"/followups/{p['a31'].id}/reassign" in page) == (role != "rep")


def test_manager_reassigns_a_project_past_its_limit_in_one_step(client, login, world, sample):
    _, p = sample
    login(world["manager"])
    response = client.post(f"/followups/{p['a31'].id}/reassign",
                           data={f"p{p['a31'].id}-owner_id": world["rep2"].id,
                                 f"p{p['a31'].id}-reason": "超过一个月未跟进"})
    assert response.status_code == 302
    project = db.session.get(Project, p["a31"].id)
    assert project.owner_id == world["rep2"].id
    event = db.session.scalar(sa.select(ProjectEvent).where(ProjectEvent.kind == "reassigned"))
    assert (event.project_id, event.reason) == (project.id, "超过一个月未跟进")
    audit = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "project_reassign"))
    assert audit.target_id == project.id and audit.actor_id == world["manager"].id


def test_reassignment_is_refused_to_reps_and_across_teams(client, login, world, sample, factory):
    _, p = sample
    login(world["rep"])
    response = client.post(f"/followups/{p['a31'].id}/reassign", data={f"p{p['a31'].id}-owner_id": world["rep2"].id})
    assert response.status_code == 403
    _login_as(login, client, world["manager"])
    response = client.post(f"/followups/{p['a31'].id}/reassign",
                           data={f"p{p['a31'].id}-owner_id": world["other_rep"].id})
    assert response.status_code == 400
    assert db.session.get(Project, p["a31"].id).owner_id == world["rep"].id
    stranger = make(factory, world["other_rep"], "A", timedelta(days=40), now=utcnow())
    assert client.post(f"/followups/{stranger.id}/reassign",
                       data={f"p{stranger.id}-owner_id": world["rep2"].id}).status_code == 404


def test_home_page_lists_due_follow_ups(client, login, world, sample):
    _, p = sample
    login(world["rep"])
    page = client.get("/").get_data(as_text=True)
    due = page.split("<h2>待跟进", 1)[1].split("</section>", 1)[0]
    assert p["a8"].name in due and "逾期 1 天" in due and p["c10"].name not in due


def test_reassigning_to_the_current_owner_is_refused_and_the_choice_is_kept(client, login, world, sample):
    """Finding 4 (issue 10): the 转交 form must not fall back to the current
    owner; if it is posted anyway the server refuses it, next to the field,
    and what the manager typed stays."""
    _, p = sample
    login(world["manager"])
    page = client.get("/followups/").get_data(as_text=True)
    row = page.split(f'id="limit-{p["a31"].id}"', 1)[1].split("</tr>", 1)[0]
    assert "— 请选择 —" in row and f'value="{world["rep"].id}"' not in row  # the owner is not offered
    response = client.post(f"/followups/{p['a31'].id}/reassign",
                           data={f"p{p['a31'].id}-owner_id": world["rep"].id,
                                 f"p{p['a31'].id}-reason": "我写的原因"})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert f"该项目已由 {world['rep'].name} 负责，请选择另一位业务员" in text
    assert 'value="我写的原因"' in text
    assert not db.session.scalars(sa.select(ProjectEvent).where(ProjectEvent.kind == "reassigned")).all()
    response = client.post(f"/followups/{p['a31'].id}/reassign", data={f"p{p['a31'].id}-owner_id": ""})
    assert response.status_code == 400 and "请选择要转交的业务员" in response.get_data(as_text=True)
