"""What a typed kindergarten search finds: case, ё, Kazakh letters typed on a Russian keyboard,
quotes and "№", words in any order, one typo in a long word."""

from __future__ import annotations

import pytest

from core.platform.search import natural_key, parse, rank, score, search_key, within_one_edit

SAMAL = search_key("Ясли-сад №27 «Самал»", "№27 «Самал» бөбекжай-бақшасы")


@pytest.mark.parametrize(
    ("kazakh", "russian"),
    [
        ("қ", "к"),
        ("ғ", "г"),
        ("ң", "н"),
        ("ү", "у"),
        ("ұ", "у"),
        ("ө", "о"),
        ("ә", "а"),
        ("і", "и"),
        ("һ", "х"),
        ("ё", "е"),
        ("Қ", "к"),
        ("Ё", "е"),
    ],
)
def test_each_kazakh_letter_and_yo_is_typed_as_its_russian_look_alike(
    kazakh: str, russian: str
) -> None:
    assert search_key(f"Ба{kazakh}а") == f" ба{russian}а "
    assert score(parse(f"ба{russian}а"), search_key(f"Ба{kazakh}а")) is not None


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("солнышко", "Ясли-сад №11 «Солнышко»"),
        ("СОЛНЫШКО", "Ясли-сад №11 «Солнышко»"),
        ("акку", "№16 «Аққу» балабақшасы"),
        ("Алёнушка", "Ясли-сад №14 «Аленушка»"),
        ("аленушка", "Ясли-сад №14 «Алёнушка»"),
        ("Балдырган", "Ясли-сад №5 «Балдырған»"),
        ("кулыншак", "Ясли-сад №3 «Құлыншақ»"),
        ("шаттык", "Ясли-сад №8 «Шаттық»"),
        ("мейирим", "Ясли-сад №23 «Мейірім»"),
        ("Мейiрiм", "Ясли-сад №23 «Мейірім»"),  # Latin i for і
        ("айгелек", "Ясли-сад №2 «Айгөлек»"),
        ("бобек", "Ясли-сад №20 «Бөбек»"),
        ("кунш", "Ясли-сад №6 «Күншуақ»"),  # a prefix
        ("золотой ключик", "Ясли-сад №15 «Золотой ключик»"),
        ("ключик золотой", "Ясли-сад №15 «Золотой ключик»"),
    ],
)
def test_a_name_typed_as_parents_type_it_is_found(typed: str, name: str) -> None:
    assert score(parse(typed), search_key(name)) is not None


@pytest.mark.parametrize(
    "typed", ["Самал 27", "27 Самал", "№27", "№ 27", "27", "самал", "«Самал»", "ясли-сад самал"]
)
def test_number_and_name_in_any_order_find_the_kindergarten(typed: str) -> None:
    assert score(parse(typed), SAMAL) is not None


@pytest.mark.parametrize("typed", ["2", "7", "272", "Самал 28", "самал болашак", "мал"])
def test_a_number_must_be_whole_and_every_word_must_match(typed: str) -> None:
    assert score(parse(typed), SAMAL) is None


def test_quotes_punctuation_and_number_sign_are_dropped_and_digits_split_from_letters() -> None:
    assert search_key("Ясли-сад №27 «Самал»") == " ясли сад 27 самал "
    assert search_key('Детский сад "Нур"-7') == " детский сад нур 7 "
    assert search_key("сад27") == " сад 27 "
    assert search_key("«»!") == ""


def test_both_names_go_into_one_key_without_repeated_words() -> None:
    assert SAMAL == " ясли сад 27 самал бобекжай бакшасы "


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("Салнышко", "Ясли-сад №11 «Солнышко»"),  # one letter replaced
        ("Солнышо", "Ясли-сад №11 «Солнышко»"),  # one letter missing
        ("Солнышкко", "Ясли-сад №11 «Солнышко»"),  # one letter added
        ("Солнышок", "Ясли-сад №11 «Солнышко»"),  # two letters swapped
        ("Балдырхан", "Ясли-сад №5 «Балдырған»"),
    ],
)
def test_one_typo_in_a_word_of_five_letters_or_more_is_forgiven(typed: str, name: str) -> None:
    assert score(parse(typed), search_key(name)) is not None


@pytest.mark.parametrize(("typed", "name"), [("Нор", "Нур"), ("Салнышкл", "Солнышко")])
def test_short_words_and_two_typos_are_not_forgiven(typed: str, name: str) -> None:
    assert score(parse(typed), search_key(name)) is None


