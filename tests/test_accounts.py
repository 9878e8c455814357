"""Sessions and accounts (issue 15, findings 8–10): sessions end on sign-out,
password change and reset; one name, one throttle; one password policy."""
import threading

import pytest
import sqlalchemy as sa
from werkzeug.security import check_password_hash

from salestrack import accounts
from salestrack.extensions import db
from salestrack.models import AuditEvent, User
from tests.conftest import PASSWORD

NEW_PASSWORD = "Lantern-Quay-2026"


def _signed_in(client) -> bool:
    answer = client.get("/")
    return answer.status_code in (200, 302) and "/login" not in answer.headers.get("Location", "")


def _copy_cookies(source, target, *names):
    for name in names:
        cookie = source.get_cookie(name)
        if cookie is not None:
            target.set_cookie(name, cookie.value)


# ── 8: sessions end ───────────────────────────────────────────────────────
def test_a_session_cookie_copied_before_sign_out_no_longer_signs_in(app, client, factory, login):
    login(factory.user("rep"))
    thief = app.test_client()
    _copy_cookies(client, thief, "session")
    assert _signed_in(thief)
    client.post("/logout")
    assert not _signed_in(client)
    assert not _signed_in(thief)


def test_the_remember_cookie_ends_with_sign_out(app, client, factory):
    user = factory.user("rep")
    assert client.post("/login", data={"username": user.username, "password": PASSWORD,
                                       "remember": "y"}).status_code == 302
    remember = client.get_cookie("remember_token")
    assert remember is not None
    kept = app.test_client()
    kept.set_cookie("remember_token", remember.value)
    assert _signed_in(kept)  # the cookie alone signs in: what a year-long token does
    client.post("/logout")
    later = app.test_client()
    later.set_cookie("remember_token", remember.value)
    assert not _signed_in(later)


def test_an_admins_reset_ends_every_session_of_the_user(app, client, factory, login):
    user = factory.user("rep")
    remembered = app.test_client()
    remembered.post("/login", data={"username": user.username, "password": PASSWORD, "remember": "y"})
    token = remembered.get_cookie("remember_token").value
    login(user)
    admin = app.test_client()
    login(factory.user("admin"), c=admin)
    answer = admin.post(f"/admin/users/{user.id}/password", data={"pw-password": NEW_PASSWORD})
    assert answer.status_code == 302
    assert not _signed_in(client)
    only_token = app.test_client()
    only_token.set_cookie("remember_token", token)
    assert not _signed_in(only_token)
    assert _signed_in(admin)


def test_changing_ones_own_password_keeps_this_session_and_ends_the_others(app, client, factory, login):
    user = factory.user("rep")
    other_device = app.test_client()
    login(user, c=other_device)
    login(user)
    page = client.get("/account/password")
    assert page.status_code == 200 and "当前密码" in page.get_data(as_text=True)
    answer = client.post("/account/password", data={"current": PASSWORD, "password": NEW_PASSWORD,
                                                    "confirm": NEW_PASSWORD})
    assert answer.status_code == 302
    assert _signed_in(client)
    assert not _signed_in(other_device)
    db.session.rollback()
    assert check_password_hash(db.session.get(User, user.id).password_hash, NEW_PASSWORD)
    client.post("/logout")
    assert client.post("/login", data={"username": user.username, "password": NEW_PASSWORD}).status_code == 302


@pytest.mark.parametrize("current, new, confirm, field, message", [
    ("wrong-password", NEW_PASSWORD, NEW_PASSWORD, "current", "当前密码不正确"),
    (PASSWORD, "short1", "short1", "password", "至少 10 位"),
    (PASSWORD, "qwertyuiop", "qwertyuiop", "password", "常见密码"),
    (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "confirm", "不一致"),
])
def test_a_refused_password_change_says_why_next_to_the_field(client, factory, login, current, new, confirm,
                                                              field, message):
    user = factory.user("rep")
    login(user)
    answer = client.post("/account/password", data={"current": current, "password": new, "confirm": confirm})
    text = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert f'id="field-{field}"' in text and message in text
    db.session.rollback()
    assert check_password_hash(db.session.get(User, user.id).password_hash, PASSWORD)
    assert _signed_in(client)


# ── 9: one name, one throttle ─────────────────────────────────────────────
@pytest.mark.parametrize("spelling", ["cler\u212a", "ＣＬＥＲＫ", "Clerk "])
def test_a_compatibility_spelling_of_a_name_meets_the_same_limit(client, factory, app, spelling):
    factory.user("clerk", username="clerk")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert client.post("/login", data={"username": "clerk", "password": "wrong"}).status_code == 401
    blocked = client.post("/login", data={"username": spelling, "password": PASSWORD})
    assert blocked.status_code == 429
    assert not _signed_in(client)


