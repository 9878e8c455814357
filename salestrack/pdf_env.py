"""Start-up checks for what fast, correct Chinese PDFs need on this machine,
and the glyph coverage of the fonts the printed sheets use."""
import ctypes.util
import functools
import subprocess  # nosec B404 # runs fc-list and fc-match only, with fixed arguments
import unicodedata

CJK_FAMILIES = ("WenQuanYi Micro Hei", "Noto Sans CJK SC")

# The printed sheets' font stack, in the order of pdf.css's font-family: the
# department's usual face, then the fonts that draw what it lacks — CJK
# Extension A/B names (Noto Sans CJK SC, HanaMinA/HanaMinB from Debian
# fonts-noto-cjk and fonts-hanazono) — and last the emoji typed on phones
# (fonts-noto-color-emoji), declared in pdf.css as "Sheet Emoji" with a
# unicode-range: listed plainly (or as "Emoji", a fontconfig alias of it),
# Pango draws digits with it as colour images.
# A test keeps pdf.css in step with these.
FONT_FAMILIES = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "HanaMinA", "HanaMinB")
EMOJI_FAMILY = "Noto Color Emoji"
EMOJI_RANGES = ((0x200D, 0x200D), (0x20E3, 0x20E3), (0x2300, 0x23FF), (0x2600, 0x27BF), (0x2B00, 0x2BFF),
                (0xFE0F, 0xFE0F), (0x1F000, 0x1FAFF), (0xE0020, 0xE007F))


def emoji_unicode_range() -> str:
    """EMOJI_RANGES as a CSS unicode-range value ('U+200D, U+2300-23FF, …')."""
    return ", ".join(f"U+{a:X}" if a == b else f"U+{a:X}-{b:X}" for a, b in EMOJI_RANGES)

# Code points that shape other characters and draw nothing themselves:
# zero-width joiner/non-joiner, variation selectors, emoji tag characters.
_INVISIBLE = ({0x200C, 0x200D, 0x20E3} | set(range(0xFE00, 0xFE10)) | set(range(0xE0100, 0xE01F0))
              | set(range(0xE0020, 0xE0080)))


def cjk_font_family() -> str | None:
    """The first Simplified Chinese font family fontconfig knows, if any."""
    try:
        out = subprocess.run(["fc-list", ":lang=zh-cn", "family"], capture_output=True,  # nosec B603 B607 # fixed command
                             text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for family in CJK_FAMILIES:
        if family in out:
            return family
    return None


def harfbuzz_subset_available() -> bool:
    return ctypes.util.find_library("harfbuzz-subset") is not None


def font_file(family: str) -> tuple[str, int] | None:
    """(file path, face index in a collection) of the regular face fontconfig
    uses for ``family``; None when the family is not installed."""
    try:
        query = ["fc-match", "-f", "%{family}\t%{file}\t%{index}", f"{family}:style=Regular"]
        out = subprocess.run(query, capture_output=True, text=True, timeout=10).stdout  # nosec B603 B607 # fixed command
    except (OSError, subprocess.SubprocessError):
        return None
    names, _, rest = out.partition("\t")
    path, _, index = rest.partition("\t")
    if family not in names.split(",") or not path:
        return None
    return path, int(index or 0)


@functools.lru_cache(maxsize=1)
def printable_codepoints() -> frozenset:
    """Every code point some font of FONT_FAMILIES maps to a glyph, and those
    of EMOJI_FAMILY within EMOJI_RANGES (read with fontTools from the font
    files' cmaps). Computed once per process (~0.5 s)."""
    from fontTools.ttLib import TTFont

    points = set()
    for family in (*FONT_FAMILIES, EMOJI_FAMILY):
        found = font_file(family)
        if found is None:
            continue
        path, index = found
        font = TTFont(path, fontNumber=index, lazy=True)
        try:
            cmap = font.getBestCmap() or {}
        finally:
            font.close()
        if family == EMOJI_FAMILY:
            cmap = [cp for cp in cmap if any(a <= cp <= b for a, b in EMOJI_RANGES)]
        points.update(cmap)
    return frozenset(points)


def missing_glyphs(text: str) -> list[str]:
    """The distinct characters of ``text`` that no configured font can draw, in
    order of first appearance. Whitespace, control characters and joiners
    (which draw nothing) are never missing."""
    if not text or text.isascii():
        return []
    points = printable_codepoints()
    missing = []
    for ch in text:
        cp = ord(ch)
        if cp < 0x80 or cp in points or cp in _INVISIBLE or ch in missing:
            continue
        if ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Mn"):
            continue
        missing.append(ch)
    return missing


def missing_glyph_message(missing: list[str]) -> str:
    """The field message for characters that would print as empty boxes."""
    shown = "、".join(f"「{ch}」(U+{ord(ch):04X})" for ch in missing[:5])
    more = f" 等 {len(missing)} 个字符" if len(missing) > 5 else ""
    return f"含有打印字体中没有的字符 {shown}{more}，打印和归档时会显示为空框：请改用其他写法或删除"


def warn_if_pdf_prerequisites_missing(log) -> None:
    if cjk_font_family() is None:
        log.warning("No Simplified Chinese font found (install fonts-wqy-microhei or "
                    "fonts-noto-cjk): PDFs will show empty boxes instead of Chinese text.")
    absent = [family for family in (*FONT_FAMILIES, EMOJI_FAMILY) if font_file(family) is None]
    if absent:
        log.warning("Fonts of the PDF stack are missing (%s; install fonts-noto-cjk, fonts-hanazono, "
                    "fonts-noto-color-emoji): characters only they draw are refused on save.",
                    ", ".join(absent))
    if not harfbuzz_subset_available():
        log.warning("libharfbuzz-subset0 is not installed: each Chinese PDF will take "
                    "seconds instead of ~0.1 s to render.")
