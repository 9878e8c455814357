"""A bare Flask app (no database) with a request context, enough for
Flask-WTF forms built by the form engine."""
import pytest
from flask import Flask


@pytest.fixture(scope="session")
def formkit_app():
    app = Flask("formkit_tests")
    app.config.update(TESTING=True, SECRET_KEY="formkit-tests", WTF_CSRF_ENABLED=False)
    return app


@pytest.fixture(autouse=True)
def request_context(formkit_app):
    with formkit_app.test_request_context("/", method="POST"):
        yield
