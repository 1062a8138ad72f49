"""The List filter and order_by grammar: parsing, error messages, and the queries against real rows."""

import random

import pytest
from django.utils import timezone

from images.errors import InvalidArgument
from images.rules import quoted
from images.store.filters import Condition, Ordering, filter_q, parse_filter, parse_order_by
from images.store.models import Image, ImageStatus


def filter_error(text: str) -> str:
    with pytest.raises(InvalidArgument) as caught:
        parse_filter(text)
    [violation] = caught.value.violations
    assert violation.field == "filter"
    return violation.description


def order_by_error(text: str) -> str:
    with pytest.raises(InvalidArgument) as caught:
        parse_order_by(text)
    [violation] = caught.value.violations
    assert violation.field == "order_by"
    return violation.description


# --- parsing: accepted -------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\t\n"])
def test_empty_filter_means_no_conditions(text):
    assert parse_filter(text) == []


def test_equality_on_name():
    assert parse_filter('name = "web"') == [Condition("name", "=", ("web",))]


def test_whitespace_around_tokens_is_optional():
    expected = [Condition("name", "=", ("web",)), Condition("id", "!=", ("x",))]
    assert parse_filter('name="web"AND id!="x"') == expected
    assert parse_filter('  name \t=\n "web"   and   id  !=  "x"  ') == expected


def test_single_quotes_work_like_double_quotes():
    assert parse_filter("family = 'ubuntu'") == [Condition("family", "=", ("ubuntu",))]


def test_escapes_inside_quoted_values():
    assert parse_filter(r'name = "a\"b\'c\\d"') == [Condition("name", "=", ("a\"b'c\\d",))]
    assert parse_filter(r"name = 'it\'s'") == [Condition("name", "=", ("it's",))]
    assert parse_filter("name = 'say \"hi\"'") == [Condition("name", "=", ('say "hi"',))]


def test_in_and_not_in_lists():
    assert parse_filter('status IN ("READY", "ERROR")') == [Condition("status", "IN", ("READY", "ERROR"))]
    assert parse_filter("id not in ('a')") == [Condition("id", "NOT IN", ("a",))]
    assert parse_filter('family NoT   iN("a","b" , "c")') == [Condition("family", "NOT IN", ("a", "b", "c"))]


def test_keywords_are_case_insensitive():
    assert parse_filter('name = "a" AnD id IN ("b")') == [
        Condition("name", "=", ("a",)),
        Condition("id", "IN", ("b",)),
    ]


def test_label_conditions_carry_their_key():
    [condition] = parse_filter('labels.env/x@y.z_-1 != "prod"')
    assert condition == Condition("labels.env/x@y.z_-1", "!=", ("prod",))
    assert condition.label_key == "env/x@y.z_-1"
    assert Condition("name", "=", ("a",)).label_key is None


def test_values_may_be_empty_or_hold_any_text():
    assert parse_filter('name = ""') == [Condition("name", "=", ("",))]
    assert parse_filter('name = "AND ( ) , = != ключ"') == [Condition("name", "=", ("AND ( ) , = != ключ",))]


def test_many_conditions_with_the_same_field():
    assert len(parse_filter(" AND ".join(['name != "x"'] * 50))) == 50


def test_filter_of_1000_characters_is_parsed_and_1001_rejected():
    text = 'name = "' + "a" * 990 + '"'
    assert len(text + " ") == 1000
    assert parse_filter(text + " ") == [Condition("name", "=", ("a" * 990,))]
    assert filter_error(text + "  ") == "must be at most 1000 characters"