def test_exact_matches_hide_typo_matches_and_come_first() -> None:
    keys = [
        (1, search_key("Ясли-сад №1 «Самат»")),
        (2, search_key("Ясли-сад №2 «Самал»")),
        (3, search_key("Ясли-сад №3 «Самалтау»")),
    ]
    assert rank(parse("самал"), keys) == [2, 3]
    assert rank(parse("самак"), keys) == [1, 2, 3]  # only typo matches: all are shown


def test_generic_words_do_not_hide_a_named_kindergarten() -> None:
    key = search_key("Ясли-сад №11 «Солнышко»", "№11 «Күнсәуле» бөбекжай-бақшасы")
    assert score(parse("детский сад солнышко"), key) is not None
    assert score(parse("ясли"), key) is not None
    assert score(parse("детский"), key) is None


def test_the_query_narrows_sql_by_its_most_selective_part() -> None:
    assert parse("Самал 27").narrowing() == (" 27 ",)
    assert parse("нур").narrowing() == (" нур",)
    # one typo leaves one half of a long word intact
    assert parse("солнышко").narrowing() == ("солн", "ышко")
    assert parse("").narrowing() == ()


def test_natural_order_is_by_the_kindergartens_number() -> None:
    names = ["Ясли-сад №10", "Без номера", "Детский сад №7", "Ясли-сад №3", "Ясли-сад №1"]
    assert sorted(names, key=natural_key) == [
        "Ясли-сад №1",
        "Ясли-сад №3",
        "Детский сад №7",
        "Ясли-сад №10",
        "Без номера",
    ]


@pytest.mark.parametrize(
    ("a", "b", "close"),
    [("abc", "abc", True), ("abc", "abd", True), ("abc", "ab", True), ("abc", "bac", True)],
)
def test_within_one_edit(a: str, b: str, close: bool) -> None:
    assert within_one_edit(a, b) is close
    assert within_one_edit("abcd", "badc") is False


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("Samal", "Ясли-сад №27 «Самал»"),
        ("samal 27", "Ясли-сад №27 «Самал»"),
        ("Balapan", "Ясли-сад №24 «Балапан»"),
        ("Aqqu", "№16 «Аққу» балабақшасы"),
        ("Akku", "Детский сад №16 «Акку»"),
        ("Baldyrgan", "Ясли-сад №5 «Балдырған»"),
        ("Qulynshaq", "Ясли-сад №3 «Құлыншақ»"),
        ("Kulynshak", "Ясли-сад №3 «Құлыншақ»"),
        ("Shattyq", "Ясли-сад №8 «Шаттық»"),
        ("Meyirim", "Ясли-сад №23 «Мейірім»"),
        ("Aygolek", "Ясли-сад №2 «Айгөлек»"),
        ("Aigolek", "Ясли-сад №2 «Айгөлек»"),  # one letter off: a typo in a long word
        ("Solnyshko", "Ясли-сад №11 «Солнышко»"),
        ("Alyonushka", "Ясли-сад №14 «Алёнушка»"),
        ("Zolotoy klyuchik", "Ясли-сад №15 «Золотой ключик»"),
        ("detskiy sad solnyshko", "Ясли-сад №11 «Солнышко»"),
        ("Künşuaq", "Ясли-сад №6 «Күншуақ»"),  # the Kazakh Latin alphabet
    ],
)
def test_a_name_typed_in_latin_letters_finds_the_same_kindergarten(typed: str, name: str) -> None:
    assert score(parse(typed), search_key(name)) is not None


def test_latin_and_cyrillic_spellings_find_the_same_kindergartens_in_the_same_order() -> None:
    keys = [
        (1, search_key("Детский сад №16 «Акку»", "№16 «Аққу» балабақшасы")),
        (2, search_key("Ясли-сад №24 «Балапан»", "№24 «Балапан» бөбекжай-бақшасы")),
        (3, search_key("Ясли-сад №27 «Самал»", "№27 «Самал» бөбекжай-бақшасы")),
        (4, search_key("Ясли-сад №31 «Аққу»")),
    ]
    for latin, cyrillic in [("Aqqu", "Аққу"), ("Akku", "акку"), ("Samal", "Самал")]:
        assert rank(parse(latin), keys) == rank(parse(cyrillic), keys)
    assert rank(parse("Aqqu"), keys) == [1, 4]
    assert rank(parse("Balapan"), keys) == [2]
    assert parse("Aqqu").narrowing() == (" акку",)  # SQL narrows by the Cyrillic key


def test_a_latin_i_inside_a_cyrillic_word_is_still_read_as_the_kazakh_letter() -> None:
    assert search_key("Мейiрiм") == search_key("Мейірім") == " мейирим "
