"""The fake state registry: every valid IIN is a person, generated deterministically from it.

Names come from a choice seeded by the IIN's hash; birth date and sex from the IIN itself.
Families: the published personas (`sandbox.gov.personas`) first, else 0-2 generated children.
Children's ages are relative to `today`, so a persona's "3-year-old" stays 3 all year round.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from core.people.iin import InvalidIin, full_years, make_iin, parse_iin

KAZAKH = {
    "male": ["Нурлан", "Ерлан", "Данияр", "Асхат", "Бауыржан", "Тимур", "Арман", "Айдос", "Ержан"],
    "female": ["Айгерим", "Динара", "Асель", "Гульнара", "Жанар", "Алия", "Мадина", "Аружан"],
    "surname": ["Ахметов", "Жумабаев", "Касымов", "Омаров", "Байжанов", "Нурланов", "Сериков"],
    "father": ["Нурлан", "Серик", "Болат", "Марат", "Кайрат", "Мухтар", "Ерлан"],
}
RUSSIAN = {
    "male": ["Иван", "Дмитрий", "Сергей", "Алексей", "Андрей", "Максим", "Артём"],
    "female": ["Елена", "Ольга", "Наталья", "Анна", "Мария", "Екатерина", "Виктория"],
    "surname": ["Иванов", "Петров", "Смирнов", "Кузнецов", "Волков", "Соколов", "Попов"],
    "father": ["Иван", "Сергей", "Алексей", "Андрей", "Николай", "Павел", "Виктор"],
}


@dataclass(frozen=True)
class FakePerson:
    iin: str
    last_name: str
    first_name: str
    middle_name: str
    birth_date: date
    sex: str

    def to_json(self) -> dict[str, str]:
        return {
            "iin": self.iin,
            "last_name": self.last_name,
            "first_name": self.first_name,
            "middle_name": self.middle_name,
            "birth_date": self.birth_date.isoformat(),
            "sex": self.sex,
        }


@dataclass(frozen=True)
class FakeChild:
    person: FakePerson
    legal_representative: bool = True

    def to_json(self) -> dict[str, object]:
        return {**self.person.to_json(), "legal_representative": self.legal_representative}


@dataclass(frozen=True)
class Family:
    parent: FakePerson
    children: list[FakeChild] = field(default_factory=list)
    benefits: list[dict[str, object]] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)


def rng_for(*parts: str) -> random.Random:
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def valid_iin(iin: str, today: date | None = None) -> bool:
    try:
        parse_iin(iin, today)
    except InvalidIin:
        return False
    return True


def generated_person(iin: str, today: date | None = None) -> FakePerson | None:
    """The person behind any valid IIN (None for an invalid one)."""
    try:
        parsed = parse_iin(iin, today)
    except InvalidIin:
        return None
    rnd = rng_for("person", iin)
    names = KAZAKH if rnd.random() < 0.7 else RUSSIAN
    female = parsed.sex == "female"
    surname = rnd.choice(names["surname"]) + ("а" if female else "")
    father = rnd.choice(names["father"])
    patronymic = father + ("овна" if female else "ович")
    return FakePerson(
        iin=iin,
        last_name=surname,
        first_name=rnd.choice(names[parsed.sex]),
        middle_name=patronymic,
        birth_date=parsed.birth_date,
        sex=parsed.sex,
    )


def years_ago(today: date, years: int, extra_days: int = 45) -> date:
    """A birth date that makes the child exactly `years` full years old on `today`."""
    try:
        anniversary = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        anniversary = today.replace(year=today.year - years, day=28)
    return anniversary - timedelta(days=extra_days)


def child_iin(born: date, male: bool, seed: str) -> str:
    serial = int(hashlib.sha256(seed.encode()).hexdigest()[:8], 16) % 9000 + 500
    while True:
        value = make_iin(born, male, serial)
        if value is not None:
            return value
        serial += 1


def make_child(
    parent_iin: str,
    index: int,
    age: int,
    male: bool,
    first_name: str,
    last_name: str,
    middle_name: str,
    today: date,
    legal_representative: bool = True,
) -> FakeChild:
    born = years_ago(today, age, extra_days=30 + 17 * index)
    iin = child_iin(born, male, f"{parent_iin}/{index}")
    person = FakePerson(
        iin=iin,
        last_name=last_name,
        first_name=first_name,
        middle_name=middle_name,
        birth_date=born,
        sex="male" if male else "female",
    )
    return FakeChild(person=person, legal_representative=legal_representative)


def generated_family(parent_iin: str, today: date) -> Family | None:
    parent = generated_person(parent_iin, today)
    if parent is None:
        return None
    rnd = rng_for("family", parent_iin)
    if full_years(parent.birth_date, today) < 18:
        return Family(parent=parent)
    children = []
    for index in range(rnd.choice([0, 1, 1, 2, 2])):
        age = rnd.randint(0, 5)
        born = years_ago(today, age, extra_days=rnd.randint(1, 300))
        male = rnd.random() < 0.5
        iin = child_iin(born, male, f"{parent_iin}/{index}")
        person = generated_person(iin, today)
        assert person is not None
        children.append(FakeChild(person=_in_family(person, parent)))
    return Family(parent=parent, children=children)


def _in_family(child: FakePerson, parent: FakePerson) -> FakePerson:
    """The child carries the parent's surname (and the father's name as patronymic)."""
    root = parent.last_name.removesuffix("а") if parent.sex == "female" else parent.last_name
    last_name = root + ("а" if child.sex == "female" and root.endswith(("ов", "ев", "ин")) else "")
    middle_name = child.middle_name
    if parent.sex == "male":
        middle_name = parent.first_name + ("овна" if child.sex == "female" else "ович")
    return FakePerson(
        iin=child.iin,
        last_name=last_name,
        first_name=child.first_name,
        middle_name=middle_name,
        birth_date=child.birth_date,
        sex=child.sex,
    )
