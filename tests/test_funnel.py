"""The funnel's numbers on small hand-built histories whose right answers are
worked out here: funnel and trend, conversion and days in stage, forecasts,
revenue collection, stale stages, evaluation against targets, lead sources."""
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from salestrack import funnel, operations
from salestrack.extensions import db
from salestrack.models import Project, ProjectEvent, utcnow

H1_2025 = funnel.Period(date(2025, 1, 1), date(2025, 7, 1))
Q1_2025 = funnel.Period(date(2025, 1, 1), date(2025, 4, 1))


def at(day: str) -> datetime:
    """Noon UTC of a day: well inside the same day in Asia/Shanghai."""
    return datetime.fromisoformat(day + "T12:00:00")


def set_history(project: Project, created: str, *steps: str, **fields) -> Project:
    """Rewrites a project's past: created on `created` in 项目立项, then each
    step 'stage@YYYY-MM-DD' in order, with the days spent in each stage."""
    project = db.session.get(Project, project.id)
    project.created_at = at(created)
    for ev in project.events:
        ev.at = project.created_at
    stage, entered = "lead", project.created_at
    for step in steps:
        to, day = step.split("@")
        db.session.add(ProjectEvent(project_id=project.id, kind="stage", from_value=stage, to_value=to,
                                    at=at(day), days_in_stage=(at(day) - entered).days, actor_id=project.owner_id))
        stage, entered = to, at(day)
    project.stage, project.stage_entered_at = stage, entered
    project.probability = {"won": 100, "lost": 0}.get(stage, project.probability)
    if stage == "won":
        project.signed_at = entered.date()
    for key, value in fields.items():
        setattr(project, key, value)
    db.session.commit()
    return project


@pytest.fixture
def world(factory):
    team, manager, rep, rep2 = factory.team_with_people()
    other_team, other_manager, other_rep, _ = factory.team_with_people()
    director = factory.user("director")
    return dict(team=team, manager=manager, rep=rep, rep2=rep2, other_rep=other_rep, director=director,
                other_manager=other_manager)


def everyone(world, period):
    return funnel.scope_for(world["director"], period)


def by_code(rows):
    return {r.code: (r.count, r.amount) for r in rows}


def test_funnel_counts_open_projects_as_at_the_period_end_and_those_signed_in_it(world, factory):
    rep = world["rep"]
    set_history(factory.project(rep, amount=Decimal("100")), "2025-01-10", "contact@2025-02-01", "design@2025-03-01")
    set_history(factory.project(rep, amount=Decimal("50")), "2025-01-05", "contact@2025-01-20", "won@2025-04-15")
    set_history(factory.project(rep, amount=Decimal("30")), "2024-11-01", "lost@2024-12-01")
    set_history(factory.project(rep, amount=Decimal("20")), "2025-02-10")
    set_history(factory.project(rep, amount=Decimal("10")), "2025-03-01", "contact@2025-03-05", "design@2025-08-01")
    set_history(factory.project(rep, amount=Decimal("40")), "2024-06-01", "negotiate@2024-07-01", "lost@2025-05-01")

    rows = by_code(funnel.funnel(everyone(world, H1_2025)))
    assert rows["lead"] == (1, Decimal("20.00"))
    assert rows["contact"] == (1, Decimal("10.00"))  # moved on to 方案设计 only in August
    assert rows["design"] == (1, Decimal("100.00"))
    assert rows["negotiate"] == (0, Decimal("0.00"))  # lost in May
    assert rows["won"] == (1, Decimal("50.00"))
    assert len(rows) == 8

    months = {m.month: {r.code: r.count for r in m.stages} for m in funnel.trend(everyone(world, H1_2025))}
    assert list(months)[0] == date(2024, 7, 1) and list(months)[-1] == date(2025, 6, 1)
    assert months[date(2024, 7, 1)]["negotiate"] == 1
    assert months[date(2024, 11, 1)]["lead"] == 1
    assert months[date(2024, 12, 1)]["lead"] == 0
    jan = months[date(2025, 1, 1)]
    assert (jan["lead"], jan["contact"], jan["negotiate"], jan["won"]) == (1, 1, 1, 0)
    april = months[date(2025, 4, 1)]
    assert [april[c] for c in ("lead", "contact", "design", "negotiate", "won")] == [1, 1, 1, 1, 1]
    assert (months[date(2025, 5, 1)]["negotiate"], months[date(2025, 5, 1)]["won"]) == (0, 0)
    assert months[date(2025, 6, 1)] == {"lead": 1, "contact": 1, "design": 1, "showcase": 0, "confirm": 0,
                                        "evaluate": 0, "negotiate": 0, "won": 0}


