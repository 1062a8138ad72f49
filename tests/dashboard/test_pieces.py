"""Pure pieces of the dashboard: filter compilation, URL state, size units, diffs, redaction."""

from django.http import QueryDict

from dashboard.diffs import Change, changed_fields, diff
from dashboard.filters import ListState, parse_state, quote
from dashboard.templatetags.dashboard import redact
from dashboard.units import human_bytes, parse_size, split_size


def state_of(query: str) -> tuple[ListState, dict]:
    return parse_state(QueryDict(query))


def test_quote_escapes_backslash_and_double_quote():
    assert quote('a"b\\c') == '"a\\"b\\\\c"'


def test_filter_compiles_every_condition_joined_by_and():
    state, errors = state_of(
        "name=web&name_op=eq&family=web-app&status=READY&status=ERROR&labels=env%3Dprod+team%3Dweb"
    )
    assert errors == {}
    assert state.api_filter() == (
        'name = "web" AND family = "web-app" AND status IN ("READY", "ERROR") '
        'AND labels.env = "prod" AND labels.team = "web"'
    )


def test_name_filter_supports_not_equal_and_any_of():
    assert state_of("name=web&name_op=ne")[0].api_filter() == 'name != "web"'
    assert state_of("name=a,+b+c&name_op=in")[0].api_filter() == 'name IN ("a", "b", "c")'


def test_name_filter_contains_by_default_and_keeps_that_out_of_the_url():
    state, errors = state_of("name=Deb")
    assert errors == {} and state.name_op == "contains"
    assert state.api_filter() == 'name:"deb"'
    assert state.query() == "?name=Deb"


def test_name_filter_starts_with_is_a_prefix_search():
    state, errors = state_of("name=deb-&name_op=prefix")
    assert errors == {} and state.api_filter() == 'name:"deb-*"'
    assert parse_state(QueryDict(state.query()[1:]))[0] == state


def test_a_search_text_may_be_any_part_of_a_name_but_not_hold_a_star():
    assert state_of("name=-web")[1] == {}
    assert "*" in state_of("name=we*b")[1]["name"]
    assert "*" in state_of("name=web*&name_op=prefix")[1]["name"]


def test_a_bare_label_key_means_has_that_key():
    state, errors = state_of("labels=env%3Dprod+team+owner%3D")
    assert errors == {}
    assert state.api_filter() == 'labels.env = "prod" AND labels.team:* AND labels.owner = ""'


def test_single_status_uses_equality():
    assert state_of("status=READY")[0].api_filter() == 'status = "READY"'


def test_unknown_status_sort_and_size_fall_back_to_defaults():
    state, errors = state_of("status=BOGUS&sort=evil&size=7")
    assert (state.statuses, state.sort, state.size) == ((), "-created", 50)
    assert state.api_filter() == "" and state.order_by() == "createdAt desc"


def test_the_list_opens_newest_first_and_keeps_that_out_of_the_url():
    state, _ = state_of("")
    assert state.order_by() == "createdAt desc" and state.query() == ""
    assert state.sorted_by("created").query() == "?sort=created"
    assert state.sorted_by("created").sorted_by("created").query() == ""


def test_bad_filter_values_get_early_messages_from_the_rules():
    _, errors = state_of("name=Web&name_op=eq&family=x_y&labels=Env%3Dprod")
    assert set(errors) == {"name", "family", "labels"}
    assert "lowercase letter" in errors["name"]
    assert "Env" in errors["labels"]


def test_state_round_trips_through_the_query_string():
    state, _ = state_of("name=web&status=READY&sort=-created&size=10&page=t2&after=t1")
    again, _ = parse_state(QueryDict(state.query()[1:]))
    assert again == state
    assert state.page == "t2" and state.after == "t1"


def test_a_page_link_carries_one_token_and_the_page_it_came_from():
    state = ListState(size=10)
    third = state.at_page("t2", "t1")
    assert third.query() == "?size=10&page=t2&after=t1"
    assert third.at_page("t1").query() == "?size=10&page=t1"
    assert third.first_page() == state


