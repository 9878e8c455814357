"""No input gets a 500: every route that accepts a POST, signed in as a user
who may use it, receives arbitrary values for the input names its page
offers plus names it does not expect. Routes are taken from the URL map, so
new ones are covered as they appear."""
import re
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from salestrack import operations
from salestrack.database import write_transaction
from salestrack.formkit import registry
from salestrack.notify import notify
from tests.test_access import RULES, _url

POST_RULES = [r for r in RULES if "POST" in r.methods]
COMMON_NAMES = ["decision", "comment", "slot", "stage", "reason", "owner_id", "status", "deputy", "starts_on",
                "ends_on", "password", "pw-password", "name", "version", "action", "q", "next", "manager_id",
                "customer_id", "amount", "probability", "signer_review", "calls-0-time", "calls-99999-reached", "open"]
text = st.one_of(st.text(max_size=60), st.sampled_from(["", "0", "-1", "1e309", "2026-02-30", "null", "99999999999",
                                                         "\u202e", "<script>", "'; DROP TABLE users;--"]))


@pytest.fixture
def setup(factory, app):
    team, manager, rep, rep2 = factory.team_with_people()
    admin = factory.user("admin")
    project = factory.project(rep, factory.customer(rep))
    spec = registry.get("phone_log")
    record = operations.create_record(rep, project, spec, {"date": "2026-11-20", "calls": [
        {"reached": "顾总", "content": "约技术交流"}]})
    attachment = operations.store_attachment(rep, "attachments", "a.pdf", b"%PDF-1.4", "application/pdf")
    delegation = operations.delegate(manager, rep2, date.today(), date.today() + timedelta(days=2))
    with write_transaction():
        notification = notify(rep, "approved", "已批准", link=f"/records/{record.id}", record=record)
    instalment = operations.add_instalment(rep, project, planned_date=date(2027, 3, 31), planned_amount=10)
    person, _ = operations.add_person(rep, project.customer, name="陈建国")
    ids = {"person_id": person.id, "instalment_id": instalment.id, "project_id": project.id,
           "customer_id": project.customer_id, "user_id": rep2.id, "team_id": team.id,
           "record_id": record.id, "attachment_id": attachment.id, "delegation_id": delegation.id,
           "notification_id": notification.id,
           "sheet": "phone_log", "table": "calls"}
    return {"rep": rep, "manager": manager, "admin": admin, "ids": ids}


def _names_on_page(client, url) -> list[str]:
    response = client.get(url)
    response.close()
    if response.status_code != 200:
        return []
    return sorted(set(re.findall(r'name="([^"]+)"', response.get_data(as_text=True))) - {"csrf_token"})


@pytest.mark.parametrize("rule", POST_RULES, ids=lambda r: r.rule)
def test_arbitrary_posts_never_cause_a_server_error(rule, client, setup, login):
    who = "admin" if rule.endpoint.startswith(("admin.", "audit.")) else ("manager" if "sign" in rule.endpoint or "person" in rule.endpoint else "rep")
    login(setup[who])
    url = _url(rule, setup["ids"])
    names = _names_on_page(client, url) if "GET" in rule.methods else []
    names = names or COMMON_NAMES

    @settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.dictionaries(st.sampled_from(names + ["zz", "calls-3-zz"]), text, max_size=8))
    def post(values):
        response = client.post(url, data=values)
        response.close()
        assert response.status_code < 500, (rule.rule, values)

    post()
