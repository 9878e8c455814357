"""Who sees what, checked on every route of the URL map: anonymous users are
sent to the login page; a rep never reaches another team's objects, by page,
list or id; read-only roles cannot write. New routes are covered as soon as
they are registered; a route with an id this file cannot fill fails loudly."""
import tempfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from salestrack import create_app, operations
from salestrack.database import write_transaction
from salestrack.formkit import registry
from salestrack.notify import notify
from tests.conftest import make_config

_app = create_app(make_config("sqlite://", Path(tempfile.gettempdir())))
# The calendar feed is reached by its secret link without signing in; tests/test_agenda.py
# shows a wrong, replaced or revoked link answers 404.
PUBLIC = {"auth.login", "static", "main.favicon", "agenda.feed"}
RULES = sorted((r for r in _app.url_map.iter_rules() if r.endpoint not in PUBLIC), key=lambda r: r.rule)
GET_RULES = [r for r in RULES if "GET" in r.methods]
POST_RULES = [r for r in RULES if r.methods & {"POST", "PUT", "DELETE"}]
ROLES = ("rep", "manager", "director", "gm", "hr", "implementation", "clerk", "auditor", "admin")


def _url(rule, ids):
    missing = [a for a in rule.arguments if a not in ids]
    assert not missing, f"{rule.rule}: tests/test_access.py cannot fill {missing}; add a maker for it"
    values = {a: ids[a] for a in rule.arguments}
    if "customer_id" in values and "sheet" in values:  # a sheet filed on the customer is a customer-level one
        values["sheet"] = next(s.key for s in registry.all_specs() if s.filed_on == "customer")
    return _app.url_map.bind("localhost").build(rule.endpoint, values)


@pytest.fixture
def world(factory, app):
    """Two teams, each with a manager, two reps, a customer and a project."""
    teams = {}
    for key in ("own", "other"):
        team, manager, rep, rep2 = factory.team_with_people()
        customer = factory.customer(rep)
        project = factory.project(rep, customer)
        attachment = operations.store_attachment(rep, "attachments", "报价单.pdf", b"%PDF-1.4 test", "application/pdf")
        record = operations.create_record(rep, project, registry.get("resource_request"),
                                          {"support_needed": "需要技术支持", "attachments": [attachment.id]},
                                          attachment_ids=[attachment.id])
        delegation = operations.delegate(manager, rep2, date.today(), date.today() + timedelta(days=3))
        instalment = operations.add_instalment(rep, project, planned_date=date(2027, 3, 31), planned_amount=Decimal("10"))
        person, _ = operations.add_person(rep, customer, name="陈建国", title="采购部长")
        with write_transaction():
            notification = notify(rep, "submitted", f"{record.number} 已提交", link=f"/records/{record.id}",
                                  record=record)
        teams[key] = dict(team=team, manager=manager, rep=rep, rep2=rep2, customer=customer, project=project,
                          record=record, attachment=attachment, delegation=delegation, notification=notification,
                            instalment=instalment, person=person)
    people = {role: factory.user(role) for role in ROLES if role not in ("rep", "manager")}
    people["rep"] = teams["own"]["rep"]
    people["manager"] = teams["own"]["manager"]
    return teams, people


def _ids(side):
    return {"project_id": side["project"].id, "customer_id": side["customer"].id, "user_id": side["rep"].id,
            "team_id": side["team"].id, "record_id": side["record"].id, "attachment_id": side["attachment"].id,
            "delegation_id": side["delegation"].id, "notification_id": side["notification"].id,
            "number": side["record"].number, "instalment_id": side["instalment"].id,
            "person_id": side["person"].id, "sheet": "phone_log", "table": "calls", "key": "funnel_by_category"}


# Arguments that name a definition or a setting, not somebody's object.
NOT_OBJECTS = {"sheet", "table", "key"}


@pytest.mark.parametrize("rule", GET_RULES, ids=lambda r: r.rule)
def test_anonymous_users_are_sent_to_login(rule, client, world):
    teams, _ = world
    response = client.get(_url(rule, _ids(teams["own"])))
    response.close()
    assert response.status_code in (302, 401), rule.rule
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("rule", POST_RULES, ids=lambda r: r.rule)
def test_anonymous_users_cannot_change_anything(rule, client, world):
    teams, _ = world
    url = _url(rule, _ids(teams["own"]))
    assert client.post(url, data={}).status_code in (302, 401, 405), rule.rule


