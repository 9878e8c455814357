"""The printed sheet: A4, complete, paginated like paper, with the right marks per status."""
import re
import subprocess

import pytest

from salestrack import pdf

from pdf_helpers import pdf_info, pdf_text, squeeze
from pdf_samples import visit_report


def page_count(info: str) -> int:
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def all_values(doc: dict) -> list:
    """Every label and value the sheet must print."""
    out = [doc["title"], doc["number"]]
    out += [h["label"] for h in doc["header"]] + [h["value"] for h in doc["header"]]
    for section in doc["sections"]:
        if section["title"]:
            out.append(section["title"])
        for item in section["items"]:
            if item["type"] == "field":
                out += [item["label"], item["value"]]
            else:
                out += item["columns"] + [cell for row in item["rows"] for cell in row]
    for s in doc["signatures"]:
        out += [v for v in (s["slot_label"], s["signer"], s["decision"], s["comment"], s["at"], s["hash"]) if v]
    for r in doc["record_keeping"]:
        out += [r["label"], r["value"]]
    for rev in doc["revisions"]:
        out += [rev["author"], rev["at"]] + [c[k] for c in rev["changes"] for k in ("label", "old", "new")]
    for t in doc["timeline"]:
        out += [v for v in (t["at"], t["actor"], t["action"], t["comment"]) if v]
    return out


def test_pages_are_a4(rendered, tmp_path):
    _, body = rendered("approved20")
    info = pdf_info(body, tmp_path)
    sizes = re.findall(r"^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", info, re.M)
    assert len(sizes) == page_count(info) >= 2
    for width, height in sizes:
        assert abs(float(width) - 595.3) < 1 and abs(float(height) - 841.9) < 1


@pytest.mark.parametrize("name", ["approved20", "customer", "draft25"])
def test_every_label_value_and_signer_is_printed(rendered, tmp_path, name):
    doc, body = rendered(name)
    text = squeeze(pdf_text(body, tmp_path))
    missing = [v for v in all_values(doc) if squeeze(v) not in text]
    assert not missing


def test_signer_acting_for_another_is_printed_as_such(rendered, tmp_path):
    _, body = rendered("approved20")
    assert "王强代李娜" in squeeze(pdf_text(body, tmp_path))


def test_footer_has_page_x_of_y_and_number_on_every_page(rendered, tmp_path):
    doc, body = rendered("draft25")
    pages = page_count(pdf_info(body, tmp_path))
    for page in range(1, pages + 1):
        text = squeeze(pdf_text(body, tmp_path, page, page))
        assert f"第{page}页/共{pages}页" in text
        assert doc["number"] in text


def test_long_table_repeats_header_and_keeps_rows_whole(rendered, tmp_path):
    doc, body = rendered("draft25")
    pages = page_count(pdf_info(body, tmp_path))
    assert pages >= 3  # the sheet runs over two pages, then the history page
    rows = doc["sections"][1]["items"][0]["rows"]
    page_texts = [squeeze(pdf_text(body, tmp_path, p, p)) for p in range(1, pages + 1)]
    sheet_pages = [t for t in page_texts if any(squeeze(r[0]) in t for r in rows)]
    assert len(sheet_pages) >= 2
    for text in sheet_pages:
        assert "关键评估元素情况" in text and "我们的成功" in text and "客户建议" in text
    for row in rows:  # first and last cell of each row on the same page
        assert any(squeeze(row[0]) in t and squeeze(row[-1]) in t for t in sheet_pages), row[0]


def test_history_is_the_last_page(rendered, tmp_path):
    doc, body = rendered("approved20")
    pages = page_count(pdf_info(body, tmp_path))
    last = squeeze(pdf_text(body, tmp_path, pages, pages))
    assert "信息修改记录/审批记录" in last
    change = doc["revisions"][0]["changes"][0]
    assert squeeze(change["old"]) in last and squeeze(change["new"]) in last
    assert doc["timeline"][-1]["action"] in last
    assert "信息修改记录/审批记录" not in squeeze(pdf_text(body, tmp_path, 1, pages - 1))


def test_record_keeping_block_on_customer_info(rendered, tmp_path):
    _, body = rendered("customer")
    text = squeeze(pdf_text(body, tmp_path))
    for label in ("信息登记日期", "信息录入人", "信息采集人", "信息审核人", "信息审核标记"):
        assert label in text


@pytest.mark.parametrize("name,mark", [("draft25", "草稿"), ("returned", "草稿"), ("submitted", "审批中")])
def test_watermark_on_every_page_until_approved(rendered, tmp_path, name, mark):
    _, body = rendered(name)
    pages = page_count(pdf_info(body, tmp_path))
    for page in range(1, pages + 1):
        assert mark in squeeze(pdf_text(body, tmp_path, page, page))