def test_funnel_of_the_current_period_matches_the_projects_stages_now(world, factory):
    rep = world["rep"]
    a = factory.project(rep, amount=Decimal("12.5"))
    b = factory.project(rep, amount=Decimal("7.25"))
    operations.change_stage(rep, b, "contact")
    operations.change_stage(rep, b, "won", "客户提前决策")
    rows = by_code(funnel.funnel(everyone(world, funnel.period_for("this_year"))))
    assert rows["lead"] == (1, Decimal("12.50")) and rows["contact"] == (0, Decimal("0.00"))
    assert rows["won"] == (1, Decimal("7.25"))
    assert a.id


@pytest.fixture
def five(world, factory):
    """Five projects created in H1 2025 with known histories, and one older."""
    rep = world["rep"]
    path = ["contact@2025-01-15", "design@2025-01-20", "showcase@2025-02-01", "confirm@2025-02-10",
            "evaluate@2025-02-20", "negotiate@2025-03-01", "won@2025-03-10"]
    a = set_history(factory.project(rep, amount=Decimal("200")), "2025-01-05", *path)
    b = set_history(factory.project(rep, amount=Decimal("80")), "2025-01-01", "contact@2025-01-05", "lost@2025-01-12")
    c = set_history(factory.project(rep, amount=Decimal("100"), probability=20,
                                    expected_sign_date=date(2025, 5, 1)), "2025-02-01")
    d = set_history(factory.project(rep, amount=Decimal("50"), probability=40, expected_sign_date=date(2025, 6, 30)),
                    "2025-02-01", "contact@2025-02-07", "design@2025-02-16")
    e = set_history(factory.project(rep, amount=Decimal("70")), "2025-03-01", "design@2025-03-21", "lost@2025-04-01")
    set_history(factory.project(rep, amount=Decimal("10"), expected_sign_date=date(2025, 9, 1)), "2024-05-01")
    return a, b, c, d, e


def test_conversion_is_reached_next_over_reached_with_skipped_stages_counted_as_passed(world, five):
    rows = {r.code: r for r in funnel.conversion(everyone(world, H1_2025))}
    # reached: a 8, b 2, c 1, d 3, e 3 (skipped 初步接触)
    assert [rows[c].reached for c in ("lead", "contact", "design", "showcase", "won")] == [5, 4, 3, 1, 1]
    assert rows["lead"].rate == pytest.approx(4 / 5)
    assert rows["contact"].rate == pytest.approx(3 / 4)
    assert rows["design"].rate == pytest.approx(1 / 3)
    assert rows["negotiate"].rate == pytest.approx(1.0)
    assert rows["won"].rate is None
    # stays in 项目立项: a 10, b 4, d 6, e 20 days → 10; in 初步接触: a 5, b 7, d 9 → 7
    assert rows["lead"].avg_days == 10.0 and rows["lead"].stays == 4
    assert rows["contact"].avg_days == 7.0
    # in 方案设计: a 12, e 11 (d still there) → 11.5
    assert rows["design"].avg_days == 11.5


def test_conversion_of_an_empty_period_has_no_rates(world, five):
    rows = funnel.conversion(everyone(world, funnel.Period(date(2020, 1, 1), date(2020, 2, 1))))
    assert all(r.reached == 0 and r.rate is None and r.avg_days is None for r in rows)


def test_forecasts_weighted_by_probability_and_by_measured_win_rate(world, five):
    rates = funnel.win_rates(everyone(world, H1_2025))
    # closed: a won (reached 8), b lost (reached 2), e lost (reached 3)
    assert rates["lead"] == pytest.approx(1 / 3) and rates["contact"] == pytest.approx(1 / 3)
    assert rates["design"] == pytest.approx(1 / 2) and rates["showcase"] == pytest.approx(1.0)
    result = funnel.forecast(everyone(world, H1_2025))
    # open and expected to sign in H1: c (项目立项, 100 × 20%) and d (方案设计, 50 × 40%)
    assert (result.count, result.amount) == (2, Decimal("150.00"))
    assert result.weighted == Decimal("40.00")
    assert result.historical == Decimal("58.33")  # 100 × 1/3 + 50 × 1/2
    rows = {r.code: r for r in result.rows}
    assert (rows["design"].count, rows["design"].weighted, rows["design"].historical) == \
        (1, Decimal("20.00"), Decimal("25.00"))
    assert "won" not in rows


