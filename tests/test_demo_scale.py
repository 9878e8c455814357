"""`flask demo --scale N`: generated projects whose histories agree with their
current stages, so the funnel at any past moment is right."""
from datetime import date

import sqlalchemy as sa

from salestrack import funnel
from salestrack.extensions import db
from salestrack.models import Project, ProjectEvent, Record, User
from salestrack.process import OPEN_STAGES


def test_scale_generates_consistent_histories_and_sheets(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "--scale", "300", "--sheets", "1000"])
    assert result.exit_code == 0, result.output
    generated = Project.project_no.like("XM-G-%")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Project).where(generated)) == 300
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Record).where(
        Record.number.like("DH-G-%"))) == 1000
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProjectEvent).where(
        ProjectEvent.kind == "stage", ProjectEvent.from_value.is_(None))) == 0
    # each project's last recorded stage is its current stage
    events = db.session.execute(sa.select(ProjectEvent.project_id, ProjectEvent.to_value, ProjectEvent.at)
                                .order_by(ProjectEvent.project_id, ProjectEvent.at, ProjectEvent.id)).all()
    last = {pid: to for pid, to, _ in events}
    stages = dict(db.session.execute(sa.select(Project.id, Project.stage)).all())
    assert last == stages
    # the trend agrees with replaying every history up to each month's end
    director = db.session.scalar(sa.select(User).where(User.username == "director"))
    scope = funnel.scope_for(director, funnel.period_for("last_12"))
    for month in funnel.trend(scope):
        moment = funnel.utc_midnight(funnel.add_months(month.month, 1))
        state = {}
        for pid, to, at in events:
            if at < moment:
                state[pid] = to
        expected = {code: sum(1 for s in state.values() if s == code) for code in OPEN_STAGES}
        assert {r.code: r.count for r in month.stages if r.code != "won"} == expected, month.month
    assert month.month == date(funnel.local_today().year, funnel.local_today().month, 1)
    second = runner.invoke(args=["demo", "--scale", "10"])
    assert second.exit_code != 0 and "exist already" in second.output


def test_generated_nodes_and_report_totals_agree_with_a_recount(app):
    """On generated (random) data: every stage-implied tracking node is dated
    by the project's first entry into that stage, and the reports' block
    totals equal a recount of the projects in Python."""
    from decimal import Decimal

    from salestrack import clock, reports
    from salestrack.models import ProjectNode
    from salestrack.process import CATEGORY_OF_STAGE, STAGE_NODES
    assert app.test_cli_runner().invoke(args=["demo", "--scale", "300", "--sheets", "300"]).exit_code == 0
    first = {}
    for pid, to, at in db.session.execute(sa.select(ProjectEvent.project_id, ProjectEvent.to_value, ProjectEvent.at)
                                          .order_by(ProjectEvent.at, ProjectEvent.id)):
        if to in STAGE_NODES:
            first.setdefault((pid, STAGE_NODES[to]), clock.local_date(at))
    nodes = {(pid, node): day for pid, node, day in db.session.execute(
        sa.select(ProjectNode.project_id, ProjectNode.node, ProjectNode.reached_on))}
    generated = set(db.session.scalars(sa.select(Project.id).where(Project.project_no.like("XM-G-%"))))
    assert {k: v for k, v in nodes.items() if k[0] in generated} == {k: v for k, v in first.items()
                                                                      if k[0] in generated}
    director = db.session.scalar(sa.select(User).where(User.username == "director"))
    scope = funnel.scope_for(director, funnel.period_for("last_12"))
    projects = db.session.execute(sa.select(Project.stage, Project.amount, Project.signed_at)).all()
    blocks = {b.code: b for b in reports.funnel_by_category(scope).tables[0].blocks}
    for code in ("intent", "solution", "negotiation"):
        mine = [a for s, a, _ in projects if CATEGORY_OF_STAGE.get(s) == code]
        assert (blocks[code].count, blocks[code].totals["amount"]) == (
            len(mine), sum((a or Decimal(0) for a in mine), Decimal("0.00")))
    signed = [a for s, a, day in projects
              if s == "won" and scope.period.start <= day < scope.period.end]
    assert blocks["signed"].count == len(signed)
    assert blocks["signed"].totals["amount"] == sum(signed, Decimal("0.00"))
