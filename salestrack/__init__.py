"""salestrack: the sales department's paper toolkit as an intranet app."""
import logging
import os

from flask import Flask, g, request
from flask_login import current_user
from werkzeug.routing import IntegerConverter

from . import config as config_module
from .incoming import Request
from .extensions import babel, csrf, db, htmx, login_manager, migrate

log = logging.getLogger("salestrack")

# Scripts and styles only from our own files: no inline script, handler or
# style attribute runs (htmx is told not to inject its indicator style nor to
# eval; app.js wires every behaviour).
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'")


def select_locale():
    """Chinese: the department's language (dates, numbers, WTForms messages)."""
    return "zh_Hans_CN"


class IdConverter(IntegerConverter):
    """`<int:…>` in routes names a row id, so it matches only what an INTEGER
    column holds: a larger number is a 404, not a database error."""

    def __init__(self, url_map, fixed_digits=0, min=None, max=2**31 - 1, signed=False):
        super().__init__(url_map, fixed_digits, min, max, signed)


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.request_class = Request
    app.url_map.converters["int"] = IdConverter
    app.config.from_object(config_module.Defaults)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "salestrack.db")
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.update(config_module.from_environment())
    else:
        app.config.update(test_config)
    for key in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
        if app.config[key] is None:
            app.config[key] = app.config["ENV"] == "production"
    for key, sub in (("ATTACHMENT_DIR", "attachments"), ("ARCHIVE_DIR", "archive")):
        app.config[key] = app.config[key] or os.path.join(app.instance_path, sub)
    app.config["SEAL_KEY_PATH"] = app.config["SEAL_KEY_PATH"] or os.path.join(app.instance_path, "seal", "key.pem")
    app.config["SEAL_CERT_PATH"] = app.config["SEAL_CERT_PATH"] or os.path.join(app.instance_path, "seal", "cert.pem")
    app.config["AUDIT_KEY_PATH"] = app.config["AUDIT_KEY_PATH"] or os.path.join(app.instance_path, "audit_key")
    if app.config["SECRET_KEY"] == config_module.Defaults.SECRET_KEY and not app.testing:
        app.config["SECRET_KEY"] = _instance_secret(app)

    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录。"
    login_manager.session_protection = "strong"
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    htmx.init_app(app)
    from . import jobs
    jobs.init_app(app)

    with app.app_context():
        from .database import configure_sqlite
        configure_sqlite(db.engine)

    from . import models  # noqa: F401  (registers the tables)
    from .formkit import registry
    registry.load_builtin()
    from .views import register_views
    register_views(app)
    from .cli import register_cli
    register_cli(app)
    from . import templating
    templating.init_app(app)
    from . import formtokens
    formtokens.init_app(app)

    @login_manager.user_loader
    def load_user(user_id: str):
        # "<id>:<session version>" (User.get_id), from the session or the
        # remember cookie: an older version was ended by sign-out, a password
        # change or a reset.
        ident, _, version = user_id.partition(":")
        if not (ident.isdigit() and version.isdigit() and int(ident) < 2**31):
            return None
        user = db.session.get(models.User, int(ident))
        if user is None or not user.active or user.session_version != int(version):
            return None
        return user

    @app.before_request
    def remember_user():
        g.user = current_user

    @app.after_request
    def vary_on_htmx(response):
        # Pages answer htmx requests with a fragment: caches must keep both.
        if getattr(g, "varies_on_htmx", False):
            response.vary.add("HX-Request")
            response.vary.add("HX-History-Restore-Request")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        if request.endpoint not in ("static", "main.favicon"):
            # Record pages, sealed PDFs, exports: nothing of them stays in a
            # browser's or proxy's cache after the user has gone.
            response.headers["Cache-Control"] = "no-store"
            response.headers.pop("Expires", None)
        return response

    if not app.testing:
        from .pdf_env import warn_if_pdf_prerequisites_missing
        warn_if_pdf_prerequisites_missing(log)
        if not app.config.get("BASE_URL") and not app.debug:
            log.warning("SALESTRACK_BASE_URL is not set: QR codes and links in final PDFs and mails use the "
                        "address each request was served at; set it to the address users reach the app by.")
    return app


def _instance_secret(app: Flask) -> str:
    """A random secret kept in instance/, so a fresh install is not running
    with a published key and sessions survive restarts."""
    path = os.path.join(app.instance_path, "secret_key")
    if not os.path.exists(path):
        with open(path, "w") as fh:
            fh.write(os.urandom(32).hex())
        os.chmod(path, 0o600)
    with open(path) as fh:
        return fh.read().strip()
