"""A sealed PDF is still PDF/A-3b. No independent validator installs from the
registries here (veraPDF is not packaged for Debian, PyPI or npm), so each rule
the seal could break is checked on the sealed file itself: the version, the
Info dictionary agreeing with XMP, every font embedded, the output intent."""
import io
import re

import pytest

from salestrack import pdf
from salestrack.formkit import registry
from salestrack.formkit.printable import printable

from pyhanko.pdf_utils.reader import PdfFileReader


@pytest.fixture(scope="module")
def sealed_rare(seal):
    """A sealed sheet printing rare CJK names and an emoji (fonts beyond the first family)."""
    from test_pdf_glyphs import stress_record
    spec = registry.get("visit_report")
    doc = printable(spec, stress_record(spec, rows=3, text_chars=200))
    return pdf.final_pdf(doc, *seal)


def _reader(body):
    return PdfFileReader(io.BytesIO(body), strict=False)


def _xmp(reader) -> str:
    return reader.root["/Metadata"].get_object().data.decode("utf-8")


def _xmp_value(xmp: str, name: str) -> str | None:
    found = re.search(rf'<{name}(?:\s[^>]*)?>(.*?)</{name}>', xmp, re.S) or re.search(rf'{name}="([^"]*)"', xmp)
    if not found:
        return None
    inner = re.search(r"<rdf:li[^>]*>(.*?)</rdf:li>", found.group(1), re.S)
    return (inner.group(1) if inner else found.group(1)).strip()


@pytest.fixture(params=["sealed", "sealed_rare"])
def body(request):
    return request.getfixturevalue(request.param)


def test_sealed_file_declares_pdf_1_7_only(body):
    reader = _reader(body)
    assert body.startswith(b"%PDF-1.7")
    assert reader.root.get("/Version") in (None, "/1.7", "/1.4", "/1.5", "/1.6")
    for extension in (reader.root.get("/Extensions") or {}).values():
        for ext in (extension if isinstance(extension, list) else [extension]):
            assert str(ext.get_object()["/BaseVersion"]) <= "/1.7", ext


def test_sealed_file_identifies_as_pdfa_3b_and_info_agrees_with_xmp(body):
    reader = _reader(body)
    xmp = _xmp(reader)
    assert _xmp_value(xmp, "pdfaid:part") == "3" and _xmp_value(xmp, "pdfaid:conformance") == "B"
    info = reader.trailer_view["/Info"].get_object()
    pairs = {"/Producer": "pdf:Producer", "/Title": "dc:title", "/Author": "dc:creator",
             "/Creator": "xmp:CreatorTool", "/Keywords": "pdf:Keywords", "/Subject": "dc:description"}
    for key, value in info.items():
        if key in pairs:
            assert _xmp_value(xmp, pairs[key]) == str(value), (key, str(value), _xmp_value(xmp, pairs[key]))
    assert "salestrack" not in str(info.get("/Author", ""))


def test_every_font_of_the_sealed_file_is_embedded(body):
    reader = _reader(body)
    seen = 0
    for page in _pages(reader.root["/Pages"]):
        fonts = page["/Resources"].get("/Font")
        for font in (fonts.get_object() if fonts is not None else {}).values():
            font = font.get_object()
            for face in [f.get_object() for f in font.get("/DescendantFonts", [])] or [font]:
                descriptor = face["/FontDescriptor"].get_object()
                assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), face["/BaseFont"]
                seen += 1
    assert seen >= 1


def test_sealed_file_keeps_its_output_intent(body):
    intents = _reader(body).root["/OutputIntents"]
    pdfa = [i.get_object() for i in intents if i.get_object()["/S"] == "/GTS_PDFA1"]
    assert len(pdfa) == 1 and "/DestOutputProfile" in pdfa[0]
    assert pdfa[0]["/DestOutputProfile"].get_object().data[36:40] == b"acsp"  # an ICC profile


def _pages(node):
    node = node.get_object()
    if node.get("/Type") == "/Page":
        yield node
        return
    for kid in node["/Kids"]:
        yield from _pages(kid)
