"""Every role's home page is useful for that role, and every count on it
equals the list it links to (issue 14: the rep home said 进行中 4 while its
stage cards added up to 5; the implementation home showed stage cards and
「还没有项目」 with no way to 交接工作台)."""
import lxml.html
import pytest

from salestrack.demo import ACCOUNTS

ROLES = [(username, role) for username, _, role, _, _ in ACCOUNTS if role != "admin"]


@pytest.fixture
def demo(app):
    assert app.test_cli_runner().invoke(args=["demo"]).exit_code == 0
    return app


def _signed_in(app, username):
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": "demo"}).status_code == 302
    return client


@pytest.mark.parametrize("username,role", ROLES, ids=[u for u, _ in ROLES])
def test_every_count_on_the_home_page_equals_the_list_it_links_to(demo, username, role):
    client = _signed_in(demo, username)
    home = lxml.html.fromstring(client.get("/").get_data(as_text=True))
    counted = home.xpath("//a[@data-count]")
    assert counted, f"{username}'s home page shows no counts"
    for link in counted:
        listed = lxml.html.fromstring(client.get(link.get("href")).get_data(as_text=True))
        totals = listed.xpath("//*[@data-total]/@data-total")
        assert totals, f"{link.get('href')} shows no total"
        assert int(totals[0]) == int(link.get("data-count")), \
            f"{username}: {link.text_content().split()} says {link.get('data-count')}, {link.get('href')} lists {totals[0]}"


def test_the_open_and_won_counts_add_up_to_the_stage_cards(demo):
    home = lxml.html.fromstring(_signed_in(demo, "rep").get("/").get_data(as_text=True))
    cards = sum(int(n) for n in home.xpath("//a[contains(@class,'stage-cell')]/@data-count"))
    heading = [int(a.get("data-count")) for a in home.xpath("//h2//a[@data-count]")
               if "进行中" in a.text_content() or "已签约" in a.text_content()]
    assert len(heading) == 2 and sum(heading) == cards


def test_the_implementation_home_is_its_worklist(demo):
    page = _signed_in(demo, "impl").get("/").get_data(as_text=True)
    doc = lxml.html.fromstring(page)
    assert doc.xpath("//a[@href='/handover/']"), "no way to 交接工作台"
    assert "还没有项目" not in page and not doc.xpath("//a[contains(@href,'/projects/?stage=')]")
    received = doc.xpath("//a[@href='/handover/?status=received']/@data-count")
    assert received == ["1"]  # the demo's handover waits in 吴磊's worklist


@pytest.mark.parametrize("username,links", [("auditor", ["/archive/export", "/verify/", "/audit/"]),
                                            ("clerk", ["/archive/export", "/verify/"])])
def test_read_only_roles_land_on_the_archive_and_verification(demo, username, links):
    doc = lxml.html.fromstring(_signed_in(demo, username).get("/").get_data(as_text=True))
    hrefs = set(doc.xpath("//main//a/@href") or doc.xpath("//a/@href"))
    for href in links:
        assert href in hrefs, f"{username}'s home has no link to {href}"


def test_the_browser_tab_icon_is_served_before_signing_in(app):
    with app.test_client().get("/favicon.ico") as response:
        assert response.status_code == 200 and response.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
