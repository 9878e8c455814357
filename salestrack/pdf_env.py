"""Start-up checks for what fast, correct Chinese PDFs need on this machine."""
import ctypes.util
import subprocess  # nosec B404 # runs fc-list only, with fixed arguments

CJK_FAMILIES = ("WenQuanYi Micro Hei", "Noto Sans CJK SC")


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


def warn_if_pdf_prerequisites_missing(log) -> None:
    if cjk_font_family() is None:
        log.warning("No Simplified Chinese font found (install fonts-wqy-microhei or "
                    "fonts-noto-cjk): PDFs will show empty boxes instead of Chinese text.")
    if not harfbuzz_subset_available():
        log.warning("libharfbuzz-subset0 is not installed: each Chinese PDF will take "
                    "seconds instead of ~0.1 s to render.")
