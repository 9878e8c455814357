"""Whatever is typed into any input of any sheet, the engine answers with
validation messages, never an exception, and stores only hashable JSON."""
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from formkit_samples import USER_NAMES, USERS, input_names
from salestrack.formkit import (build_form, content_hash, diff, errors, form_data, printable, registry,
                                validate_field)

ANY_TEXT = st.text(st.characters(codec=None, categories=None), max_size=40)
LIKELY = st.sampled_from(["", " ", "0", "-1", "12.345", "2026-02-30", "2026-03-05", "09:30", "其他",
                          "1,2", "1e9", "１２", "\x00", "\ud800", "NaN", "99999999999999999999"])
VALUE = st.one_of(ANY_TEXT, LIKELY)


def submissions(spec):
    names = input_names(spec, rows=2) + [f"{t.key}-{i}-{c.key}" for t in spec.tables()
                                          for i in (7, 123456) for c in t.columns[:1]]
    values = st.lists(VALUE, min_size=1, max_size=3)
    return st.dictionaries(st.sampled_from(names), values, max_size=len(names))


@pytest.mark.parametrize("spec", registry.all_specs(), ids=lambda s: s.key)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), draft=st.booleans())
def test_any_text_in_any_input_never_raises(spec, data, draft):
    submitted = data.draw(submissions(spec))
    formdata = MultiDict([(name, v) for name, values in submitted.items() for v in values])
    form = build_form(spec, formdata, users=USERS, draft=draft)
    ok = form.validate()
    problems = errors(form)
    assert ok == (problems == {})
    assert all(isinstance(m, str) and m for messages in problems.values() for m in messages)
    for name, values in submitted.items():
        assert isinstance(validate_field(spec, name, values, draft=draft, users=USERS), list)
    str(form[next(iter(form._fields))]())
    if ok:
        stored = form_data(spec, form)
        json.loads(json.dumps(stored))
        content_hash(stored)
        printable(spec, {"data": stored}, USER_NAMES)
        diff(spec, {}, stored, USER_NAMES)
        again = build_form(spec, data=stored, users=USERS)
        assert form_data(spec, again) == stored
