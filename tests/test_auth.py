"""Signing in and out, throttling, and the session."""
import sqlalchemy as sa

from salestrack.extensions import db
from salestrack.models import AuditEvent
from tests.conftest import PASSWORD


def _events(action):
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def test_login_lands_on_home_and_logs_the_event(client, factory):
    rep = factory.user("rep", username="zhangwei")
    response = client.post("/login", data={"username": "zhangwei", "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert rep.name in client.get("/").get_data(as_text=True)
    assert [e.actor_id for e in _events("login")] == [rep.id]


def test_username_is_case_insensitive(client, factory):
    factory.user("rep", username="Zhang")
    assert client.post("/login", data={"username": "zHANG", "password": PASSWORD}).status_code == 302


def test_wrong_password_and_unknown_user_get_the_same_generic_error(client, factory):
    factory.user("rep", username="lina")
    wrong = client.post("/login", data={"username": "lina", "password": "nope"})
    unknown = client.post("/login", data={"username": "nobody", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    for page in (wrong, unknown):
        assert "用户名或密码错误" in page.get_data(as_text=True)
    assert 'value="lina"' in wrong.get_data(as_text=True)  # what was typed stays
    assert len(_events("login_failed")) == 2


def test_empty_form_shows_errors_next_to_fields(client):
    page = client.post("/login", data={"username": "", "password": ""})
    text = page.get_data(as_text=True)
    assert page.status_code == 400
    assert "请输入用户名" in text and "请输入密码" in text


def test_too_many_failures_lock_the_account_name_for_a_while(client, factory, app):
    factory.user("rep", username="wangfang")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert client.post("/login", data={"username": "wangfang", "password": "bad"}).status_code == 401
    blocked = client.post("/login", data={"username": "wangfang", "password": PASSWORD})
    assert blocked.status_code == 429
    assert "次数过多" in blocked.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still not signed in


def test_inactive_account_cannot_sign_in(client, factory):
    from salestrack import operations
    user = factory.user("rep", username="left")
    operations.update_user(None, user, active=False)
    assert client.post("/login", data={"username": "left", "password": PASSWORD}).status_code == 401


def test_session_is_renewed_at_login(client, factory):
    factory.user("rep", username="renew")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    client.post("/login", data={"username": "renew", "password": PASSWORD})
    with client.session_transaction() as session:
        assert "planted" not in session


def test_logout_needs_post_and_ends_the_session(client, factory, login):
    user = factory.user("rep")
    login(user)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302
    assert [e.actor_id for e in _events("logout")] == [user.id]


def test_next_parameter_cannot_send_users_off_site(client, factory):
    factory.user("rep", username="nextuser")
    response = client.post("/login?next=https://evil.example/x", data={"username": "nextuser", "password": PASSWORD})
    assert response.headers["Location"] == "/"
    client.post("/logout")
    response = client.post("/login?next=/projects/", data={"username": "nextuser", "password": PASSWORD})
    assert response.headers["Location"] == "/projects/"


def test_sign_in_refuses_a_post_without_the_login_pages_csrf_token(client, factory):
    factory.user("rep", username="csrf")
    response = client.post("/login", data={"username": "csrf", "password": PASSWORD, "csrf_token": ""})
    assert response.status_code == 400
    assert client.get("/").status_code == 302  # not signed in


def test_password_managers_know_each_password_field(client, factory, login):
    """Browsers and password managers fill the sign-in form and offer a strong
    password where one is set: every password input says which it is."""
    import lxml.html
    admin = factory.user("admin", username="guanli")
    signin = lxml.html.fromstring(client.get("/login").get_data(as_text=True))
    assert signin.xpath("//input[@name='username']/@autocomplete") == ["username"]
    assert signin.xpath("//input[@type='password']/@autocomplete") == ["current-password"]
    login(admin)
    expected = {"/account/password": ["current-password", "new-password", "new-password"],
                "/admin/users": ["new-password"], f"/admin/users/{admin.id}": ["new-password"]}
    for path, kinds in expected.items():
        page = lxml.html.fromstring(client.get(path).get_data(as_text=True))
        assert page.xpath("//input[@type='password']/@autocomplete") == kinds, path
