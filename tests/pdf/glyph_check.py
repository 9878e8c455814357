"""Which characters a PDF really draws: read from its embedded fonts' ToUnicode maps."""
import io
import re

from pyhanko.pdf_utils.reader import PdfFileReader

_BFCHAR = re.compile(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>")


def drawn_and_boxes(pdf_bytes: bytes) -> tuple[set[str], set[str]]:
    """(characters drawn with a real glyph, characters drawn as .notdef — an empty box)."""
    drawn, boxes = set(), set()
    for _, cid, text in _mapped(pdf_bytes):
        (boxes if cid == 0 else drawn).update(text)
    return drawn, boxes - {"\uffff"}  # WeasyPrint maps .notdef to U+FFFF in every font


def emoji_font_chars(pdf_bytes: bytes) -> set[str]:
    """The characters drawn with a colour emoji font."""
    return {ch for font, cid, text in _mapped(pdf_bytes) if "Emoji" in font and cid for ch in text}


def _mapped(pdf_bytes: bytes):
    """(font name, glyph id, text) for every glyph of every font's ToUnicode map."""
    reader = PdfFileReader(io.BytesIO(pdf_bytes), strict=False)
    seen = set()
    for page_ref in _pages(reader.root["/Pages"]):
        fonts = page_ref["/Resources"].get("/Font")
        fonts = fonts.get_object() if fonts is not None else {}
        for font in fonts.values():
            font = font.get_object()
            if "/ToUnicode" not in font or id(font) in seen:
                continue
            seen.add(id(font))
            cmap = font["/ToUnicode"].get_object().data.decode("latin-1")
            for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S):
                for cid, uni in _BFCHAR.findall(block):
                    yield str(font.get("/BaseFont")), int(cid, 16), bytes.fromhex(uni).decode("utf-16-be", "replace")


def _pages(node):
    node = node.get_object()
    if node.get("/Type") == "/Page":
        yield node
        return
    for kid in node["/Kids"]:
        yield from _pages(kid)
