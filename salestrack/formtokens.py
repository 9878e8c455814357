"""One act per rendered form, and nothing typed lost to a stale page.

Every form that saves, submits, signs or returns a sheet carries a one-time
token (`form_token`), made when the page is rendered. The act's transaction
marks it used (operations._use_form_token), so the same POST arriving again
(a double click, a network retry, Back and resubmit) acts once and is then
answered with the record the first one produced.

A POST whose CSRF token no longer matches the session (the user signed out
and in again in another tab) or that carries no one-time token is "stale":
the views marked `shows_stale_form` show the form again with everything that
was typed and ask to save again, instead of a bare 400 page."""
from __future__ import annotations

import re
import secrets
from flask import g, request
from markupsafe import Markup

FIELD = "form_token"
_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,64}")
STALE_MESSAGE = "页面已过期（可能您在其他窗口退出后又登录过），刚才的操作没有执行。您输入的内容都在下面，请再提交一次。"


def new_token() -> str:
    """A fresh token for one rendered form: 24 URL-safe characters (144 random bits)."""
    return secrets.token_urlsafe(18)


def hidden_input() -> Markup:
    """The hidden input a template puts in each acting form: {{ form_token_input() }}."""
    return Markup(f'<input type="hidden" name="{FIELD}" value="{new_token()}">')  # nosec B704 # constant name, hex token


def posted() -> str | None:
    """The one-time token the POST carries, or None when it has none of the right shape."""
    value = request.form.get(FIELD, "")
    return value if _SHAPE.fullmatch(value) else None


def prior_use():
    """The earlier use (a models.UsedFormToken) of this POST's one-time token
    by the signed-in user, or None: the same request arriving again."""
    from flask_login import current_user
    from .extensions import db
    from .models import UsedFormToken
    token = posted()
    used = db.session.get(UsedFormToken, token) if token else None
    return used if used is not None and used.user_id == current_user.id else None


def is_stale() -> bool:
    """Whether this POST must be shown again instead of acted on: its CSRF
    token failed (set by the CSRF error handler) or it has no one-time token."""
    return bool(g.get("stale_form")) or posted() is None


def shows_stale_form(view):
    """Marks a view that can show its form again for a stale POST (see
    views.register_views); put it right under the route decorator."""
    view.shows_stale_form = True
    return view


def keeps_form_over_login(view):
    """Marks a sheet form view whose typed input survives a sign-in: a POST
    that arrives signed out is answered with the sign-in page carrying what
    was typed, and after signing in the form comes back with it (see
    views.auth.login, operations.keep_form). Put it under the route decorator."""
    view.keeps_form_over_login = True
    return shows_stale_form(view)


CARRY_PREFIX = "carry:"


def carried_pairs(form) -> list[tuple[str, str]]:
    """The typed inputs a sign-in page carries: every posted pair but the
    tokens and the pressed button."""
    return [(name, value) for name, value in form.items(multi=True)
            if name not in ("csrf_token", FIELD, "action")]


def init_app(app) -> None:
    app.jinja_env.globals.update(form_token_input=hidden_input)
