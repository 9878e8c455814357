"""Sign in and sign out."""
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.security import check_password_hash
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from .. import accounts, formtokens, operations
from ..extensions import db
from ..models import User
from .common import render_page

bp = Blueprint("auth", __name__)
# Compared against when the account does not exist, so both cases take as long.
_DUMMY_HASH = operations.hash_password("not-a-real-password")


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired("请输入用户名"), Length(max=40)],
                           render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"})
    password = PasswordField("密码", validators=[DataRequired("请输入密码"), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField("记住我")


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    error = None
    status = 200
    if form.validate_on_submit():
        username = form.username.data.strip()
        if not operations.claim_login_attempt(username, request.remote_addr):
            error = f"登录失败次数过多，请 {current_app.config['LOGIN_WINDOW_MINUTES']} 分钟后再试。"
            status = 429
        else:
            user = db.session.scalar(sa.select(User).where(
                sa.func.lower(User.username) == accounts.normalise_username(username)))
            ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, form.password.data)
            if user is not None and ok and user.active:
                operations.release_login_attempt(username, request.remote_addr)
                next_url = _safe_next(request.args.get("next"))
                session.clear()  # a fresh session at every sign-in
                login_user(user, remember=form.remember.data)
                operations.log_login(user)
                carry_path = _safe_next(request.form.get("carry_path"))
                if carry_path:  # back to the form he was filling, with what he typed
                    operations.keep_form(user, carry_path, _carried())
                    return redirect(carry_path)
                return redirect(next_url or url_for("main.home"))
            operations.log_failed_login(username, user)
            error = "用户名或密码错误。"
            status = 401
    elif request.method == "POST":
        status = 400
    carry = None
    if _safe_next(request.form.get("carry_path")):  # a failed try keeps carrying it
        carry = {"path": request.form["carry_path"], "pairs": _carried()}
    return render_page("auth/login.html", form=form, error=error, carry=carry), status


def _carried() -> list[tuple[str, str]]:
    prefix = formtokens.CARRY_PREFIX
    return [(name[len(prefix):], value) for name, value in request.form.items(multi=True) if name.startswith(prefix)]


def sign_in_keeping(path: str, pairs: list[tuple[str, str]]):
    """The sign-in page for someone whose sheet form arrived signed out: it
    carries what he typed (hidden inputs), and signing in brings him back to
    the form with it (operations.keep_form). 401."""
    return render_page("auth/login.html", form=LoginForm(formdata=None), error=None,
                       carry={"path": path, "pairs": pairs}), 401


@bp.post("/logout")
@login_required
def logout():
    user = current_user._get_current_object()
    operations.log_logout(user)
    logout_user()
    session.clear()
    flash("您已退出登录。", "info")
    return redirect(url_for("auth.login"))


class PasswordChangeForm(FlaskForm):
    current = PasswordField("当前密码", validators=[DataRequired("请输入当前密码"), Length(max=200)],
                            render_kw={"autocomplete": "current-password"})
    password = PasswordField("新密码", validators=[DataRequired("请输入新密码")],
                             description=f"至少 {accounts.PASSWORD_MIN_LENGTH} 位，不能是常见密码，不能包含用户名",
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("再次输入新密码", validators=[DataRequired("请再次输入新密码"),
                                                   EqualTo("password", "两次输入的新密码不一致")],
                            render_kw={"autocomplete": "new-password"})


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """修改密码: the current password and a new one meeting the policy. Every
    other session of the user ends; this one stays signed in."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            operations.change_own_password(user, form.current.data, form.password.data)
        except operations.OperationError as e:
            getattr(form, e.field).errors.append(e.message)
        else:
            # this session carries the new session version (and a fresh remember cookie if it had one)
            login_user(user, remember="remember_token" in request.cookies)
            flash("密码已修改，其他设备上的登录已失效。", "success")
            return redirect(url_for("main.home"))
    return render_page("auth/password.html", form=form), 400 if form.errors else 200