def test_sorting_cycles_ascending_descending_default_and_resets_pages():
    state = ListState(page="t", after="")
    assert state.sorted_by("name").sort == "name"
    assert state.sorted_by("name").page == ""
    assert state.sorted_by("name").sorted_by("name").sort == "-name"
    assert state.sorted_by("name").sorted_by("name").sorted_by("name").sort == "-created"
    assert ListState(sort="-created").order_by() == "createdAt desc"


def test_defaults_stay_out_of_the_url():
    assert ListState().query() == ""


def test_sizes_in_binary_units():
    assert human_bytes(0) == "0 B"
    assert human_bytes(1536) == "1.5 KiB"
    assert human_bytes(8 * 1024**3) == "8 GiB"
    assert parse_size("1.5", "GiB") == 1536 * 1024**2
    assert split_size(2 * 1024**3) == ("2", "GiB")
    assert split_size(0) == ("", "GiB")
    assert split_size(1536 * 1024**2) == ("1536", "MiB")


def test_parse_size_rejects_non_numbers_and_fractions_of_a_byte():
    for number, unit in (("abc", "GiB"), ("-1", "GiB"), ("0.3", "B"), ("1", "XB"), ("nan", "GiB")):
        try:
            parse_size(number, unit)
        except ValueError:
            continue
        raise AssertionError(f"{number} {unit} was accepted")


def test_diff_reports_labels_added_removed_changed_and_sizes():
    old = {
        "labels": {"a": "1", "b": "2"},
        "min_disk_size": 4 * 1024**3,
        "description": "x",
        "product_ids": ["p1"],
    }
    new = {
        "labels": {"b": "3", "c": "4"},
        "min_disk_size": 8 * 1024**3,
        "description": "x",
        "product_ids": ["p2"],
    }
    changes = diff(old, new)
    assert Change("labels", "Label a", "removed", old="1") in changes
    assert Change("labels", "Label b", "changed", "2", "3") in changes
    assert Change("labels", "Label c", "added", new="4") in changes
    assert any(c.field == "min_disk_size" and "8 GiB" in c.new for c in changes)
    assert {c.kind for c in changes if c.field == "product_ids"} == {"added", "removed"}
    assert changed_fields(old, new) == ["labels", "min_disk_size", "product_ids"]


def test_redact_drops_query_strings_of_addresses():
    text = "fetch https://bucket.example/img.qcow2?X-Amz-Signature=secret failed"
    assert redact(text) == "fetch https://bucket.example/img.qcow2?… failed"
    assert "secret" not in redact(text)


def test_python_rendered_rows_escape_every_value(db):
    from dashboard.presenters import ImageView
    from dashboard.rows import image_rows

    evil = '<script>alert("x")</script>'
    image = ImageView(
        id='fd8"><b>',
        folder_id="f",
        name=evil,
        description="",
        family="fam-ily",
        labels={evil: evil},
        status="READY",
        os=evil,
        storage_size=1,
        min_disk_size=0,
        size=0,
        product_ids=[],
        pooled=False,
        created_at=None,
    )
    html = image_rows([image], selectable=True)
    assert "<script>" not in html and '"><b>' not in html
    assert html.count("&lt;script&gt;") == 5  # aria-label, name, OS, label key, label value


def test_pager_partial_links_both_ways_with_escaped_urls_and_no_nav_on_a_single_page():
    from django.template.loader import render_to_string

    from dashboard.pager import Pager

    pager = Pager(number=2, prev_url="/f?a=1&b=<x>", next_url="/f?n=2", first_url="")
    html = render_to_string("partials/pager.html", {"target": "#families", "pager": pager})
    assert 'href="/f?a=1&amp;b=&lt;x&gt;"' in html
    assert 'hx-get="/f?n=2" hx-target="#families"' in html
    assert "Page 2" in html
    single = Pager(number=1, prev_url="", next_url="", first_url="")
    assert "<nav" not in render_to_string("partials/pager.html", {"target": "#families", "pager": single})
