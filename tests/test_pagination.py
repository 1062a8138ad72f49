"""Page tokens (compact, bound to their query, tamper-evident) and keyset pages over real rows."""

import base64
import datetime as dt
import random
import string

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from images.errors import InvalidArgument
from images.store import pagination
from images.store.filters import Ordering
from images.store.models import Image
from images.store.pagination import (
    decode_token,
    encode_token,
    from_micros,
    keyset_page,
    to_micros,
    token_scope,
)

SCOPE = token_scope("images.list", "folder1", "", "name")
BASE64URL = string.ascii_letters + string.digits + "-_"
NAME_FIRST = string.ascii_lowercase
NAME_MIDDLE = string.ascii_lowercase + string.digits + "-_"
NAME_LAST = string.ascii_lowercase + string.digits
ID_CHARS = string.ascii_lowercase + string.digits


def assert_invalid(token, *, scope=SCOPE, arity=2):
    with pytest.raises(InvalidArgument) as caught:
        decode_token(token, scope=scope, arity=arity)
    [violation] = caught.value.violations
    assert (violation.field, violation.description) == ("page_token", "invalid page token")


def random_name(rng, length):
    if length == 1:
        return rng.choice(NAME_FIRST)
    middle = "".join(rng.choice(NAME_MIDDLE) for _ in range(length - 2))
    return rng.choice(NAME_FIRST) + middle + rng.choice(NAME_LAST)


def random_id(rng):
    return "".join(rng.choice(ID_CHARS) for _ in range(20))


# --- micros ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(1970, 1, 1, tzinfo=dt.UTC),
        dt.datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=dt.UTC),
        dt.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
        dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
        dt.datetime(1, 1, 1, tzinfo=dt.UTC),
    ],
)
def test_micros_round_trip_exactly(value):
    assert from_micros(to_micros(value)) == value


def test_micros_count_from_the_epoch_in_utc():
    assert to_micros(dt.datetime(1970, 1, 1, 0, 0, 1, 5, tzinfo=dt.UTC)) == 1_000_005
    plus3 = dt.timezone(dt.timedelta(hours=3))
    assert to_micros(dt.datetime(1970, 1, 1, 3, 0, 0, tzinfo=plus3)) == 0
    assert from_micros(1_000_005).tzinfo == dt.UTC


def test_to_micros_refuses_a_naive_datetime():
    with pytest.raises(ValueError):
        to_micros(dt.datetime(2024, 1, 1))


# --- tokens ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [
        ["web", "img00000000000000001"],
        ["", "img00000000000000001"],
        ["a" * 63, "z" * 20],
        ["0", "0"],
        ["-", "_"],
        [1_700_000_000_123_456, "opr0000000000000000a"],
        [0, ""],
        [-1, "x"],
        [253402300799999999, "z" * 20],
        ["id"],
        [""],
        [7],
    ],
)
def test_token_round_trips_its_values_and_types(values):
    token = encode_token(values, scope=SCOPE)
    assert decode_token(token, scope=SCOPE, arity=len(values)) == values
    assert all(c in BASE64URL for c in token)


@pytest.mark.parametrize(
    "values",
    [
        ["-" * 63, "-" * 20],  # the highest-valued symbols: the largest packed number
        ["z" * 63, "9" * 20],
        ["-" * 63, "-" * 30],  # headroom: ids up to 30 characters beside the longest name
        [-(10**18), "-" * 20],
        [to_micros(dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC)), "z" * 20],
    ],
)
def test_longest_keys_fit_in_100_characters(values):
    token = encode_token(values, scope=SCOPE)
    assert len(token) <= 100
    assert decode_token(token, scope=SCOPE, arity=2) == values


def test_every_real_sort_key_fits_in_100_characters():
    rng = random.Random(7)
    for _ in range(2000):
        name = rng.choice(["", random_name(rng, rng.randint(1, 63)), random_name(rng, 63)])
        micros = rng.randint(0, to_micros(dt.datetime(9999, 12, 31, tzinfo=dt.UTC)))
        image_id = random_id(rng)
        family = random_name(rng, rng.randint(3, 63)).replace("_", "-")
        for values in ([name, image_id], [micros, image_id], [image_id], [family]):
            token = encode_token(values, scope=SCOPE)
            assert len(token) <= 100
            assert decode_token(token, scope=SCOPE, arity=len(values)) == values


