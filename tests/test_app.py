"""The app factory, configuration and start-up."""
import os

from salestrack import config, create_app


def test_testing_config_is_applied(app):
    assert app.testing
    assert app.config["BABEL_DEFAULT_LOCALE"] == "zh_Hans_CN"


def test_environment_overrides_defaults(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite:///elsewhere.db")
    monkeypatch.setenv("SALESTRACK_STAGE_STAY_DAYS", "10")
    monkeypatch.setenv("SALESTRACK_MAIL_SERVER", "smtp.example.com")
    env = config.from_environment()
    assert env["SQLALCHEMY_DATABASE_URI"] == "sqlite:///elsewhere.db"
    assert env["STAGE_STAY_DAYS"] == 10
    assert env["MAIL_SERVER"] == "smtp.example.com"


def test_a_fresh_install_gets_its_own_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    first = create_app()
    assert first.config["SECRET_KEY"] != config.Defaults.SECRET_KEY
    assert create_app().config["SECRET_KEY"] == first.config["SECRET_KEY"]
    assert os.stat(os.path.join(first.instance_path, "secret_key")).st_mode & 0o077 == 0


def test_login_page_is_served_in_chinese(client):
    page = client.get("/login")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'lang="zh-CN"' in text and "登录" in text
    assert page.headers["X-Content-Type-Options"] == "nosniff"


def test_unknown_page_is_a_friendly_404(client, factory, login):
    login(factory.user("rep"))
    page = client.get("/no/such/page")
    assert page.status_code == 404
    assert "页面不存在" in page.get_data(as_text=True)


def test_sqlite_runs_in_wal_mode(app):
    from salestrack.extensions import db
    if db.engine.dialect.name != "sqlite":
        return
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_test_apps_run_with_the_shipped_settings(app, monkeypatch, tmp_path):
    """Every setting of the app the tests use — CSRF, cookie flags, login
    throttling, upload limits and all the rest — is the one a fresh install
    runs with. Only where the test app keeps its files and database, its key
    and TESTING differ (tests/conftest.py TEST_ONLY_SETTINGS)."""
    from tests.conftest import TEST_ONLY_SETTINGS
    for name in list(os.environ):
        if name.startswith("SALESTRACK_") or name in ("DATABASE_URL", "SECRET_KEY"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/shipped.db")
    shipped = create_app()
    differ = {name: (app.config.get(name), shipped.config.get(name))
              for name in set(app.config) | set(shipped.config)
              if name not in TEST_ONLY_SETTINGS and app.config.get(name) != shipped.config.get(name)}
    assert differ == {}
    assert app.config["WTF_CSRF_ENABLED"] is True and app.config["WTF_CSRF_CHECK_DEFAULT"] is True
    assert app.config["PASSWORD_HASH_METHOD"] == "scrypt" and app.config["LOGIN_MAX_FAILURES"] == 5


def test_the_settings_only_tests_set_are_no_security_settings():
    from tests.conftest import TEST_ONLY_SETTINGS
    security = {"WTF_CSRF_ENABLED", "WTF_CSRF_CHECK_DEFAULT", "WTF_CSRF_TIME_LIMIT", "WTF_CSRF_SSL_STRICT",
                "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE", "SESSION_COOKIE_SECURE",
                "REMEMBER_COOKIE_HTTPONLY", "MAX_CONTENT_LENGTH", "LOGIN_MAX_FAILURES", "LOGIN_WINDOW_MINUTES",
                "ATTACHMENT_MAX_BYTES", "VERIFY_MAX_BYTES", "PASSWORD_HASH_METHOD", "LOGIN_DISABLED"}
    assert not TEST_ONLY_SETTINGS & security
