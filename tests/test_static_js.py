"""The page script parses: one syntax error in salestrack/static/js/app.js
silently turns off every behaviour it wires (confirmations, one click one
act, live totals, phone cards)."""
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "salestrack" / "static" / "js" / "app.js"


def test_app_js_parses():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (bin/setup needs it for npm)")
    result = subprocess.run([node, "--check", str(SCRIPT)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