@pytest.mark.parametrize("value", ["Web", "a b", "ä", "a.b", "a|b", "a#b", "\n", True, 1.5, None, b"ab"])
def test_encoding_a_value_outside_the_packable_types_is_a_bug(value):
    with pytest.raises(ValueError):
        encode_token([value, "id"], scope=SCOPE)


def test_encoding_a_key_too_long_for_100_characters_is_a_bug():
    with pytest.raises(ValueError):
        encode_token(["a" * 63, "a" * 63], scope=SCOPE)
    with pytest.raises(ValueError):
        encode_token([], scope=SCOPE)


def test_token_is_rejected_in_another_scope():
    token = encode_token(["web", "img1"], scope=token_scope("images.list", "folder1", "", "name"))
    assert_invalid(token, scope=token_scope("images.list", "folder2", "", "name"))
    assert_invalid(token, scope=token_scope("images.list", "folder1", 'name = "x"', "name"))
    assert_invalid(token, scope=token_scope("images.list", "folder1", "", "name desc"))
    assert_invalid(token, scope=token_scope("images.list", "folder1", "", "name", ""))


def test_scope_parts_are_unambiguous():
    assert token_scope("a", "b|c") != token_scope("a|b", "c")
    assert token_scope("a", "") != token_scope("a")


def test_token_is_rejected_with_another_key(settings):
    token = encode_token(["web", "img1"], scope=SCOPE)
    settings.IMAGESERVICE_TOKEN_KEY = "another key"
    assert_invalid(token)


def test_token_is_rejected_with_another_arity():
    token = encode_token(["web", "img1"], scope=SCOPE)
    assert_invalid(token, arity=1)
    assert_invalid(token, arity=3)


@pytest.mark.parametrize("values", [["a" * 63, "b" * 20], [1_700_000_000_123_456, "img1"], ["x"]])
def test_changing_any_character_of_a_token_invalidates_it(values):
    token = encode_token(values, scope=SCOPE)
    for position, char in enumerate(token):
        for replacement in BASE64URL:
            if replacement != char:
                assert_invalid(token[:position] + replacement + token[position + 1 :], arity=len(values))


def test_truncated_or_extended_tokens_are_invalid():
    token = encode_token(["web", "img1"], scope=SCOPE)
    for length in range(len(token)):
        assert_invalid(token[:length])
    for extra in ["A", "AA", "AAA", "=", "==", " ", "\n"]:
        assert_invalid(token + extra)
        assert_invalid(extra + token)


def test_a_token_with_another_version_is_invalid():
    token = encode_token(["web", "img1"], scope=SCOPE)
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[0] = 2
    assert_invalid(base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode())


@pytest.mark.parametrize(
    "token",
    [None, 5, b"abc", "", "====", "a", "ab=", "a b", "Zm9v", "ä" * 10, "A" * 100, "A" * 101, "-_" * 40],
)
def test_foreign_tokens_are_invalid(token):
    assert_invalid(token)


