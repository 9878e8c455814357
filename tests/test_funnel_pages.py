"""The funnel page per role (rep himself, manager his team, director all),
its htmx fragment, the targets page, and who may open what."""
import pytest
import sqlalchemy as sa

from salestrack import operations
from salestrack.extensions import db
from salestrack.models import Target


@pytest.fixture
def world(factory):
    team, manager, rep, rep2 = factory.team_with_people()
    other_team, other_manager, other_rep, _ = factory.team_with_people()
    director = factory.user("director")
    projects = {
        "rep": factory.project(rep, name="甲方数控车间项目", amount=100),
        "rep2": factory.project(rep2, name="乙方仓储项目", amount=50),
        "other": factory.project(other_rep, name="丙方机房项目", amount=25),
    }
    won = factory.project(rep, name="丁方已签项目", amount=80, lead_source="展会及研讨会")
    operations.change_stage(rep, won, "won", "框架协议直接签约")
    return dict(team=team, manager=manager, rep=rep, rep2=rep2, other_rep=other_rep, director=director,
                other_team=other_team, projects=projects)


def _lead_row(page):
    """The 项目立项 row of the funnel table: (count, amount)."""
    row = page.split('stage=lead', 1)[1].split("</tr>", 1)[0]
    cells = [c.split("<", 1)[0] for c in row.split('<td class="num">')[1:]]
    return cells[0], cells[1]


@pytest.mark.parametrize("role,count,amount", [("rep", "1", "100.00"), ("manager", "2", "150.00"),
                                               ("director", "3", "175.00")])
def test_each_role_sees_its_own_funnel(client, login, world, role, count, amount):
    login(world[role])
    response = client.get("/funnel/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<svg" in page and "销售漏斗图" in page and "月度趋势" in page
    assert _lead_row(page) == (count, amount)
    assert "销售收入预测表" in page and "业绩考核" in page and "签约客户来源" in page


def test_filters_answer_htmx_with_the_fragment(client, login, world):
    login(world["director"])
    fragment = client.get(f"/funnel/?period=last_12&team={world['team'].id}", headers={"HX-Request": "true"})
    text = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in text and "<svg" in text
    assert _lead_row(text) == ("2", "150.00")
    assert "HX-Request" in fragment.headers["Vary"]
    rep_only = client.get(f"/funnel/?owner={world['rep2'].id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert _lead_row(rep_only) == ("1", "50.00")


def test_a_manager_cannot_widen_his_view_with_filters(client, login, world):
    login(world["manager"])
    page = client.get(f"/funnel/?team={world['other_team'].id}").get_data(as_text=True)
    assert _lead_row(page) == ("0", "0.00")


@pytest.mark.parametrize("args", ["period=bogus", "team=abc&owner=-1", "period=%00", "owner=99999"])
def test_odd_filters_never_break_the_page(client, login, world, args):
    login(world["director"])
    assert client.get("/funnel/?" + args).status_code == 200


@pytest.mark.parametrize("role,status", [("hr", 403), ("implementation", 403), ("admin", 403), ("clerk", 200),
                                         ("auditor", 200), ("gm", 200)])
def test_who_may_open_the_funnel(client, login, factory, role, status):
    login(factory.user(role))
    assert client.get("/funnel/").status_code == status


def test_navigation_shows_funnel_and_follow_ups(client, login, world):
    login(world["rep"])
    page = client.get("/").get_data(as_text=True)
    assert 'href="/funnel/"' in page and 'href="/followups/"' in page


def test_manager_sets_targets_for_his_reps_and_team_only(client, login, world):
    login(world["manager"])
    page = client.get("/funnel/targets?month=2026-12").get_data(as_text=True)
    assert world["rep"].name in page and world["other_rep"].name not in page
    prefix = f"user{world['rep'].id}"
    response = client.post("/funnel/targets", data={
        "subject": prefix, "month": "2026-12", f"{prefix}-signed_amount": "120.5", f"{prefix}-new_customers": "3"},
        headers={"HX-Request": "true"})
    assert response.status_code == 200 and "已保存" in response.get_data(as_text=True)
    target = db.session.scalar(sa.select(Target))
    assert (target.user_id, target.year, target.month, str(target.signed_amount), target.new_customers) == \
        (world["rep"].id, 2026, 12, "120.50", 3)
    bad = client.post("/funnel/targets", data={
        "subject": prefix, "month": "2026-12", f"{prefix}-signed_amount": "-5", f"{prefix}-new_customers": "x"})
    assert bad.status_code == 400 and "请输入 0 到 10,000,000 之间的金额" in bad.get_data(as_text=True)
    other = f"user{world['other_rep'].id}"
    assert client.post("/funnel/targets", data={
        "subject": other, "month": "2026-12", f"{other}-signed_amount": "1", f"{other}-new_customers": "1"}
    ).status_code == 403


def test_reps_cannot_set_targets(client, login, world):
    login(world["rep"])
    assert client.get("/funnel/targets").status_code == 403


@pytest.mark.parametrize("username,open_projects", [("rep", 4), ("manager", 7), ("director", 10)])
def test_demo_data_fills_the_pages(app, client, username, open_projects):
    assert app.test_cli_runner().invoke(args=["demo"]).exit_code == 0
    client.post("/login", data={"username": username, "password": "demo"})
    page = client.get("/funnel/").get_data(as_text=True)
    assert page.count("<svg") >= 4
    assert f'<th>进行中合计</th><th class="num">{open_projects}</th>' in page
    assert client.get("/followups/").status_code == 200


def test_funnel_chart_names_every_stage_and_draws_no_block_for_an_empty_one(app):
    """A stage with no project was drawn as a small block with its name
    spilling over it; now each name stands left of its bar, a stage with 0
    gets a dashed stub and its count, and bars keep their proportion."""
    import lxml.html
    from types import SimpleNamespace
    stages = [SimpleNamespace(label=label, count=count) for label, count in
              (("初步接触", 40), ("需求确认", 0), ("方案设计", 10), ("业绩展示", 1))]
    with app.test_request_context():
        macro = app.jinja_env.get_template("funnel/_charts.html").module.funnel_chart
        svg = lxml.html.fromstring(str(macro(stages)))
    texts = [(t.get("x"), t.text_content()) for t in svg.xpath("//text")]
    for s in stages:
        assert ("88", s.label) in texts  # the name, in its own column left of the bars
    bars = {r.xpath("string(title)").split("：")[0]: float(r.get("width")) for r in svg.xpath("//rect")}
    assert set(bars) == {"初步接触", "方案设计", "业绩展示"}  # none for the empty stage
    assert bars["初步接触"] > bars["方案设计"] > bars["业绩展示"]
    assert ("244", "0") in texts and len(svg.xpath("//line[@stroke-dasharray]")) == 1
    for x, text in texts:
        assert float(x) <= 356, f"{text} starts at {x}, outside the 360-wide chart"