def test_collection_forecast_by_month(world, factory):
    rep = world["rep"]
    won = set_history(factory.project(rep, amount=Decimal("100")), "2024-10-01", "won@2024-12-20")
    # its 回款计划: 30 collected on 10 Feb, 70 planned for 28 Feb, not yet in
    operations.add_instalment(rep, won, planned_date=date(2025, 2, 10), planned_amount=Decimal("30"),
                              actual_date=date(2025, 2, 10), actual_amount=Decimal("30"))
    operations.add_instalment(rep, won, planned_date=date(2025, 2, 28), planned_amount=Decimal("70"),
                              kind="implementation")
    factory.project(rep, amount=Decimal("50"), probability=80, expected_sign_date=date(2025, 1, 20))
    set_history(factory.project(rep, amount=Decimal("40"), probability=60, expected_sign_date=date(2025, 3, 5)),
                "2024-12-01")
    factory.project(rep, amount=Decimal("25"), probability=40, expected_sign_date=date(2025, 1, 20))
    set_history(factory.project(rep, amount=Decimal("60"), expected_sign_date=date(2025, 3, 15)), "2024-12-01",
                "lost@2025-01-10")
    set_history(factory.project(rep, amount=Decimal("35"), expected_sign_date=date(2025, 1, 2)), "2024-12-01",
                "postponed@2025-01-10")
    factory.project(rep, amount=Decimal("99"), probability=80, expected_sign_date=date(2025, 4, 1))
    rows = funnel.collection_forecast(everyone(world, Q1_2025))
    as_tuples = [(r.month, r.sure, r.hopeful, r.collected, r.lost, r.postponed) for r in rows]
    d = Decimal
    assert as_tuples == [
        (date(2025, 1, 1), d("0.00"), d("50.00"), d("0.00"), d("0.00"), d("35.00")),
        (date(2025, 2, 1), d("70.00"), d("0.00"), d("30.00"), d("0.00"), d("0.00")),
        (date(2025, 3, 1), d("0.00"), d("40.00"), d("0.00"), d("60.00"), d("0.00")),
        (None, d("70.00"), d("90.00"), d("30.00"), d("60.00"), d("35.00")),
    ]


def test_projects_over_seven_days_in_a_stage_without_a_reason_are_flagged(world, factory):
    rep, now = world["rep"], utcnow()

    def entered(ago, **kw):
        p = factory.project(rep, **kw)
        db.session.get(Project, p.id).stage_entered_at = now - ago
        db.session.commit()
        return p

    flagged = entered(timedelta(days=8))
    entered(timedelta(days=8), stage_stay_reason="等待招标")
    entered(timedelta(days=7, hours=23))
    won = entered(timedelta(days=30))
    db.session.get(Project, won.id).stage = "won"
    db.session.commit()
    total, rows = funnel.stale_stages(everyone(world, H1_2025), now=now)
    assert total == 1 and [r.id for r in rows] == [flagged.id] and rows[0].days == 8


def test_evaluation_against_targets(world, factory):
    rep, rep2, manager, team = world["rep"], world["rep2"], world["manager"], world["team"]
    for month in (1, 2, 3):
        operations.set_target(manager, user=rep, year=2025, month=month, signed_amount="100", new_customers=1)
    operations.set_target(manager, user=rep2, year=2025, month=1, signed_amount="50", new_customers=2)
    operations.set_target(manager, user=rep, year=2025, month=4, signed_amount="999")  # outside Q1
    c1 = factory.customer(rep)
    c2 = factory.customer(rep)
    db.session.get(type(c1), c1.id).created_at = at("2025-01-05")
    db.session.get(type(c2), c2.id).created_at = at("2024-11-01")
    db.session.commit()
    first = set_history(factory.project(rep, c1, amount=Decimal("120"), lead_source="展会及研讨会"), "2025-01-01",
                        "won@2025-01-31")
    operations.add_instalment(rep, first, planned_date=date(2025, 2, 15), planned_amount=Decimal("60"),
                              actual_date=date(2025, 2, 15), actual_amount=Decimal("60"))
    operations.add_instalment(rep, first, planned_date=date(2025, 6, 30), planned_amount=Decimal("60"))
    set_history(factory.project(rep, c1, amount=Decimal("90"), lead_source="客户介绍"), "2024-12-02", "won@2025-03-02")
    set_history(factory.project(rep, c2, amount=Decimal("30"), lead_source="展会及研讨会"), "2025-02-01",
                "won@2025-02-11")
    set_history(factory.project(rep, c2, amount=Decimal("15")), "2025-02-15")
    set_history(factory.project(rep, c2, amount=Decimal("15")), "2025-03-01", "lost@2025-03-20")
    set_history(factory.project(world["other_rep"], amount=Decimal("500")), "2025-01-01", "won@2025-01-02")

    reps, teams = funnel.evaluation(funnel.scope_for(manager, Q1_2025), manager)
    rows = {r.id: r for r in reps}
    assert set(rows) == {rep.id, rep2.id, manager.id}  # not the other team's rep
    r = rows[rep.id]
    assert (r.target_amount, r.signed_amount, r.achievement) == (Decimal("300.00"), Decimal("240.00"), 0.8)
    assert (r.target_customers, r.new_customers) == (3, 1)
    assert (r.leads, r.leads_won, r.lead_conversion) == (4, 2, 0.5)
    assert r.avg_cycle_days == pytest.approx(43.3)  # (30 + 90 + 10) / 3
    assert r.collection_rate == pytest.approx(0.25)  # 60 / 240
    assert r.avg_deal == Decimal("120.00")  # 240 over 2 customers
    r2 = rows[rep2.id]
    assert (r2.target_amount, r2.signed_amount, r2.achievement, r2.lead_conversion) == \
        (Decimal("50.00"), Decimal("0.00"), 0.0, None)
    [t] = teams
    assert t.id == team.id and t.target_amount == Decimal("350.00") and t.signed_amount == Decimal("240.00")
    assert t.target_customers == 5

    operations.set_target(manager, team=team, year=2025, month=1, signed_amount="400", new_customers=4)
    _, [t] = funnel.evaluation(funnel.scope_for(manager, Q1_2025), manager)
    assert t.target_amount == Decimal("600.00")  # 400 (team's own for Jan) + 100 + 100 (reps' Feb, Mar)

    shares = {s.source: (s.customers, s.share) for s in funnel.lead_sources(funnel.scope_for(manager, Q1_2025))}
    assert shares["展会及研讨会"] == (2, pytest.approx(2 / 3))
    assert shares["客户介绍"] == (1, pytest.approx(1 / 3))
    assert shares["互联网"] == (0, 0.0)