@pytest.mark.parametrize("role", ("rep", "manager", "admin"))
@pytest.mark.parametrize("rule", POST_RULES, ids=lambda r: r.rule)
def test_a_post_without_the_pages_csrf_token_is_refused_and_changes_nothing(rule, role, client, world, login):
    """CSRF protection is on in tests as shipped: a signed-in user's POST that
    does not carry the token of a page served to him acts on nothing."""
    from salestrack.extensions import db
    from salestrack.models import AuditEvent
    import sqlalchemy as sa
    teams, people = world
    login(people[role])
    count = sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action != "login")
    before = db.session.scalar(count)
    response = client.post(_url(rule, _ids(teams["own"])), data={"csrf_token": "", "decision": "approved",
                                                                  "name": "伪造", "status": "finished"})
    assert response.status_code in (302, 400, 403, 404, 409), rule.rule
    db.session.rollback()
    assert db.session.scalar(count) == before, f"{rule.rule} acted on a POST without a CSRF token"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("rule", [r for r in GET_RULES if r.arguments - NOT_OBJECTS], ids=lambda r: r.rule)
def test_no_role_reaches_another_teams_objects_unless_it_sees_all(rule, role, client, world, login):
    teams, people = world
    login(people[role])
    response = client.get(_url(rule, _ids(teams["other"])))
    response.close()
    if role in ("director", "gm", "clerk", "auditor") and "admin" not in rule.endpoint:
        assert response.status_code in (200, 403), rule.rule
    elif role == "admin" and rule.endpoint.startswith("admin."):
        assert response.status_code == 200
    else:
        assert response.status_code in (403, 404), f"{role} reached {rule.rule}"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("rule", [r for r in GET_RULES if not r.arguments - NOT_OBJECTS], ids=lambda r: r.rule)
def test_every_page_answers_every_role_without_error(rule, role, client, world, login):
    teams, people = world
    login(people[role])
    response = client.get(_url(rule, _ids(teams["own"])))
    response.close()
    assert response.status_code in (200, 302, 403), rule.rule


@pytest.mark.parametrize("role", ROLES)
def test_lists_and_search_show_only_visible_projects(role, client, world, login):
    teams, people = world
    login(people[role])
    other = teams["other"]["project"]
    for url in ("/projects/", f"/projects/?q={other.name}", "/", "/customers/",
                f"/customers/?q={teams['other']['customer'].name}"):
        text = client.get(url).get_data(as_text=True)
        leaked = f'href="/projects/{other.id}"' in text or \
            f'href="/customers/{teams["other"]["customer"].id}"' in text
        assert leaked == (role in ("director", "gm", "clerk", "auditor")), (role, url)


def test_rep_sees_and_edits_own_project(client, world, login):
    teams, _ = world
    own = teams["own"]
    login(own["rep"])
    assert client.get(f"/projects/{own['project'].id}").status_code == 200
    assert client.get(f"/projects/{own['project'].id}/edit").status_code == 200
    # but not a teammate's
    client.post("/logout")
    login(own["rep2"])
    assert client.get(f"/projects/{own['project'].id}").status_code == 404


def test_manager_sees_and_edits_team_projects(client, world, login):
    teams, _ = world
    login(teams["own"]["manager"])
    assert client.get(f"/projects/{teams['own']['project'].id}/edit").status_code == 200
    assert client.get(f"/projects/{teams['other']['project'].id}").status_code == 404


@pytest.mark.parametrize("role", ("clerk", "auditor"))
def test_read_only_roles_cannot_write(role, client, world, login):
    teams, people = world
    login(people[role])
    project = teams["own"]["project"]
    assert client.get(f"/projects/{project.id}").status_code == 200
    assert client.get(f"/projects/{project.id}/edit").status_code == 403
    assert client.post(f"/projects/{project.id}/stage", data={"stage": "contact"}).status_code == 403
    assert client.post("/projects/new", data={"name": "x"}).status_code == 403
    assert client.post("/customers/new", data={"name": "x"}).status_code == 403


def test_ids_of_invisible_objects_cannot_be_smuggled_into_a_form(client, world, login):
    teams, _ = world
    login(teams["own"]["rep"])
    response = client.post("/projects/new", data={"name": "偷梁换柱", "customer_id": teams["other"]["customer"].id,
                                                  "probability": 20, "customer_class": "C"})
    assert response.status_code == 400
    assert 'id="customer_id-error"' in response.get_data(as_text=True)
