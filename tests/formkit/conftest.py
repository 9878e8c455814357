"""A bare Flask app (no database) with a request context, enough for
Flask-WTF forms built by the form engine. These tests check the engine's
rules on the data a form receives, so this app, and only this one, turns CSRF
off: a request's token is not the engine's concern. The product app the other
tests use runs with CSRF on (tests/test_app.py compares its settings with the
shipped ones), and test_csrf_is_part_of_the_form_when_enabled checks that a
built form does ask for the token."""
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
