"""The field rules table and its checks, at both sides of every boundary of the contract."""

import random
import re

import pytest

from images.errors import FieldViolation
from images.rules import (
    RULES,
    check_description,
    check_family,
    check_filter_length,
    check_id,
    check_labels,
    check_min_disk_size,
    check_name,
    check_operation_id,
    check_order_by_length,
    check_page_size,
    check_page_token,
    check_product_ids,
    page_size_or_default,
    quoted,
)


def fields(violations):
    return [v.field for v in violations]


def test_rules_table_has_every_field_the_contract_names():
    assert set(RULES) == {
        "id", "folder_id", "name", "description", "family", "label_key", "label_value", "labels",
        "min_disk_size", "product_id", "product_ids", "page_size", "page_token", "filter", "order_by",
        "operation_id",
    }  # fmt: skip
    for key, rule in RULES.items():
        assert rule.field == key
        assert rule.label
        assert rule.help.endswith(".")


@pytest.mark.parametrize("key", [k for k, r in RULES.items() if r.pattern])
def test_html_pattern_accepts_exactly_what_the_pattern_accepts(key):
    rule = RULES[key]
    rng = random.Random(key)
    alphabet = "abcxyz09-_./@A \n"
    samples = ["", "a", "a-", "ab", "abc", "a_b", "a" * 63, "a" * 64, "1abc", "abc\n"]
    samples += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 70))) for _ in range(3000)]
    for sample in samples:
        python = re.fullmatch(rule.pattern, sample) is not None
        # An HTML pattern is implicitly anchored as ^(?:pattern)$; Python's re reads this subset alike.
        html = re.fullmatch(f"(?:{rule.html_pattern})", sample) is not None
        assert python == html, (key, sample)


def test_html_patterns_escape_dash_and_slash_inside_classes_for_the_v_flag():
    for rule in RULES.values():
        if rule.html_pattern:
            for cls in re.findall(r"\[([^\]]*)\]", rule.html_pattern):
                stripped = re.sub(r"\\.|[a-z]-[a-z]|[0-9]-[0-9]", "", cls)
                assert "-" not in stripped and "/" not in stripped, rule.field


# --- ids ---------------------------------------------------------------------------------------


def test_id_of_50_characters_passes_and_51_fails():
    assert check_id("a" * 50, "image_id") == []
    assert check_id("a" * 51, "image_id") == [FieldViolation("image_id", "must be at most 50 characters")]


def test_id_is_required_unless_told_otherwise():
    assert check_id("", "folder_id") == [FieldViolation("folder_id", "is required")]
    assert check_id("", "disk_id", required=False) == []
    assert fields(check_id("x" * 51, "disk_id", required=False)) == ["disk_id"]


def test_id_length_counts_characters_not_bytes():
    assert check_id("я" * 50, "image_id") == []
    assert fields(check_id("я" * 51, "image_id")) == ["image_id"]


def test_operation_id_is_required():
    assert check_operation_id("") == [FieldViolation("operation_id", "is required")]
    assert check_operation_id("op1") == []


# --- name --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["", "a", "ab", "a1", "a-b", "a_b", "a--__b9", "a" + "b" * 62])
def test_name_accepts_empty_and_well_formed_names(name):
    assert check_name(name) == []


def test_name_of_63_characters_passes_and_64_fails():
    assert check_name("a" * 63) == []
    assert check_name("a" * 64) == [FieldViolation("name", "must be at most 63 characters")]


@pytest.mark.parametrize(
    "name", ["abc\n", "\nabc", "a-", "a_", "1abc", "-abc", "_abc", "Abc", "aBc", "a b", "a.b", "ä", " a"]
)
def test_name_rejects_malformed_names(name):
    [violation] = check_name(name)
    assert violation.field == "name"
    assert violation.description.startswith("must start with a lowercase letter")


def test_name_check_reports_the_field_it_is_given():
    assert fields(check_name("A", field="update.name")) == ["update.name"]


# --- description -------------------------------------------------------------------------------


def test_description_of_256_characters_passes_and_257_fails():
    assert check_description("") == []
    assert check_description("x" * 256) == []
    assert check_description("ü" * 256) == []
    assert check_description("x" * 257) == [FieldViolation("description", "must be at most 256 characters")]


# --- labels ------------------------------------------------------------------------------------


def test_64_labels_pass_and_65_fail():
    assert check_labels({f"k{i}": "v" for i in range(64)}) == []
    assert check_labels({f"k{i}": "v" for i in range(65)}) == [
        FieldViolation("labels", "must have at most 64 labels, got 65")
    ]


@pytest.mark.parametrize("key", ["a", "a" * 63, "a-_./@09z", "env", "a.", "a-", "exact", "a__b"])
def test_label_key_accepts_well_formed_keys(key):
    assert check_labels({key: "v"}) == []


def test_label_key_of_64_characters_fails():
    [violation] = check_labels({"a" * 64: "v"})
    assert violation.field == "labels"
    assert "must be at most 63 characters" in violation.description