# --- parsing: rejected -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("name =", "unexpected end of input, expected a quoted value"),
        ("name", 'unexpected end of input, expected "=", "!=", "IN" or "NOT IN" after "name"'),
        ('name = "a" AND', "unexpected end of input, expected a field name"),
        ('size = "1"', 'unknown field "size" at position 1; fields are name, id, family, status and labels.<key>'),
        ('Name = "a"', 'unknown field "Name" at position 1; fields are name, id, family, status and labels.<key>'),
        ('labels = "a"', 'unknown field "labels" at position 1; fields are name, id, family, status and labels.<key>'),
        ('name = "abc', "unterminated string at position 8"),
        ("name = 'abc\\'", "unterminated string at position 8"),
        ('name = "abc\\', "unterminated string at position 8"),
        ('name = "a\\nb"', 'invalid escape "\\\\n" at position 10; only \\", \\\' and \\\\ are allowed'),
        ("name = web", 'expected a quoted value at position 8, found "web"; quote values with " or \''),
        ('name == "a"', 'expected a quoted value at position 7, found "="'),
        ('name = "a" "b"', 'expected "AND" or the end of the filter at position 12, found the quoted value "b"'),
        ('name = "a" OR id = "b"', 'expected "AND" or the end of the filter at position 12, found "OR"'),
        ('name = "a" AND AND id = "b"', 'unknown field "AND" at position 16; fields are name, id, family, status and labels.<key>'),
        ('name ! "a"', 'unexpected character "!" at position 6; did you mean "!="?'),
        ('name # "a"', 'unexpected character "#" at position 6'),
        ('name = "a"; drop table', 'unexpected character ";" at position 11'),
        ('name IN "a"', 'expected "(" to start a list of values at position 9, found the quoted value "a"'),
        ("name IN ()", 'expected a quoted value at position 10, found ")"'),
        ('name IN ("a",)', 'expected a quoted value at position 14, found ")"'),
        ('name IN ("a" "b")', 'expected "," or ")" at position 14, found the quoted value "b"'),
        ('name IN ("a"', 'unexpected end of input, expected "," or ")"'),
        ('name NOT "a"', 'expected "=", "!=", "IN" or "NOT IN" after "name" at position 6, found "NOT"'),
        ('= "a"', 'expected a field name at position 1, found "="'),
        ('status = "ready"', 'unknown status "ready" at position 10; statuses are CREATING, READY, ERROR, DELETING'),
        ('status = "STATUS_UNSPECIFIED"', 'unknown status "STATUS_UNSPECIFIED" at position 10; statuses are CREATING, READY, ERROR, DELETING'),
        ('status IN ("READY", "X")', 'unknown status "X" at position 21; statuses are CREATING, READY, ERROR, DELETING'),
        ('name = "a\x00"', "NUL character in a quoted value at position 10"),
        ('name = "a"\x00', 'unexpected character "\\x00" at position 11'),
    ],
)  # fmt: skip
def test_malformed_filters_say_what_is_wrong_and_where(text, description):
    assert filter_error(text) == description


@pytest.mark.parametrize("key", ["", "Env", "1env", "-env", "e" * 64])
def test_label_field_needs_a_valid_key(key):
    assert filter_error(f'labels.{key} = "v"').startswith(f"invalid label key {quoted(key)} at position 8; ")


def test_label_key_of_63_characters_is_accepted():
    assert parse_filter(f'labels.{"k" * 63} = "v"')[0].label_key == "k" * 63


def test_filter_error_message_uses_the_contract_form():
    with pytest.raises(InvalidArgument) as caught:
        parse_filter('size = "1"')
    assert caught.value.message.startswith('Request validation error: filter: unknown field "size"')


def test_random_input_raises_only_invalid_argument():
    rng = random.Random(1234)
    pieces = [
        "name", "id", "family", "status", "labels.env", "labels.", "labels.A", "AND", "and", "IN", "NOT",
        "not in", "=", "!=", "!", "(", ")", ",", '"', "'", "\\", '"READY"', "'x'", '"a\\"b"', " ", "\t",
        "\x00", "é", "\U0001f600", "#", ";", "--", "OR", "size", "$", "%", "\n",
    ]  # fmt: skip
    accepted = 0
    for _ in range(5000):
        if rng.random() < 0.3:
            text = "".join(chr(rng.randint(0, 0x2FF)) for _ in range(rng.randint(0, 40)))
        else:
            text = " ".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        try:
            conditions = parse_filter(text)
        except InvalidArgument as error:
            assert [v.field for v in error.violations] == ["filter"]
            assert error.violations[0].description
        else:
            accepted += 1
            filter_q(conditions)
    assert accepted > 0


# --- filter_q against real rows -----------------------------------------------------------------


@pytest.fixture
def images(db):
    rows = [
        ("img01", "web", "ubuntu", ImageStatus.READY, {"env": "prod", "team": "a"}),
        ("img02", "db", "ubuntu", ImageStatus.CREATING, {"env": "test"}),
        ("img03", "cache", "debian", ImageStatus.ERROR, {}),
        ("img04", "", "", ImageStatus.DELETING, {"team": "b", "a__b": "x", "exact": "y"}),
        ("img05", "web2", "debian", ImageStatus.READY, {"env": "prod", "env.x": "1"}),
    ]
    for image_id, name, family, status, labels in rows:
        Image.objects.create(
            id=image_id, folder_id="f1", created_at=timezone.now(), name=name, family=family, status=status,
            labels=labels,
        )  # fmt: skip
    Image.objects.create(id="other", folder_id="f2", created_at=timezone.now(), labels={"env": "prod"})


def ids(text: str, folder_id: str = "f1") -> list[str]:
    queryset = Image.objects.filter(folder_id=folder_id).filter(filter_q(parse_filter(text)))
    return sorted(queryset.values_list("id", flat=True))