def test_set_target_replaces_and_is_audited(world):
    from salestrack.models import AuditEvent, Target
    manager, rep = world["manager"], world["rep"]
    operations.set_target(manager, user=rep, year=2026, month=3, signed_amount="80", new_customers=2)
    operations.set_target(manager, user=rep, year=2026, month=3, signed_amount="95.5", new_customers=3)
    [target] = db.session.scalars(sa.select(Target))
    assert (target.signed_amount, target.new_customers, target.set_by_id) == (Decimal("95.50"), 3, manager.id)
    events = list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "target_set")))
    assert len(events) == 2 and events[1].detail["before"] == ["80.00", 2]
    with pytest.raises(operations.OperationError):
        operations.set_target(manager, user=rep, year=2026, month=3, signed_amount="-1")


@pytest.mark.parametrize("role,expected", [("rep", 1), ("manager", 2), ("director", 3)])
def test_each_role_counts_only_what_it_may_see(world, factory, role, expected):
    factory.project(world["rep"])
    factory.project(world["rep2"])
    factory.project(world["other_rep"])
    user = {"rep": world["rep"], "manager": world["manager"], "director": world["director"]}[role]
    rows = by_code(funnel.funnel(funnel.scope_for(user, funnel.period_for("this_year"))))
    assert rows["lead"][0] == expected


def test_team_and_rep_filters_narrow_but_never_widen(world, factory):
    factory.project(world["rep"])
    factory.project(world["rep2"])
    factory.project(world["other_rep"])
    period = funnel.period_for("this_year")
    director, manager = world["director"], world["manager"]
    assert by_code(funnel.funnel(funnel.scope_for(director, period, team_id=world["team"].id)))["lead"][0] == 2
    assert by_code(funnel.funnel(funnel.scope_for(director, period, owner_id=world["rep2"].id)))["lead"][0] == 1
    # a manager asking for another team's rep sees nothing of it
    assert by_code(funnel.funnel(funnel.scope_for(manager, period, owner_id=world["other_rep"].id)))["lead"][0] == 0


def test_named_periods():
    today = date(2026, 5, 17)
    p = funnel.period_for
    assert (p("this_month", today).start, p("this_month", today).end) == (date(2026, 5, 1), date(2026, 6, 1))
    assert (p("last_month", today).start, p("last_month", today).end) == (date(2026, 4, 1), date(2026, 5, 1))
    assert (p("this_quarter", today).start, p("this_quarter", today).end) == (date(2026, 4, 1), date(2026, 7, 1))
    assert (p("last_quarter", today).start, p("last_quarter", today).end) == (date(2026, 1, 1), date(2026, 4, 1))
    assert (p("last_year", today).start, p("last_year", today).end) == (date(2025, 1, 1), date(2026, 1, 1))
    assert (p("last_12", today).start, p("last_12", today).end) == (date(2025, 6, 1), date(2026, 6, 1))
    assert p("nonsense", today) == p("this_year", today)