def test_a_compatibility_spelling_finds_the_account():
    assert accounts.normalise_username("cler\u212a") == accounts.normalise_username("ＣＬＥＲＫ") == "clerk"


def test_simultaneous_wrong_passwords_check_at_most_the_limit(app, factory):
    user = factory.user("rep")
    limit = app.config["LOGIN_MAX_FAILURES"]
    clients = [app.test_client() for _ in range(15)]
    bodies = [{**c.served_form("/login"), "username": user.username, "password": "wrong"} for c in clients]
    start, answers, errors = threading.Barrier(len(clients)), [], []

    def attempt(c, body):
        try:
            start.wait()
            answers.append(c.post("/login", data=body).status_code)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=attempt, args=pair) for pair in zip(clients, bodies, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(answers) == [401] * limit + [429] * (15 - limit)
    db.session.rollback()
    checked = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                                .where(AuditEvent.action == "login_failed"))
    assert checked == limit


def test_a_successful_sign_in_is_not_counted_as_a_failure(client, factory, app):
    user = factory.user("rep")
    for _ in range(app.config["LOGIN_MAX_FAILURES"] * 2):
        assert client.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 302
        client.post("/logout")


# ── 10: one password policy ───────────────────────────────────────────────
@pytest.mark.parametrize("password, message", [
    ("a", "至少 10 位"), ("b", "至少 10 位"), ("abcdefgh", "至少 10 位"),
    ("1234567890", "常见密码"), ("Password12", "常见密码"), ("zhangwei-2026", "用户名"),
])
def test_the_policy_refuses(password, message):
    assert message in accounts.password_problem(password, "zhangwei")


def test_the_policy_accepts_a_long_uncommon_password():
    assert accounts.password_problem(NEW_PASSWORD, "zhangwei") is None


@pytest.mark.parametrize("password", ["a", "b", "abcdefgh", "1234567890", "rep-for-ever"])
def test_the_admin_page_refuses_a_weak_password_next_to_the_field(client, factory, login, password):
    user = factory.user("rep", username="rep")
    login(factory.user("admin"))
    create = client.post("/admin/users", data={"username": "newbie", "name": "新人", "role": "rep", "team_id": "0",
                                               "password": password.replace("rep", "newbie")})
    assert create.status_code == 400 and 'id="field-password"' in create.get_data(as_text=True)
    reset = client.post(f"/admin/users/{user.id}/password", data={"pw-password": password})
    assert reset.status_code == 400 and 'id="field-pw-password"' in reset.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(sa.select(User).where(User.username == "newbie")) is None
    assert check_password_hash(db.session.get(User, user.id).password_hash, PASSWORD)


@pytest.mark.parametrize("args", [
    ["users", "create", "boss", "--name", "老板", "--role", "admin", "--password", "b"],
    ["users", "set-password", "rep", "--password", "a"],
    ["users", "set-password", "rep", "--password", "password123"],
])
def test_the_command_line_refuses_a_weak_password(app, factory, args):
    factory.user("rep", username="rep")
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code != 0
    db.session.rollback()
    assert db.session.scalar(sa.select(User).where(User.username == "boss")) is None
    assert check_password_hash(db.session.scalar(sa.select(User).where(User.username == "rep")).password_hash,
                               PASSWORD)


def test_the_demo_command_refuses_a_production_instance(app, monkeypatch):
    monkeypatch.setitem(app.config, "ENV", "production")
    result = app.test_cli_runner().invoke(args=["demo", "--once"])
    assert result.exit_code != 0 and "production" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_production_sends_cookies_over_https_only(migrated, tmp_path):
    from salestrack import create_app
    from tests.conftest import make_config
    for name, expected in (("production", True), ("development", False)):
        shipped = create_app(make_config(migrated, tmp_path, ENV=name))
        assert shipped.config["SESSION_COOKIE_SECURE"] is expected
        assert shipped.config["REMEMBER_COOKIE_SECURE"] is expected
        assert shipped.config["REMEMBER_COOKIE_SAMESITE"] == "Lax" and shipped.config["REMEMBER_COOKIE_HTTPONLY"]


def test_the_remember_cookie_is_samesite_lax_and_httponly(client, factory):
    user = factory.user("rep")
    answer = client.post("/login", data={"username": user.username, "password": PASSWORD, "remember": "y"})
    header = next(h for h in answer.headers.getlist("Set-Cookie") if h.startswith("remember_token="))
    assert "SameSite=Lax" in header and "HttpOnly" in header


@pytest.mark.parametrize("username", ["cler\u212a", "ｒｅｐ", "zhang wei", "张伟", "a" * 41])
def test_an_account_name_is_plain_letters_digits_and_dots_wherever_it_is_made(app, username):
    result = app.test_cli_runner().invoke(args=["users", "create", username, "--name", "某人", "--role", "rep",
                                                "--password", NEW_PASSWORD])
    assert result.exit_code != 0 and "用户名只能使用" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