@pytest.mark.django_db
def test_empty_filter_matches_every_image(images):
    assert ids("") == ["img01", "img02", "img03", "img04", "img05"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('name = "web"', ["img01"]),
        ('name = ""', ["img04"]),
        ('name != "web"', ["img02", "img03", "img04", "img05"]),
        ('name IN ("web", "db", "nope")', ["img01", "img02"]),
        ('name NOT IN ("web", "db")', ["img03", "img04", "img05"]),
        ('id = "img03"', ["img03"]),
        ('id != "img03"', ["img01", "img02", "img04", "img05"]),
        ('family = "debian"', ["img03", "img05"]),
        ('family IN ("")', ["img04"]),
        ('status = "READY"', ["img01", "img05"]),
        ('status != "READY"', ["img02", "img03", "img04"]),
        ('status IN ("CREATING", "DELETING")', ["img02", "img04"]),
        ('status NOT IN ("CREATING", "DELETING", "ERROR")', ["img01", "img05"]),
        ('family = "ubuntu" AND status = "READY"', ["img01"]),
        ('family = "ubuntu" AND family = "debian"', []),
        ('name = "WEB"', []),
    ],
)
def test_filter_on_plain_fields(images, text, expected):
    assert ids(text) == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('labels.env = "prod"', ["img01", "img05"]),
        ('labels.env = "test"', ["img02"]),
        ('labels.env = ""', []),
        ('labels.env IN ("prod", "test")', ["img01", "img02", "img05"]),
        ('labels.nope = "prod"', []),
        ('labels.team = "a" AND labels.env = "prod"', ["img01"]),
        ('labels.a__b = "x"', ["img04"]),
        ('labels.exact = "y"', ["img04"]),
        ('labels.env.x = "1"', ["img05"]),
    ],
)
def test_label_equality_and_in_match_images_having_that_label_value(images, text, expected):
    assert ids(text) == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('labels.env != "prod"', ["img02", "img03", "img04"]),
        ('labels.env NOT IN ("prod", "test")', ["img03", "img04"]),
        ('labels.nope != "x"', ["img01", "img02", "img03", "img04", "img05"]),
        ('labels.team != "a" AND labels.env != "test"', ["img03", "img04", "img05"]),
        ('labels.a__b != "x"', ["img01", "img02", "img03", "img05"]),
    ],
)
def test_label_inequality_includes_images_without_the_key(images, text, expected):
    assert ids(text) == expected


@pytest.mark.django_db
def test_label_filters_on_another_folder_stay_in_that_folder(images):
    assert ids('labels.env = "prod"', folder_id="f2") == ["other"]


# --- order_by ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Ordering("id", False)),
        ("   ", Ordering("id", False)),
        ("id", Ordering("id", False)),
        ("id desc", Ordering("id", True)),
        ("name", Ordering("name", False)),
        ("name ASC", Ordering("name", False)),
        ("  name   Desc ", Ordering("name", True)),
        ("createdAt", Ordering("created_at", False)),
        ("createdAt desc", Ordering("created_at", True)),
        ("createdAt\tDESC", Ordering("created_at", True)),
    ],
)
def test_order_by_forms(text, expected):
    assert parse_order_by(text) == expected


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("size", 'unknown field "size"; fields are id, name and createdAt'),
        ("created_at", 'unknown field "created_at"; fields are id, name and createdAt'),
        ("Name", 'unknown field "Name"; fields are id, name and createdAt'),
        ("name,id", 'unknown field "name,id"; fields are id, name and createdAt'),
        ("name up", 'expected asc or desc after "name", found "up"'),
        ("name asc desc", 'unexpected "desc" after "name asc"; the form is <field> [asc|desc]'),
        ("name" + " " * 96 + "desc", "must be at most 100 characters"),
    ],
)
def test_malformed_order_by_is_invalid_argument_on_order_by(text, description):
    assert order_by_error(text) == description


def test_order_by_of_100_characters_is_accepted():
    assert parse_order_by("name" + " " * 92 + "desc") == Ordering("name", True)


def test_order_fields_break_ties_by_id_in_the_same_direction():
    assert Ordering("created_at", True).order_fields() == [("created_at", True), ("id", True)]
    assert Ordering("name", False).order_fields() == [("name", False), ("id", False)]
    assert Ordering("id", True).order_fields() == [("id", True)]


def test_random_order_by_raises_only_invalid_argument():
    rng = random.Random(99)
    words = ["id", "name", "createdAt", "asc", "DESC", "x", "", "\x00", "é", ",", "name,"]
    for _ in range(3000):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(0, 4)))
        if rng.random() < 0.2:
            text = "".join(chr(rng.randint(0, 0x3FF)) for _ in range(rng.randint(0, 120)))
        try:
            ordering = parse_order_by(text)
        except InvalidArgument as error:
            assert [v.field for v in error.violations] == ["order_by"]
        else:
            assert ordering.field in ("id", "name", "created_at")
