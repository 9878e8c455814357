"""Whatever is posted to a sheet's pages (any text in any input, inputs that
do not exist, rows at any index, drafts and submissions, stale versions),
the answer is a page or a message, never a server error."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from salestrack import operations
from salestrack.formkit import registry
from salestrack.formkit.spec import Table
from tests.formkit.formkit_samples import input_names
from tests.sheet_samples import make_world, new_url

SPECS = registry.all_specs()

ANY_TEXT = st.text(max_size=40)  # every code point but surrogates, control characters included
LONG_TEXT = st.builds(lambda ch, n: ch * n, st.characters(exclude_categories=("Cs",)), st.integers(400, 11000))
LIKELY = st.sampled_from([
    "", " ", "0", "-1", "1", "2", "12.345", "1e9", "NaN", "１２", "99999999999999999999", "999999999999999999",
    "2026-02-30", "2026-03-05", "2026-03-05T14:30", "09:30", "25:61", "其他", "VIP", "A类客户", "出差", "1,2",
    "1,999999999999999999", "\x00", "\r\n", "<script>alert(1)</script>", "{{ 7*7 }}", "' OR 1=1 --",
])
VALUE = st.one_of(ANY_TEXT, LIKELY, LONG_TEXT)


def names(spec):
    """Input names of the sheet, cells at any row index, and names it does not have."""
    known = input_names(spec, rows=2) + [f.key for f in spec.source_fields()] + \
        [f"{f.key}__upload" for f in spec.fields() if f.kind == "files"] + ["version", "action", "_field"]
    cells = [st.builds(lambda i, t=t, c=c: f"{t.key}-{i}-{c.key}", st.integers(0, 10**9))
             for t in spec.tables() for c in t.columns]
    return st.one_of(st.sampled_from(known), st.text(max_size=20), *cells)


def submissions(spec):
    return st.dictionaries(names(spec), st.lists(VALUE, min_size=1, max_size=3), max_size=12)


@pytest.fixture
def world(factory, login):
    world = make_world(factory)
    login(world.rep)
    return world


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.key)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), action=st.sampled_from(["draft", "submit", "", "删除"]))
def test_any_post_to_any_sheet_is_answered_without_a_server_error(client, world, spec, data, action):
    if not hasattr(world, "record"):
        on_customer = spec.filed_on == "customer"
        world.record = operations.create_record(world.rep, None if on_customer else world.project, spec, {},
                                                customer=world.customer if on_customer else None)
    submitted = data.draw(submissions(spec), label="form")
    body = MultiDict([(name, v) for name, values in submitted.items() for v in values])
    body.setlist("action", [action])

    response = client.post(new_url(world.project, spec), data=body)
    assert response.status_code < 500
    assert response.status_code in (302, 400), response.status_code

    response = client.post(f"/records/{world.record.id}/edit", data=body)
    assert response.status_code < 500

    name = data.draw(st.one_of(st.sampled_from(sorted(submitted) or ["date"]), names(spec)), label="checked")
    check = client.post(f"/sheets/{spec.key}/check", data=body,
                        headers={"HX-Trigger-Name": name} if name.isascii() and name.isprintable() else {})
    assert check.status_code in (200, 400)

    table = next(iter(spec.tables()), None)
    if isinstance(table, Table):
        index = data.draw(st.one_of(st.integers(-5, 20000), st.text(max_size=5)), label="row index")
        assert client.get(f"/sheets/{spec.key}/rows/{table.key}", query_string={"index": index}).status_code < 500