@pytest.mark.parametrize("key", ["1a", "-a", "Env", "a b", "a\n", "ключ", "a:b", "a+b", "_a"])
def test_label_key_rejects_malformed_keys_and_names_them(key):
    [violation] = check_labels({key: "v"})
    assert violation.field == "labels"
    assert violation.description.startswith(f"label key {quoted(key)} must start with a lowercase letter")


def test_label_key_must_not_be_empty():
    assert check_labels({"": "v"}) == [FieldViolation("labels", "label keys must not be empty")]


@pytest.mark.parametrize("value", ["", "v", "a" * 63, "-_./@09az", "1"])
def test_label_value_accepts_empty_and_well_formed_values(value):
    assert check_labels({"k": value}) == []


def test_label_value_of_64_characters_fails():
    [violation] = check_labels({"k": "a" * 64})
    assert violation == FieldViolation("labels", 'the value of label "k" must be at most 63 characters')


@pytest.mark.parametrize("value", ["V", "a b", "v\n", "знач", "a:b"])
def test_label_value_rejects_other_characters(value):
    [violation] = check_labels({"k": value})
    assert violation.field == "labels"
    assert violation.description.startswith('the value of label "k" must contain only')


def test_label_message_shows_a_long_or_unprintable_key_safely():
    [violation] = check_labels({'A\n\x00"' + "b" * 100: "v"})
    assert violation.description.startswith('label key "A\\x0a\\x00\\"' + "b" * 36 + '..." ')
    assert "\n" not in violation.description and "\x00" not in violation.description


def test_labels_report_one_violation_for_the_first_bad_key_in_sorted_order():
    assert check_labels({"zz": "V", "B": "v", "ok": "v"}) == [
        FieldViolation(
            "labels",
            'label key "B" must start with a lowercase letter and contain only '
            "lowercase letters, digits and - _ . / @",
        )
    ]


# --- family ------------------------------------------------------------------------------------


def test_family_is_optional_unless_required():
    assert check_family("") == []
    assert check_family("", required=True) == [FieldViolation("family", "is required")]


def test_family_of_2_characters_fails_and_3_passes():
    assert fields(check_family("ab")) == ["family"]
    assert check_family("abc") == []


def test_family_of_63_characters_passes_and_64_fails():
    assert check_family("a" * 63) == []
    assert check_family("a" * 64) == [FieldViolation("family", "must be at most 63 characters")]


@pytest.mark.parametrize("family", ["a_b", "abc-", "1abc", "Abc", "abc\n", "ab c", "ab.c"])
def test_family_rejects_underscore_trailing_hyphen_and_other_characters(family):
    [violation] = check_family(family)
    assert violation.field == "family"
    assert "lowercase letter" in violation.description


@pytest.mark.parametrize("family", ["a-b", "ubuntu-2204-lts", "a1-2"])
def test_family_accepts_well_formed_families(family):
    assert check_family(family, required=True) == []


# --- min_disk_size -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 4194304, 4194305, 10 * 1024**3, 4398046511104])
def test_min_disk_size_accepts_zero_and_the_inclusive_range(size):
    assert check_min_disk_size(size) == []


@pytest.mark.parametrize("size", [-1, 1, 4194303, 4398046511105, 2**63 - 1])
def test_min_disk_size_rejects_values_outside_the_range(size):
    assert fields(check_min_disk_size(size)) == ["min_disk_size"]


# --- product_ids -------------------------------------------------------------------------------


def test_product_ids_of_50_characters_pass_and_51_fail():
    assert check_product_ids([]) == []
    assert check_product_ids(["a" * 50, "b"]) == []
    assert check_product_ids(["ok", "a" * 51]) == [
        FieldViolation("product_ids", "product ID #2 must be at most 50 characters")
    ]


# --- paging, filter, order_by ------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 100, 1000])
def test_page_size_accepts_zero_to_1000(size):
    assert check_page_size(size) == []


def test_page_size_rejects_negative_and_above_1000():
    assert check_page_size(-1) == [FieldViolation("page_size", "must not be negative")]
    assert check_page_size(1001) == [FieldViolation("page_size", "must be at most 1000")]


def test_page_size_zero_means_100():
    assert page_size_or_default(0) == 100
    assert page_size_or_default(1) == 1
    assert page_size_or_default(1000) == 1000


def test_page_token_of_100_characters_passes_and_101_fails():
    assert check_page_token("") == []
    assert check_page_token("a" * 100) == []
    assert check_page_token("a" * 101) == [FieldViolation("page_token", "must be at most 100 characters")]


def test_filter_of_1000_characters_passes_and_1001_fails():
    assert check_filter_length("x" * 1000) == []
    assert check_filter_length("x" * 1001) == [FieldViolation("filter", "must be at most 1000 characters")]


def test_order_by_of_100_characters_passes_and_101_fails():
    assert check_order_by_length("x" * 100) == []
    assert check_order_by_length("x" * 101) == [FieldViolation("order_by", "must be at most 100 characters")]
