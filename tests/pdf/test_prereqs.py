"""The machine can make Chinese PDFs quickly (fails loudly, before anything else looks odd)."""
from salestrack import pdf_env


def test_cjk_font_installed():
    assert pdf_env.cjk_font_family() is not None, (
        "No Simplified Chinese font: install fonts-wqy-microhei (or fonts-noto-cjk); "
        "without it every Chinese character prints as an empty box.")


def test_harfbuzz_subset_installed():
    assert pdf_env.harfbuzz_subset_available(), (
        "libharfbuzz-subset0 is missing: install it, or each Chinese PDF takes seconds "
        "instead of a fraction of a second to render.")
