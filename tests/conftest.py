"""Test fixtures: a real database built by the migrations (an SQLite file, or
a fresh PostgreSQL database when SALESTRACK_TEST_DB is a postgresql:// URL),
emptied after every test; factories for the objects tests need."""
import os
import re
import uuid
from datetime import date

import pytest
import sqlalchemy as sa
from flask import g, request_started
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from salestrack import create_app, operations
from salestrack.extensions import db
from salestrack.models import Customer, Project, Team, User

TEST_DB = os.environ.get("SALESTRACK_TEST_DB", "sqlite")
PASSWORD = "correct horse 9"


def _postgres_urls(admin_url: str) -> tuple[str, str]:
    name = f"salestrack_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    base = admin_url.rsplit("/", 1)[0]
    return name, base.replace("postgresql://", "postgresql+psycopg://", 1) + "/" + name


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if TEST_DB == "sqlite":
        yield "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")
        return
    import psycopg
    name, url = _postgres_urls(TEST_DB)
    with psycopg.connect(TEST_DB, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield url
    with psycopg.connect(TEST_DB, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# The only settings a test app has of its own: where its files and database
# are, its key, and TESTING (errors reach the test instead of the log).
# Everything else, and every security setting in particular, is the shipped
# default; tests/test_app.py fails when a test app differs in anything else.
TEST_ONLY_SETTINGS = {"TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "ATTACHMENT_DIR", "ARCHIVE_DIR",
                      "SEAL_KEY_PATH", "SEAL_CERT_PATH", "AUDIT_KEY_PATH", "BASE_URL", "PROPAGATE_EXCEPTIONS",
                      "QUEUE_PATH"}


def make_config(database_url, tmp_path, **extra):
    return {
        "TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": database_url,
        "ATTACHMENT_DIR": str(tmp_path / "attachments"), "ARCHIVE_DIR": str(tmp_path / "archive"),
        "SEAL_KEY_PATH": str(tmp_path / "seal" / "key.pem"), "SEAL_CERT_PATH": str(tmp_path / "seal" / "cert.pem"),
        "AUDIT_KEY_PATH": str(tmp_path / "audit_key"), "QUEUE_PATH": str(tmp_path / "queue.db"),
        "BASE_URL": "http://localhost", **extra,
    }


_RECORD_ACT = re.compile(r"^(/records/\d+)/[a-z_]+$")


class BrowserClient(FlaskClient):
    """A test client that posts what a browser posts: a form's POST carries
    the hidden inputs of the form as it was served (the CSRF token, the
    one-time form token, the version shown …). When a test posts data
    without a CSRF token, the client first loads the page the form is on —
    the target itself when it can be loaded, else the record's page for a
    record's act, else the home page — and takes the hidden inputs of the
    form that posts to the target (or, failing that, the page's tokens), the
    test's own values winning. Nothing is generated here. A test that means
    to send no token passes `csrf_token=""` or `form_token=""`."""

    def open(self, *args, **kwargs):
        method = (kwargs.get("method") or "GET").upper()
        data = kwargs.get("data")
        headers = dict(kwargs.get("headers") or {})
        if (method in ("POST", "PUT", "PATCH", "DELETE") and args and isinstance(args[0], str)
                and (data is None or isinstance(data, dict)) and "X-CSRFToken" not in headers
                and "input_stream" not in kwargs
                and "csrf_token" not in (data or {})):
            served = self.served_form(args[0])
            if isinstance(data, MultiDict):  # repeated names (table cells, checks) stay as they are
                data = data.copy()
                for name, value in served.items():
                    data.setdefault(name, value)
                kwargs["data"] = data
            else:
                kwargs["data"] = {**served, **(data or {})}
        return super().open(*args, **kwargs)

    def served_form(self, url: str) -> dict:
        """The hidden inputs a browser would send with a form posting to `url`."""
        import lxml.html
        path = url.split("?", 1)[0]
        match = _RECORD_ACT.match(path)
        fallback: dict = {}
        for page in dict.fromkeys((url, match.group(1) if match else "/", "/")):
            response = super().open(page, method="GET", follow_redirects=True)
            if response.mimetype != "text/html":
                continue
            doc = lxml.html.fromstring(response.get_data(as_text=True))
            for form in doc.iter("form"):
                if not (form.get("hx-post") or (form.get("method") or "get").lower() == "post"):
                    continue
                action = (form.get("hx-post") or form.get("action") or page).split("?", 1)[0]
                if action == path:
                    return {i.get("name"): i.get("value") or "" for i in form.iter("input")
                            if i.get("type") == "hidden" and i.get("name")}
            if response.status_code == 200 and not fallback:
                for i in doc.iter("input"):
                    if i.get("type") == "hidden" and i.get("name") in ("csrf_token", "form_token"):
                        fallback.setdefault(i.get("name"), i.get("value") or "")
                meta = doc.find(".//meta[@name='csrf-token']")
                if meta is not None:
                    fallback.setdefault("csrf_token", meta.get("content"))
        return fallback


@pytest.fixture(scope="session")
def migrated(database_url, tmp_path_factory):
    """The schema, built once by the migrations (as `flask db upgrade` does)."""
    from flask_migrate import upgrade
    app = create_app(make_config(database_url, tmp_path_factory.mktemp("migrate")))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return database_url


def _empty_all_tables():
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("TRUNCATE " + ", ".join(tables) + " RESTART IDENTITY CASCADE"))
    else:
        db.session.execute(sa.text("PRAGMA defer_foreign_keys=ON"))
        for name in tables:
            db.session.execute(sa.text(f"DELETE FROM {name}"))
    db.session.commit()


def _fresh_request_globals(_app, **_extra):
    # Requests made from the test's thread share the fixture's app context,
    # and so its `g`, where Flask-Login caches the signed-in user and
    # Flask-WTF the session's CSRF token. In production every request has a
    # `g` of its own: so here too, or a second client would act as the first
    # one's user and be served the first one's token.
    for name in list(g):
        g.pop(name, None)


_SHIPPED_HASH = operations.hash_password
_HASHES: dict[str, str] = {}


def _hash_once_per_password(password: str) -> str:
    """The shipped password hash (scrypt, ~0.1 s), made once per password for
    the whole run: tests create a dozen people each, and a fresh salt for
    every one would add many minutes and test nothing more. The stored hash
    is a real scrypt hash, and signing in checks it exactly as shipped."""
    if password not in _HASHES:
        _HASHES[password] = _SHIPPED_HASH(password)
    return _HASHES[password]


@pytest.fixture
def app(migrated, tmp_path, monkeypatch):
    monkeypatch.setattr(operations, "hash_password", _hash_once_per_password)
    app = create_app(make_config(migrated, tmp_path))
    app.test_client_class = BrowserClient
    request_started.connect(_fresh_request_globals, app)
    with app.app_context():
        yield app
        db.session.rollback()
        _empty_all_tables()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def worker(app):
    """The job queue's consumer as `flask jobs worker` runs it (Huey's
    threads, the app's own queue file), here in threads of the test process:
    approved sheets are sealed and mails sent by it, as in production."""
    from salestrack.jobs import Worker
    running = Worker(app, periodic=False).start()
    yield running
    running.stop()


@pytest.fixture
def client(app):
    return app.test_client()


class Factory:
    """Makes teams, users, customers and projects through operations, the
    way the app itself does."""

    def __init__(self, app):
        self.app = app
        self.n = 0

    def _next(self) -> int:
        self.n += 1
        return self.n

    def team(self, name=None, manager=None) -> Team:
        return operations.create_team(None, name or f"片区{self._next()}", manager)

    def user(self, role="rep", team=None, username=None, name=None, **kw) -> User:
        n = self._next()
        user = operations.create_user(None, username=username or f"{role}{n}", name=name or f"{role}用户{n}",
                                      role=role, password=PASSWORD, team=team, **kw)
        if role == "manager" and team is not None and team.manager_id is None:
            operations.set_team_manager(None, team, user)
        return user

    def team_with_people(self):
        """A team with its manager and two reps."""
        team = self.team()
        manager = self.user("manager", team)
        return team, manager, self.user("rep", team), self.user("rep", team)

    def customer(self, owner: User, name=None, **kw) -> Customer:
        return operations.create_customer(owner, name=name or f"测试客户{self._next()}有限公司", **kw)

    def project(self, owner: User, customer: Customer | None = None, **kw) -> Project:
        customer = customer or self.customer(owner)
        fields = {"name": f"测试项目{self._next()}", "customer_id": customer.id, "customer_class": "B",
                  "probability": 40, "expected_sign_date": date(2027, 3, 31)} | kw
        return operations.create_project(owner, **fields)


@pytest.fixture
def factory(app):
    return Factory(app)


@pytest.fixture
def login(client):
    """login(user) signs the test client in as `user`."""
    def do(user, password=PASSWORD, c=None):
        c = c or client
        response = c.post("/login", data={"username": user.username, "password": password})
        assert response.status_code == 302, response.data[:500]
        return c
    return do


@pytest.fixture
def switch(client, login):
    """switch(user): the test client signs out and back in as `user`."""
    def do(user):
        client.post("/logout")
        return login(user)
    return do