def test_correctly_signed_garbage_is_still_invalid_not_an_error():
    # Signed with the real key, so only the payload checks stand between these and a crash.
    for payload in [b"", b"\x00", b"\x01", b"\x02", b"\x27", b"\xff" * 50, bytes(range(40))]:
        body = bytes([pagination.TOKEN_VERSION]) + payload
        token = pagination._b64encode(body + pagination._mac(SCOPE, body))
        if len(token) <= 100:
            with pytest.raises(InvalidArgument):
                decode_token(token, scope=SCOPE, arity=5)
    # "#" with no digits after it, and "-" alone after "#".
    for text in ["#", "#-", "#1-2", "a#1"]:
        number = 1
        for symbol in text:
            number = number * 40 + pagination._SYMBOLS.index(symbol)
        body = bytes([pagination.TOKEN_VERSION]) + number.to_bytes((number.bit_length() + 7) // 8, "big")
        assert_invalid(pagination._b64encode(body + pagination._mac(SCOPE, body)), arity=1)


def test_random_tokens_raise_only_invalid_argument():
    rng = random.Random(2024)
    genuine = encode_token(["web", "img1"], scope=SCOPE)
    for _ in range(5000):
        kind = rng.random()
        if kind < 0.4:
            token = "".join(rng.choice(BASE64URL) for _ in range(rng.randint(0, 110)))
        elif kind < 0.6:
            raw = bytes(rng.randrange(256) for _ in range(rng.randint(0, 80)))
            token = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        elif kind < 0.8:
            chars = list(genuine)
            for _ in range(rng.randint(1, 4)):
                chars[rng.randrange(len(chars))] = rng.choice(BASE64URL)
            token = "".join(chars)
            if token == genuine:
                continue
        else:
            token = "".join(chr(rng.randint(0, 0x3FF)) for _ in range(rng.randint(0, 110)))
        assert_invalid(token, arity=rng.randint(1, 3))


# --- keyset pages over real rows ---------------------------------------------------------------

T0 = dt.datetime(2024, 5, 1, 12, 0, 0, tzinfo=dt.UTC)


@pytest.fixture
def rows(db):
    """30 images in one folder: empty names tie, created_at ties in groups, 1-microsecond steps."""
    rng = random.Random(5)
    ids = [f"img{i:017d}" for i in rng.sample(range(1000), 30)]
    for index, image_id in enumerate(ids):
        Image.objects.create(
            id=image_id,
            folder_id="f1",
            # Groups of 4 share a created_at; groups are 1 microsecond apart, in shuffled order.
            created_at=T0 + dt.timedelta(microseconds=(index * 7 % 30) // 4),
            name="" if index % 3 == 0 else f"n{rng.randrange(10)}-{image_id[-3:]}",
        )
    Image.objects.create(id="zzzother", folder_id="f2", created_at=T0, name="other")
    return Image.objects.filter(folder_id="f1")


ORDERINGS = [
    Ordering(field, descending) for field in ("id", "name", "created_at") for descending in (False, True)
]


def all_pages(queryset, ordering, page_size, scope=SCOPE):
    seen, token, pages = [], "", 0
    while pages <= queryset.count():  # bounded, so a page that repeats rows fails instead of hanging
        page, token = keyset_page(
            queryset, ordering.order_fields(), page_size=page_size, page_token=token, scope=scope
        )
        pages += 1
        seen.extend(row.id for row in page)
        assert len(page) <= page_size
        if not token:
            return seen, pages
        assert len(page) == page_size
        assert len(token) <= 100
    raise AssertionError(f"more pages than rows: {seen}")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "ordering", ORDERINGS, ids=lambda o: f"{o.field}-{'desc' if o.descending else 'asc'}"
)
@pytest.mark.parametrize("page_size", [1, 2, 4, 7, 29, 30, 31, 1000])
def test_pages_give_every_row_exactly_once_in_order(rows, ordering, page_size):
    order = [("-" if desc else "") + field for field, desc in ordering.order_fields()]
    expected = list(rows.order_by(*order).values_list("id", flat=True))
    seen, pages = all_pages(rows, ordering, page_size)
    assert seen == expected
    assert len(set(seen)) == 30
    assert pages == -(-30 // page_size)  # the one extra row fetched spares a final empty page


@pytest.mark.django_db
def test_ties_are_broken_by_id_in_the_same_direction(rows):
    ascending, _ = all_pages(rows, Ordering("created_at", False), 3)
    descending, _ = all_pages(rows, Ordering("created_at", True), 3)
    assert descending == list(reversed(ascending))
    by_key = sorted(rows, key=lambda row: (row.created_at, row.id))
    assert ascending == [row.id for row in by_key]
    empty_names = sorted(row.id for row in rows if row.name == "")
    by_name, _ = all_pages(rows, Ordering("name", False), 2)
    assert by_name[: len(empty_names)] == empty_names


@pytest.mark.django_db
def test_page_size_may_change_between_pages(rows):
    fields = Ordering("name", True).order_fields()
    first, token = keyset_page(rows, fields, page_size=5, page_token="", scope=SCOPE)
    second, token = keyset_page(rows, fields, page_size=20, page_token=token, scope=SCOPE)
    third, token = keyset_page(rows, fields, page_size=1000, page_token=token, scope=SCOPE)
    assert token == ""
    ids = [row.id for row in first + second + third]
    assert ids == list(rows.order_by("-name", "-id").values_list("id", flat=True))


@pytest.mark.django_db
def test_the_next_page_starts_after_the_last_row_even_when_it_was_deleted(rows):
    fields = Ordering("created_at", False).order_fields()
    first, token = keyset_page(rows, fields, page_size=10, page_token="", scope=SCOPE)
    expected_next = list(rows.order_by("created_at", "id").values_list("id", flat=True))[10:20]
    Image.objects.filter(id=first[-1].id).delete()
    second, _ = keyset_page(rows, fields, page_size=10, page_token=token, scope=SCOPE)
    assert [row.id for row in second] == expected_next


@pytest.mark.django_db
def test_a_token_from_another_query_is_rejected(rows):
    _, token = keyset_page(rows, Ordering("name").order_fields(), page_size=3, page_token="", scope=SCOPE)
    other_scope = token_scope("images.list", "folder1", "", "createdAt")
    with pytest.raises(InvalidArgument):
        keyset_page(
            rows, Ordering("created_at").order_fields(), page_size=3, page_token=token, scope=other_scope
        )


@pytest.mark.django_db
def test_a_token_whose_types_do_not_fit_the_fields_is_rejected(rows):
    # A bug elsewhere could sign a key of the wrong shape; it must still end as invalid page token.
    name_token = encode_token(["web", "img1"], scope=SCOPE)
    micros_token = encode_token([5, "img1"], scope=SCOPE)
    overflow_token = encode_token([10**18, "img1"], scope=SCOPE)
    with pytest.raises(InvalidArgument):
        keyset_page(
            rows, [("created_at", False), ("id", False)], page_size=3, page_token=name_token, scope=SCOPE
        )
    with pytest.raises(InvalidArgument):
        keyset_page(rows, [("name", False), ("id", False)], page_size=3, page_token=micros_token, scope=SCOPE)
    with pytest.raises(InvalidArgument):
        keyset_page(
            rows, [("created_at", True), ("id", True)], page_size=3, page_token=overflow_token, scope=SCOPE
        )
    with pytest.raises(InvalidArgument):
        keyset_page(rows, [("size", False), ("id", False)], page_size=3, page_token=name_token, scope=SCOPE)


@pytest.mark.django_db
def test_custom_key_of_is_used_for_the_token(rows):
    calls = []

    def key_of(row):
        calls.append(row.id)
        return [row.id]

    page, token = keyset_page(rows, [("id", False)], page_size=4, page_token="", scope=SCOPE, key_of=key_of)
    assert calls == [page[-1].id]
    assert decode_token(token, scope=SCOPE, arity=1) == [page[-1].id]


@pytest.mark.django_db
def test_pages_are_fetched_with_limit_and_never_offset(rows):
    fields = Ordering("created_at", True).order_fields()
    with CaptureQueriesContext(connection) as queries:
        _, token = keyset_page(rows, fields, page_size=5, page_token="", scope=SCOPE)
        keyset_page(rows, fields, page_size=5, page_token=token, scope=SCOPE)
    assert len(queries) == 2
    for query in queries:
        assert "LIMIT 6" in query["sql"]
        assert "OFFSET" not in query["sql"].upper()


@pytest.mark.django_db
def test_an_empty_result_is_one_empty_page(db):
    page, token = keyset_page(Image.objects.none(), [("id", False)], page_size=10, page_token="", scope=SCOPE)
    assert (page, token) == ([], "")


def test_page_size_must_be_resolved_before_paging():
    with pytest.raises(ValueError):
        keyset_page(Image.objects.none(), [("id", False)], page_size=0, page_token="", scope=SCOPE)
