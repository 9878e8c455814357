"""No hostile input gets a 500 (issue 15, finding 12): every route of the URL
map, signed in as each role, is sent hostile values — NaN, Infinity, -1,
2**63, 9999-12-31, '', very long text, U+202E, NUL, '../', SQL and HTML
meta-characters — in every query argument and form field its page uses (the
served forms' field names, and the names the views read from the request).
Each field gets values picked deterministically from the list, so every
run sends the same requests and the whole sweep stays quick."""
import re
import zlib
from pathlib import Path

import lxml.html
import pytest

from tests import test_access
from tests.test_access import ROLES, RULES, _ids, _url

world = test_access.world  # the two teams and every role, as the access tests have them

HOSTILE = ["NaN", "sNaN", "Infinity", "-Infinity", "-1", str(2**63), "9999-12-31", "", "9" * 400, "长" * 5000,
           "\u202egnp.exe", "a\x00b", "../../etc/passwd", "' OR 1=1; DROP TABLE users; --",
           '<script>alert(1)</script>"\'>', "1e309", "0", "2026-02-30", "-0.0", "%s%n{0}", "[]"]
ROUNDS = 1  # hostile requests per route, method and role (each role draws other values)

# The names views read from the request themselves (besides their WTForms).
_VIEWS = Path(__file__).resolve().parent.parent / "salestrack" / "views"
READ_NAMES = sorted({m for f in _VIEWS.glob("*.py") for m in re.findall(
    r"(?:args|form)\.(?:get|getlist)\(\"([\w:-]+)\"", f.read_text(encoding="utf-8"))})
DATE_ARGS = ["from", "to", "start", "end", "date"]
# Acts that would end the session the sweep runs in.
SKIP_POST = {"auth.logout"}


def _pick(*key) -> int:
    return zlib.crc32("|".join(map(str, key)).encode())


def _forms(response, path: str):
    """(names of GET forms' fields, {POST form to `path`: hidden inputs and field names})."""
    if response.mimetype != "text/html" or response.status_code != 200:
        return set(), None
    doc = lxml.html.fromstring(response.get_data(as_text=True))
    get_names, post = set(), None
    for form in doc.iter("form"):
        method = "post" if form.get("hx-post") else (form.get("method") or "get").lower()
        names = {el.get("name") for el in form.iter("input", "select", "textarea") if el.get("name")}
        if method == "get":
            get_names |= names
            continue
        action = (form.get("hx-post") or form.get("action") or path).split("?", 1)[0]
        if action == path and post is None:
            hidden = {i.get("name"): i.get("value") or "" for i in form.iter("input")
                      if i.get("type") == "hidden" and i.get("name")}
            post = (hidden, names)
    return get_names, post


def _hostile(rule, role, names, round_):
    return {name: HOSTILE[(_pick(rule.rule, role, name) + round_) % len(HOSTILE)] for name in sorted(names)}


@pytest.mark.parametrize("role", ROLES)
def test_hostile_values_in_every_route_never_cause_a_server_error(role, client, world, login):
    teams, people = world
    login(people[role])
    ids = _ids(teams["own"])
    failures, sent = [], 0

    def check(response, what):
        nonlocal sent
        sent += 1
        response.close()
        if response.status_code >= 500:
            failures.append((response.status_code, *what))
        if response.status_code == 302 and "/login" in response.headers.get("Location", ""):
            login(people[role])  # an act that ended the session; go on signed in

    for rule in RULES:
        url = _url(rule, ids)
        get_names, post = set(), None
        if "GET" in rule.methods:
            page = client.get(url)
            page.close()
            get_names, post = _forms(page, url)
            check(page, ("GET", url, {}))
            for round_ in range(ROUNDS):
                args = _hostile(rule, role, get_names | set(READ_NAMES) | set(DATE_ARGS), round_)
                check(client.get(url, query_string=args), ("GET", url, args))
        if rule.methods & {"POST"} and rule.endpoint not in SKIP_POST:
            for round_ in range(ROUNDS):
                hidden, names = post if post else (client.served_form(url), set())
                tokens = {k: v for k, v in hidden.items() if k in ("csrf_token", "form_token")}
                fields = (names | set(hidden) | set(READ_NAMES)) - set(tokens)
                body = {**_hostile(rule, role, fields, round_), **tokens}
                check(client.post(url, data=body), ("POST", url, body))
                if post:  # the next round posts the form as served again (a fresh one-time token)
                    again = client.get(url)
                    again.close()
                    _, post = _forms(again, url)
    assert failures == [], failures[:5]
    assert sent > len(RULES)
