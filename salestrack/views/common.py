"""Small helpers shared by the blueprints."""
from datetime import date
from functools import wraps

from flask import abort, g, render_template, request
from flask_login import current_user, login_required

from ..extensions import htmx


def render_page(template: str, partial: str | None = None, **context):
    """The full page, or only `partial` when htmx asks for a fragment. The
    response then varies on HX-Request (set in create_app)."""
    g.varies_on_htmx = True
    # Back/Forward beyond htmx's history cache asks for the whole page again
    # (HX-History-Restore-Request): it gets the page, not the fragment.
    if partial and htmx and not htmx.boosted and not htmx.history_restore_request:
        return render_template(partial, **context)
    return render_template(template, **context)


def as_id(value) -> int | None:
    """A row id from request text: digits within the INTEGER range, else None
    (PostgreSQL refuses a larger number where it is compared with an id)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # a choice's own value, when a select field coerces its options
    value = (value or "").strip() if isinstance(value, str) else ""
    return int(value) if value.isdigit() and 0 < int(value) < 2**31 else None


def as_day(value) -> date | None:
    """A date from request text (ISO, YYYY-MM-DD) in the years 1900–9998, else
    None: a range's end is taken up to the next day's local midnight, which
    must exist (9999-12-31 has none)."""
    try:
        day = date.fromisoformat((value or "").strip()) if isinstance(value, str) else None
    except ValueError:
        return None
    return day if day is not None and 1900 <= day.year <= 9998 else None


def finite_amount(_form, field) -> None:
    """WTForms validator, first in a DecimalField's chain: its value must be a
    number — "NaN", "sNaN", "Infinity" parse as Decimals that no later check
    (NumberRange compares, quantize) can handle. Raises StopValidation with
    the message shown next to the field."""
    from wtforms.validators import StopValidation
    if field.data is not None and not field.data.is_finite():
        raise StopValidation("请输入有效的金额")


def page_number(total: int, page_size: int) -> tuple[int, int]:
    """(the ?page= asked for, kept within the pages there are; how many pages).
    An out-of-range number must not reach the database as an offset."""
    pages = max(1, -(-total // page_size))
    page = request.args.get("page", 1, type=int) or 1
    return min(max(1, page), pages), pages


def roles_required(*roles):
    """Signed in and holding one of `roles`, else 403."""
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def form_errors(form) -> dict:
    return {name: errors for name, errors in form.errors.items()}
