"""Test fixtures: a real database built by the migrations (an SQLite file, or
a fresh PostgreSQL database when SALESTRACK_TEST_DB is a postgresql:// URL),
emptied after every test; factories for the objects tests need."""
import os
import uuid
from datetime import date

import pytest
import sqlalchemy as sa
from flask import g, request_started

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


def make_config(database_url, tmp_path, **extra):
    return {
        "TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "ATTACHMENT_DIR": str(tmp_path / "attachments"), "ARCHIVE_DIR": str(tmp_path / "archive"),
        "SEAL_KEY_PATH": str(tmp_path / "seal" / "key.pem"), "SEAL_CERT_PATH": str(tmp_path / "seal" / "cert.pem"),
        "BASE_URL": "http://localhost", **extra,
    }


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


def _forget_signed_in_user(_app, **_extra):
    # Requests made from the test's thread share the fixture's app context,
    # and so its `g`, where Flask-Login caches the signed-in user. Each
    # request must find its user from its own session cookie, as in
    # production, or a second client would act as the first one's user.
    g.pop("_login_user", None)


@pytest.fixture
def app(migrated, tmp_path):
    app = create_app(make_config(migrated, tmp_path))
    request_started.connect(_forget_signed_in_user, app)
    with app.app_context():
        yield app
        db.session.rollback()
        _empty_all_tables()
        db.session.remove()
        db.engine.dispose()


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