def test_approved_has_no_watermark(rendered, tmp_path):
    _, body = rendered("approved20")
    text = squeeze(pdf_text(body, tmp_path))
    assert "草稿" not in text and "审批中" not in text


def images(body: bytes, tmp_path) -> list:
    path = tmp_path / "images.pdf"
    path.write_bytes(body)
    out = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True,
                         check=True).stdout
    return out.strip().splitlines()[2:]


def test_qr_and_verify_url_only_when_approved(rendered, tmp_path):
    doc, body = rendered("approved20")
    text = squeeze(pdf_text(body, tmp_path))
    assert doc["verify_url"] in text and doc["content_hash"][:16] in text
    assert len(images(body, tmp_path)) == 1
    for name in ("draft25", "submitted"):
        doc, body = rendered(name)
        assert doc["verify_url"]  # the sample has one; the sheet must not print it yet
        assert doc["verify_url"] not in squeeze(pdf_text(body, tmp_path))
        assert images(body, tmp_path) == []


def test_qr_encodes_the_verify_url():
    from PIL import Image
    import base64
    import io
    uri = pdf.qr_data_uri("http://salestrack.example.cn/verify/BF-2026-0042")
    image = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    assert image.size[0] == image.size[1] and image.size[0] < 60  # one pixel per module


def test_user_text_is_escaped_and_layout_survives(tmp_path):
    doc = visit_report("draft", 3)
    nasty = "<script>alert('x')</script></td></tr></table><b>粗</b>"
    doc["sections"][0]["items"][3]["value"] = nasty  # 拜访对象
    doc["sections"][1]["items"][0]["rows"][0][1] = "</td><td>多出的格"
    html = pdf.render_html(doc)
    assert "<script>" not in html and "&lt;script&gt;" in html
    text = squeeze(pdf_text(pdf.render_pdf(doc), tmp_path))
    assert squeeze(nasty) in text and squeeze("</td><td>多出的格") in text
    # the field after the hostile one still sits in its own labelled cell
    assert "拜访时间2026-11-1814:30" in text


def test_pdf_is_small_and_fonts_are_subset(rendered, tmp_path):
    _, body = rendered("approved4")
    assert len(body) <= 150 * 1024
    path = tmp_path / "fonts.pdf"
    path.write_bytes(body)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True,
                           check=True).stdout.strip().splitlines()[2:]
    assert fonts and any("WenQuanYi" in line for line in fonts)
    for line in fonts:
        assert re.search(r"\byes\s+yes\s+yes\b", line), line  # embedded, subset, unicode map


def test_pdf_declares_pdf_a_3b(rendered, tmp_path):
    _, body = rendered("approved4")
    path = tmp_path / "meta.pdf"
    path.write_bytes(body)
    meta = subprocess.run(["pdfinfo", "-meta", str(path)], capture_output=True, text=True,
                          check=True).stdout
    assert re.search(r"pdfaid:part[>=\"']+3", meta) and re.search(r"pdfaid:conformance[>=\"']+B", meta)


def test_per_sheet_template_can_extend_the_generic_one():
    env = pdf.jinja_env()
    override = env.from_string(
        '{% extends "pdf/sheet.html" %}{% block header %}<p class="custom">定制页眉</p>{% endblock %}')
    html = override.render(**pdf.template_context(visit_report("draft", 2)))
    assert "定制页眉" in html and "拜访对象" in html
    assert pdf.template_for({"sheet": "visit_report"}) == "pdf/sheet.html"
    assert pdf.template_for({"sheet": "../../etc/passwd"}) == "pdf/sheet.html"


def test_templates_render_with_flask():
    flask = pytest.importorskip("flask")
    app = flask.Flask("salestrack", root_path=str(pdf.PACKAGE_DIR))
    doc = visit_report("approved", 2)
    doc["sections"][0]["items"][3]["value"] = "<i>王总</i>"
    with app.app_context():
        html = flask.render_template("pdf/sheet.html", **pdf.template_context(doc))
    assert "拜访对象" in html and "&lt;i&gt;王总" in html and 'class="qr"' in html


def test_undefined_optional_keys_do_not_break_rendering():
    doc = {"title": "电话记录表", "number": "DH-2026-0001", "sheet": "phone_log", "status": "draft",
           "header": [], "sections": [{"title": "", "items": [
               {"type": "table", "label": "电话记录", "columns": ["序号", "时间"], "rows": []}]}]}
    html = pdf.render_html(doc)
    assert "电话记录表" in html and "（无）" in html
