"""Attachments (issue 15, finding 11): a file's name ends as its content is;
names carry no control characters; downloads are never rendered by the
browser; uploads of forms never saved do not stay for ever."""
import os
from datetime import timedelta

import pytest
import sqlalchemy as sa

from salestrack import clock
from salestrack.extensions import db
from salestrack.formkit import registry
from salestrack.models import Attachment, Record
from salestrack.records import clean_filename
from tests.sheet_samples import PDF_BYTES, PNG_BYTES, count, html, make_world, new_url

REQUEST = registry.get("resource_request")


@pytest.fixture
def world(factory):
    return make_world(factory)


def _post(client, world, files, **replace):
    filled = world.fill(REQUEST)
    filled.uploads = {"attachments__upload": files}
    for name, value in replace.items():
        filled.replace(name, value)
    return client.post(new_url(world.project, REQUEST), data=filled.post_data())


def _stored_files(app) -> list[str]:
    directory = app.config["ATTACHMENT_DIR"]
    return sorted(os.listdir(directory)) if os.path.isdir(directory) else []


def _a_day_and_an_hour_ago():
    """Every upload so far made 25 hours ago."""
    db.session.rollback()
    db.session.execute(sa.update(Attachment).values(uploaded_at=clock.now() - timedelta(hours=25)))
    db.session.commit()


@pytest.mark.parametrize("name, content, shown_as", [
    ("evil.html", PNG_BYTES, "PNG"), ("photo.png", PDF_BYTES, "PDF"), ("invoice.pdf.exe", PDF_BYTES, "PDF"),
    ("evil\u202egnp.html", PNG_BYTES, "PNG"), ("report", PDF_BYTES, "PDF"),
])
def test_a_file_whose_name_does_not_end_as_its_content_is_refused_next_to_the_field(
        app, client, world, login, name, content, shown_as):
    login(world.rep)
    response = _post(client, world, [(name, content)])
    assert response.status_code == 400
    message = html(response).get_element_by_id("attachments-error").text_content()
    assert "扩展名与文件内容" in message and shown_as in message and "\u202e" not in message
    assert (count(Attachment), count(Record)) == (0, 0)
    assert _stored_files(app) == []


@pytest.mark.parametrize("typed, kept", [
    ("report\u202efdp.png", "reportfdp.png"), ("a\x00b\x07c.pdf", "abc.pdf"),
    ("..\\..\\etc\\x.pdf", "x.pdf"), ("\u2066报价\u2069单.pdf", "报价单.pdf"), ("\u202e", "附件"),
])
def test_file_names_lose_control_and_bidi_characters(typed, kept):
    assert clean_filename(typed) == kept


def test_an_uploaded_name_is_stored_and_served_without_bidi_controls(client, world, login):
    login(world.rep)
    response = _post(client, world, [("report\u202efdp.png", PNG_BYTES)], date="2026-02-30")
    assert response.status_code == 400  # the date is wrong; the file is held for the next try
    upload = db.session.scalar(sa.select(Attachment))
    assert upload.filename == "reportfdp.png"
    assert "\u202e" not in response.get_data(as_text=True)
    with client.get(f"/attachments/{upload.id}") as download:
        assert download.status_code == 200
        assert download.headers["Content-Disposition"].startswith("attachment;")
        assert "\u202e" not in download.headers["Content-Disposition"]
        assert download.headers["X-Content-Type-Options"] == "nosniff"
        assert download.mimetype == "image/png"


def test_uploads_of_refused_forms_are_held_a_day_then_removed(app, client, world, login):
    login(world.rep)
    for n in range(3):  # three invalid posts, each with a file of its own
        response = _post(client, world, [(f"方案{n}.pdf", PDF_BYTES + b"%" * 1000 * n)], date="2026-02-30")
        assert response.status_code == 400
        assert f"方案{n}.pdf" in html(response).get_element_by_id("attachments-list").text_content()
    assert count(Attachment) == 3 and len(_stored_files(app)) == 3
    _a_day_and_an_hour_ago()
    result = app.test_cli_runner().invoke(args=["attachments", "cleanup"])
    assert result.exit_code == 0 and "removed 3 held uploads" in result.output
    assert count(Attachment) == 0 and _stored_files(app) == []


def test_the_next_upload_removes_expired_ones_and_keeps_files_of_saved_sheets(app, client, world, login):
    login(world.rep)
    assert _post(client, world, [("旧.pdf", PDF_BYTES)], date="2026-02-30").status_code == 400
    assert _post(client, world, [("已保存.pdf", PDF_BYTES)]).status_code == 302
    _a_day_and_an_hour_ago()
    assert _post(client, world, [("新.pdf", PDF_BYTES)], date="2026-02-30").status_code == 400
    db.session.rollback()
    assert sorted(db.session.scalars(sa.select(Attachment.filename))) == sorted(["新.pdf", "已保存.pdf"])
    assert len(_stored_files(app)) == 2


def test_one_person_holds_a_limited_amount_of_unsaved_uploads(app, client, world, login, monkeypatch):
    # The shipped cap is 50 MB; a smaller one here keeps the test's bodies small.
    monkeypatch.setitem(app.config, "ATTACHMENT_HOLD_MAX_BYTES", 3 * len(PDF_BYTES))
    login(world.rep)
    for n in range(3):
        assert _post(client, world, [(f"a{n}.pdf", PDF_BYTES)], date="2026-02-30").status_code == 400
    response = _post(client, world, [("a3.pdf", PDF_BYTES)], date="2026-02-30")
    assert "请先保存表单" in html(response).get_element_by_id("attachments-error").text_content()
    assert count(Attachment) == 3 and len(_stored_files(app)) == 3
