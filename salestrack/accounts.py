"""Account rules: how a typed user name is read, and what a password must be.

One place for both, used by the sign-in page, the throttle, the admin pages,
the 修改密码 page and the command line alike.
"""
import functools
import gzip
import unicodedata
from pathlib import Path

PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 200

# The 20 000 most common passwords (Royce Williams' list, 2017, as shipped by
# Django's CommonPasswordValidator in django/contrib/auth/common-passwords.txt.gz,
# BSD licence), one lower-case password a line.
COMMON_PASSWORDS_FILE = Path(__file__).parent / "data" / "common-passwords.txt.gz"


def normalise_username(typed: str) -> str:
    """The account name as the system compares it: NFKC (full-width letters and
    compatibility characters such as the Kelvin sign U+212A become their plain
    letters), case-folded, surrounding spaces removed. Input: what was typed;
    output: the key used both to find the account and to count its failed
    sign-ins, so no spelling of a name escapes the limit that another meets."""
    return unicodedata.normalize("NFKC", typed or "").casefold().strip()


@functools.cache
def _common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as fh:
        return frozenset(line.strip() for line in fh if line.strip())


def password_problem(password: str, username: str | None = None) -> str | None:
    """Why `password` may not be used for the account `username`, in Chinese,
    or None when it may. The department's rule (issue 15, finding 10): at
    least PASSWORD_MIN_LENGTH (10) characters, at most 200, not one of the
    20 000 common passwords (COMMON_PASSWORDS_FILE, compared case-insensitively),
    and neither the user name nor containing it."""
    password = password or ""
    if len(password) < PASSWORD_MIN_LENGTH:
        return f"密码至少 {PASSWORD_MIN_LENGTH} 位"
    if len(password) > PASSWORD_MAX_LENGTH:
        return f"密码最多 {PASSWORD_MAX_LENGTH} 位"
    folded = unicodedata.normalize("NFKC", password).casefold()
    if folded in _common_passwords():
        return "这是常见密码，容易被猜中，请换一个"
    name = normalise_username(username or "")
    if name and name in folded:
        return "密码不能包含用户名"
    return None
