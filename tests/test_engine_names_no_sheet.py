"""The engine names no sheet (architecture.md): outside salestrack/forms/ (one
file per sheet), the demo data and the tests, no code, template, script or
stylesheet spells a registered sheet's key. A role a sheet plays is an option
of its definition (FormSpec.worklist, provides, record_block, filed_on,
updates_customer), so the 8th … 28th sheet takes any role without an engine
change."""
import os
import re

import pytest

from salestrack.formkit import registry
from salestrack.formkit.spec import KINDS

ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "salestrack")
EXEMPT = (os.path.join(ROOT, "forms") + os.sep, os.path.join(ROOT, "demo.py"), os.path.join(ROOT, "demo_scale.py"))
SUFFIXES = (".py", ".html", ".js", ".css", ".txt", ".json")


def _other_words() -> set[str]:
    """Words the engine also uses in another sense (field kinds, field keys):
    a sheet keyed like one of them is looked for only where code compares or
    looks up a sheet, since the word alone could mean the other thing."""
    words = set(KINDS)
    for spec in registry.all_specs():
        for item in spec.items():
            words.add(item.key)
            words.update(col.key for col in getattr(item, "columns", ()))
    return words


def patterns(keys, other_words) -> list[tuple[str, re.Pattern]]:
    """(key, pattern) pairs: a quoted key anywhere, or for an ambiguous key
    only a comparison with or lookup of a sheet."""
    out = []
    for key in keys:
        quoted = rf"""["']{re.escape(key)}["']"""
        if key in other_words:
            out.append((key, re.compile(rf"""(sheet\s*(==|!=|=)\s*{quoted}|{quoted}\s*(==|!=)\s*\w*\.?sheet\b"""
                                        rf"""|registry\.get\(\s*{quoted}|sheet-{re.escape(key)}\b)""")))
        else:
            out.append((key, re.compile(rf"""{quoted}|sheet-{re.escape(key)}\b""")))
    return out


def findings(path: str, text: str, compiled) -> list[str]:
    """'path:line: key' for each line of `text` that names a sheet."""
    hits = []
    for number, line in enumerate(text.splitlines(), 1):
        for key, pattern in compiled:
            if pattern.search(line):
                hits.append(f"{os.path.relpath(path, os.path.dirname(ROOT))}:{number}: {key}")
    return hits


def engine_files():
    for folder, _, names in os.walk(ROOT):
        for name in names:
            path = os.path.join(folder, name)
            if name.endswith(SUFFIXES) and not path.startswith(EXEMPT) and "__pycache__" not in path:
                yield path


def test_no_sheet_key_in_shared_code():
    compiled = patterns([spec.key for spec in registry.all_specs()], _other_words())
    hits = []
    for path in engine_files():
        with open(path, encoding="utf-8") as handle:
            hits += findings(path, handle.read(), compiled)
    assert hits == [], "shared code names a sheet; declare the role in the sheet's definition instead"


@pytest.mark.parametrize("line", [
    'if record.sheet == "handover":',
    "{% if record.sheet == 'handover' and record.impl_status %}",
    'q = sa.select(Record).where(Record.sheet == "contract_review")',
    'spec = registry.get("customer_info")',
])
def test_the_scan_sees_a_sheet_named_in_code(line):
    keys = [spec.key for spec in registry.all_specs()]
    assert findings(os.path.join(ROOT, "x.py"), line, patterns(keys, _other_words()))


def test_an_ambiguous_key_is_caught_where_it_names_a_sheet_and_only_there():
    compiled = patterns(["contact"], {"contact"})
    assert findings(os.path.join(ROOT, "x.py"), 'if record.sheet == "contact":', compiled)
    assert findings(os.path.join(ROOT, "x.py"), 'registry.get("contact")', compiled)
    assert not findings(os.path.join(ROOT, "x.py"), 'KINDS = ("text", "contact")', compiled)
