"""Headers (issue 15, finding 14): a Content-Security-Policy that allows no
inline script, and no page of the app has any; private pages and sealed
PDFs are not kept in caches."""
import re

from salestrack import CONTENT_SECURITY_POLICY
from tests import test_access
from tests.test_access import GET_RULES, _ids, _url

world = test_access.world  # the two teams and every role, as the access tests have them

INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE), "inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.IGNORECASE), "inline event handler"),
    (re.compile(r"\sstyle\s*=", re.IGNORECASE), "style attribute"),
    (re.compile(r"<style", re.IGNORECASE), "inline <style>"),
    (re.compile(r"\shx-on", re.IGNORECASE), "hx-on (needs eval)"),
    (re.compile(r"javascript:", re.IGNORECASE), "javascript: URL"),
]


def test_the_policy_allows_only_our_own_scripts_and_styles():
    directives = dict(d.strip().split(" ", 1) for d in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


def test_every_page_carries_the_policy_has_nothing_inline_and_is_not_cached(client, world, login):
    teams, people = world
    checked = 0
    for role in ("rep", "manager", "admin"):
        login(people[role])
        for rule in GET_RULES:
            response = client.get(_url(rule, _ids(teams["own"])))
            response.close()
            if response.status_code >= 400 and response.mimetype != "text/html":
                continue
            assert response.headers["Cache-Control"] == "no-store", rule.rule
            if response.mimetype != "text/html":
                continue
            assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, rule.rule
            text = response.get_data(as_text=True)
            for pattern, what in INLINE:
                assert not pattern.search(text), (role, rule.rule, what, pattern.search(text).group(0))
            checked += 1
        client.post("/logout")
    assert checked > 60


def test_a_sealed_pdf_and_a_record_page_are_not_cached_but_static_files_are(client, world, login):
    teams, people = world
    login(people["rep"])
    record = teams["own"]["record"]
    for url in (f"/records/{record.id}", f"/records/{record.id}/pdf", "/projects/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store", url
    static = client.get("/static/js/app.js")
    assert "no-store" not in static.headers.get("Cache-Control", "")
    static.close()
