"""The paper's look: landscape where the paper is wide, columns as wide as
their content (dates and phone numbers never split), every option of a choice
with ☑/☐, the record-keeping block's labels once and in the paper's order,
long rows continuing on the next page, files named in the revision history."""
import re

import pytest

from salestrack import pdf
from salestrack.formkit import registry
from salestrack.formkit.printable import printable
from salestrack.formkit.spec import Table

from pdf_helpers import pdf_info, pdf_text, squeeze
from test_pdf_glyphs import OTHER_NOTE, stress_record

# Final approvals are sealed by the job queue: its worker runs beside the app, as in production.
pytestmark = pytest.mark.usefixtures("worker")

SPECS = registry.all_specs()


@pytest.fixture(scope="module")
def printed():
    cache = {}

    def get(spec):
        if spec.key not in cache:
            doc = printable(spec, stress_record(spec, rows=12, text_chars=300))
            cache[spec.key] = (doc, pdf.render_pdf(doc))
        return cache[spec.key]
    return get


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.key)
def test_landscape_exactly_where_the_definition_declares_it(spec, printed, tmp_path):
    _, body = printed(spec)
    sizes = set(re.findall(r"Page +\d+ size: +([\d.]+) x ([\d.]+) pts", pdf_info(body, tmp_path)))
    assert sizes, "no page sizes read"
    for width, height in sizes:
        assert (float(width) > float(height)) == spec.landscape, (spec.key, width, height)


@pytest.mark.parametrize("spec", [s for s in SPECS if any(not isinstance(i, Table) and i.kind in ("choice", "checks")
                                                          for i in s.items())], ids=lambda s: s.key)
def test_choice_and_checks_fields_print_every_option_with_boxes(spec, printed, tmp_path):
    _, body = printed(spec)
    text = squeeze(pdf_text(body, tmp_path))
    for field in (i for i in spec.items() if not isinstance(i, Table) and i.kind in ("choice", "checks")):
        assert f"☑{field.choices[0]}" in text, field.key
        for choice in field.choices[1:]:
            if field.kind == "checks" and choice == "其他":
                assert f"☑其他：{OTHER_NOTE}" in text, field.key
            else:
                assert f"☐{choice}" in text, (field.key, choice)


def test_phone_log_columns_keep_dates_and_phone_numbers_whole(printed, tmp_path):
    spec = registry.get("phone_log")
    doc, body = printed(spec)
    text = pdf_text(body, tmp_path)
    table = next(i for s in doc["sections"] for i in s["items"] if i["type"] == "table")
    rows = len(table["rows"])
    assert text.count("0510-85216688") == rows, "a phone number was split"
    assert text.count("2026-12-03") >= 2 * rows, "a date was split"  # 计划下次联络时间 and 完成时间
    widths = dict(zip(table["columns"], table["widths"], strict=True))
    assert widths["序号"] < widths["时间"] < widths["完成时间"] < widths["电话沟通内容"]
    assert widths["电话沟通内容"] >= 4 * widths["序号"]


def test_a_long_row_starts_on_the_page_where_the_table_is(tmp_path):
    spec = registry.get("phone_log")
    record = stress_record(spec, rows=3, text_chars=50)
    record["data"]["calls"][2]["content"] = "长行开始" + "客户详细介绍了二期扩产计划和设备选型要求。" * 160
    body = pdf.render_pdf(printable(spec, record))
    assert "长行开始" in squeeze(pdf_text(body, tmp_path, first=1, last=1)), "the long row moved to the next page"


