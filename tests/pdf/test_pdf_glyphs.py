"""Every character a user can type prints: the font stack draws rare CJK names
and emoji, a character no font has is refused next to its field on save and
submit, and a document holding one is never sealed."""
import re

import pytest

from salestrack import pdf, pdf_env
from salestrack.formkit import registry
from salestrack.formkit.printable import printable
from salestrack.formkit.spec import Table

from glyph_check import drawn_and_boxes, emoji_font_chars
from tests.sheet_samples import html, make_world, new_url

# Final approvals are sealed by the job queue: its worker runs beside the app, as in production.
pytestmark = pytest.mark.usefixtures("worker")

SPECS = registry.all_specs()
RARE = "𠮷野 刘䶮 王㛃 👍"  # CJK Ext-B, Ext-A names and an emoji typed on a phone
NO_FONT = "\U000F0001"  # a private-use character no installed font draws


OTHER_NOTE = "现场安装指导"
SAMPLE_VALUES = {
    "int": lambda f, i: i + 1, "date": lambda f, i: "2026-12-03", "time": lambda f, i: "14:30",
    "datetime": lambda f, i: "2026-12-03T14:30",
    "choice": lambda f, i: f.choices[0],
    "checks": lambda f, i: {"values": [f.choices[0], *(["其他"] if "其他" in f.choices[1:] else [])],
                            "other": OTHER_NOTE if "其他" in f.choices[1:] else ""},
}


def stress_record(spec, rows: int = 40, text_chars: int = 10_000) -> dict:
    """The sheet filled with rare names in every text, 40-row tables and
    10,000-character text in its free-text fields (a table's free-text cells get a sentence)."""
    long_text = (RARE + "，客户现场沟通记录。" * 1000)[:text_chars]

    def value(field, i=0, cell=False):
        if field.kind == "textarea":
            return f"{RARE}，第 {i + 1} 次电话沟通，客户同意安排技术交流。" if cell else long_text
        if field.kind in ("text", "contact"):  # a person typed, not picked, is text
            return "0510-85216688" if field.print_as == "unbroken" else f"{RARE} {i + 1}"
        return SAMPLE_VALUES.get(field.kind, lambda f, i: None)(field, i)
    data = {}
    for item in spec.items():
        if isinstance(item, Table):
            data[item.key] = [{c.key: value(c, i, cell=True) for c in item.columns} for i in range(rows)]
        else:
            data[item.key] = value(item)
    return {"number": "DH-2026-0001", "sheet": spec.key, "status": "approved",
            "author_name": "𠮷野太郎", "data": data}


def test_css_font_stack_is_the_checked_stack_and_installed():
    css = (pdf.STATIC_DIR / "css" / "pdf.css").read_text()
    stacks = {tuple(f.strip().strip('"') for f in m.split(",")) for m in re.findall(r"font-family:\s*([^;]+);", css)
              if "," in m}
    assert stacks == {(*pdf_env.FONT_FAMILIES, "Sheet Emoji", "sans-serif")}
    emoji = re.search(r'@font-face\s*{[^}]*font-family:\s*"Sheet Emoji";[^}]*src:\s*local\("([^"]+)"\);'
                      r'[^}]*unicode-range:\s*([^;]+);', css)
    assert emoji and emoji.groups() == (pdf_env.EMOJI_FAMILY, pdf_env.emoji_unicode_range())
    assert [f for f in (*pdf_env.FONT_FAMILIES, pdf_env.EMOJI_FAMILY) if pdf_env.font_file(f) is None] == [], \
        "install fonts-noto-cjk fonts-hanazono fonts-noto-color-emoji (bin/setup does)"


def test_rare_names_and_emoji_are_printable_and_a_private_character_is_not():
    assert pdf_env.missing_glyphs(RARE + "👍🏻❤️\n\t") == []
    assert pdf_env.missing_glyphs(f"张{NO_FONT}三{NO_FONT}") == [NO_FONT]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.key)
def test_every_sheet_prints_every_glyph_of_rare_names_40_rows_and_long_text(spec, tmp_path):
    doc = printable(spec, stress_record(spec))
    doc["verify_url"] = "http://127.0.0.1:5000/verify/DH-2026-0001"
    body = pdf.render_pdf(doc)
    drawn, boxes = drawn_and_boxes(body)
    assert boxes == set(), f"printed as empty boxes: {sorted(boxes)}"
    missing = set(RARE.replace(" ", "")) - drawn
    assert missing == set(), f"not drawn with a glyph: {sorted(missing)}"
    assert emoji_font_chars(body) <= {"👍"}, "only emoji may be drawn with the colour emoji font"


def test_a_document_with_an_unprintable_character_is_never_sealed(seal):
    spec = registry.get("phone_log")
    record = stress_record(spec, rows=2, text_chars=50)
    doc = printable(spec, record)
    doc["sections"][0]["items"][0]["value"] = f"王{NO_FONT}"
    with pytest.raises(pdf.MissingGlyphs) as caught:
        pdf.final_pdf(doc, *seal)
    assert caught.value.chars == [NO_FONT]
    assert "U+F0001" in str(caught.value)


def _first_text_input(spec, kinds=("text", "textarea")):
    """The first typed input of the sheet; a person's name typed in a contact
    input when the sheet has no other (客户内部与采购有关人的角色与态度)."""
    for item in spec.items():
        if isinstance(item, Table):
            printed = item.label_column if item.fixed(0) and not item.fixed(0).typed else None
            for col in item.columns:
                if col.kind in kinds and col.key != printed:  # a preprinted label is not typed
                    return f"{item.key}-0-{col.key}"
        elif item.kind in kinds and not item.source:
            return item.key
    return None if "contact" in kinds else _first_text_input(spec, ("contact",))


@pytest.mark.parametrize("action", ["draft", "submit"])
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.key)
def test_saving_a_character_no_font_draws_says_so_next_to_the_field(client, factory, login, spec, action):
    world = make_world(factory)
    login(world.rep)
    filled = world.fill(spec)
    name = _first_text_input(spec)
    assert name, f"{spec.key}: no text input"
    typed = f"王{NO_FONT}（客户）{RARE}"
    filled.replace(name, typed)
    response = client.post(new_url(world.project, spec), data=filled.post_data(action))
    assert response.status_code == 400
    page = html(response)
    message = page.get_element_by_id(f"{name}-error").text_content()
    assert "U+F0001" in message and "空框" in message
    assert page.get_element_by_id(name).get("aria-invalid") == "true"
    kept = page.get_element_by_id(name)
    assert typed in (kept.text_content() if kept.tag == "textarea" else kept.get("value"))


def test_approving_a_sheet_stored_with_an_unprintable_character_is_refused_and_nothing_sealed(app, factory):
    """Text saved before the check existed can still hold such a character: the
    final signature is refused with the reason, and nothing is archived."""
    import sqlalchemy as sa
    from sqlalchemy.orm.attributes import flag_modified

    from salestrack import operations
    from salestrack.extensions import db
    from salestrack.models import ArchivedPdf
    from tests.archive_helpers import approve, file_sheet, make_people
    people = make_people(factory)
    spec = registry.get("phone_log")
    record, _ = file_sheet(factory, people, spec, rows=1)
    record.data["calls"][0]["content"] = f"客户王{NO_FONT}来电"
    flag_modified(record, "data")
    db.session.commit()
    with pytest.raises(operations.OperationError) as refused:
        approve(record, spec, people.author)
    assert "U+F0001" in refused.value.message and "退回" in refused.value.message
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ArchivedPdf)) == 0
    assert db.session.get(type(record), record.id).status != "approved"