@pytest.mark.parametrize("spec", [s for s in SPECS if s.tables()], ids=lambda s: s.key)
def test_a_row_of_short_cells_is_never_cut_between_two_pages(spec, tmp_path):
    """Thirty rows of short cells (a two-line 强化对策 …) run over several
    pages: every row is printed whole on one page."""
    record = stress_record(spec, rows=30, text_chars=50)
    marks = {}  # (table, row) → the texts of its cells
    for table in spec.tables():
        typed = [c for c in table.columns if c.kind in ("text", "textarea", "contact")]
        for i, row in enumerate(record["data"][table.key]):
            for col in typed:
                row[col.key] = f"{table.key[:3]}R{i:02d}{col.key[:4]}" + ("\n第二段说明。" if col.kind == "textarea" else "")
            marks[(table.key, i)] = [squeeze(row[col.key]) for col in typed]
    body = pdf.render_pdf(printable(spec, record))
    pages = int(re.search(r"^Pages:\s+(\d+)", pdf_info(body, tmp_path), re.M).group(1))
    assert pages > 1, "the rows fit one page: nothing to check"
    texts = [squeeze(pdf_text(body, tmp_path, first=n, last=n)) for n in range(1, pages + 1)]
    cut = [row for row, cells in marks.items()
           if not any(all(cell in text for cell in cells) for text in texts)]
    assert cut == [], f"rows cut between pages: {cut}"


def test_customer_info_prints_the_record_keeping_labels_once_in_paper_order(app, factory, tmp_path):
    from salestrack.printing import print_document
    from tests.archive_helpers import approve, file_sheet, make_people
    people = make_people(factory)
    spec = registry.get("customer_info")
    record, _ = file_sheet(factory, people, spec, rows=2)
    approve(record, spec, people.author)
    doc = print_document(record)
    text = squeeze(pdf_text(pdf.render_pdf(doc), tmp_path))
    assert text.count("信息采集人") == 1 and len(re.findall("信息登记(?!日期)", text)) == 1
    order = ["信息登记日期", "信息录入人", "信息采集人", "信息审核标记", "信息审核人"]
    positions = [text.index(label) for label in order]
    assert positions == sorted(positions), list(zip(order, positions, strict=True))
    assert people.author.name in text


def test_revision_history_names_the_files_not_their_numbers(app, factory, tmp_path):
    from salestrack.extensions import db
    from salestrack.models import Attachment
    from salestrack.printing import print_document
    from tests.archive_helpers import file_sheet, make_people
    people = make_people(factory)
    spec = next(s for s in SPECS if any(not isinstance(i, Table) and i.kind == "files" for i in s.items()))
    record, _ = file_sheet(factory, people, spec, rows=1)
    files = list(db.session.scalars(db.select(Attachment).where(Attachment.record_id == record.id)))
    assert len(files) >= 2, "the sample sheet uploads two files"
    revision = record.revisions[-1]
    revision.changes = [{"label": "附件", "old": f"附件#{files[0].id}", "new": f"附件#{files[0].id}、附件#{files[1].id}"}]
    db.session.flush()
    text = squeeze(pdf_text(pdf.render_pdf(print_document(record)), tmp_path))
    assert f"附件#{files[1].id}" not in text
    assert squeeze(f"{files[0].filename}、{files[1].filename}") in text


@pytest.mark.parametrize("text_chars", [300, 1200])
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.key)
def test_the_signature_block_never_stands_alone_on_a_page(spec, text_chars, tmp_path):
    """When 审批签核 does not fit under the sheet it takes the block above it
    along: its page always shows some of the sheet's own content first (the
    客户基本信息表 with every field filled left it alone on page 2)."""
    doc = printable(spec, stress_record(spec, rows=12, text_chars=text_chars))
    doc["signatures"] = [{"slot_label": slot["label"], "signer": "李娜", "decision": "同意", "comment": "同意。",
                          "at": "2026-11-03 09:12", "hash": "0f9e8d7c6b5a"} for slot in doc["slots"]]
    body = pdf.render_pdf(doc)
    pages = int(re.search(r"Pages:\s+(\d+)", pdf_info(body, tmp_path)).group(1))
    for number in range(1, pages + 1):
        text = squeeze(pdf_text(body, tmp_path, first=number, last=number))
        if "审批签核" in text:
            before = text[:text.index("审批签核")]
            assert re.search(r"[\u4e00-\u9fff]{2,}", before.replace("编号", "")), \
                f"{spec.key}: 审批签核 starts page {number} alone"
            return
    pytest.fail(f"{spec.key}: no 审批签核 printed")
