"""Published demo personas of the fake registry (documented in the README and shown by the demo).

Parents with fixed IINs and БМГ phones; their children are computed for `today` so their ages
stay as described. Every other valid IIN is still a person (see `sandbox.gov.registry`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from devtools.sandbox.gov.registry import FakeChild, FakePerson, Family, make_child


@dataclass(frozen=True)
class Persona:
    key: str
    description: str
    iin: str
    last_name: str
    first_name: str
    middle_name: str
    birth_date: date
    sex: str
    phones: tuple[str, ...]


# A mother with children aged 1, 3 and 7 (the 7-year-old is refused: too old).
AIGERIM = Persona(
    key="aigerim",
    description="mother of three: children aged 1, 3 and 7 (the 7-year-old is too old)",
    iin="900412412345",
    last_name="Сейткали",
    first_name="Айгерим",
    middle_name="Нурлановна",
    birth_date=date(1990, 4, 12),
    sex="female",
    phones=("+77011110001", "+77011110002"),
)
# A father of a large family (first-priority benefit, category 8).
DANIYAR = Persona(
    key="daniyar",
    description="large family (first-priority benefit 8): children aged 2, 4, 9 and 12",
    iin="860903322018",
    last_name="Жаксылыков",
    first_name="Данияр",
    middle_name="Серикович",
    birth_date=date(1986, 9, 3),
    sex="male",
    phones=("+77022220001", "+77022220002"),
)
# A mother whose nephew lives with her but whose legal representative is someone else.
ELENA = Persona(
    key="elena",
    description="mother of a 2-year-old; the 4-year-old nephew has another legal representative",
    iin="920127433104",
    last_name="Иванова",
    first_name="Елена",
    middle_name="Сергеевна",
    birth_date=date(1992, 1, 27),
    sex="female",
    phones=("+77033330001", "+77033330002"),
)
# A father with one child aged 5.
ASKHAT = Persona(
    key="askhat",
    description="father of one 5-year-old",
    iin="881105344205",
    last_name="Омаров",
    first_name="Асхат",
    middle_name="Маратович",
    birth_date=date(1988, 11, 5),
    sex="male",
    phones=("+77044440001", "+77044440002"),
)

PERSONAS: tuple[Persona, ...] = (AIGERIM, DANIYAR, ELENA, ASKHAT)
BY_IIN = {persona.iin: persona for persona in PERSONAS}


def persona_person(persona: Persona) -> FakePerson:
    return FakePerson(
        iin=persona.iin,
        last_name=persona.last_name,
        first_name=persona.first_name,
        middle_name=persona.middle_name,
        birth_date=persona.birth_date,
        sex=persona.sex,
    )


def persona_family(persona: Persona, today: date) -> Family:
    iin = persona.iin
    children: list[FakeChild]
    benefits: list[dict[str, object]] = []
    if persona is AIGERIM:
        children = [
            make_child(iin, 0, 1, False, "Аружан", "Сейткали", "Ерлановна", today),
            make_child(iin, 1, 3, True, "Алихан", "Сейткали", "Ерланович", today),
            make_child(iin, 2, 7, True, "Нурасыл", "Сейткали", "Ерланович", today),
        ]
    elif persona is DANIYAR:
        children = [
            make_child(iin, 0, 2, True, "Айсултан", "Жаксылыков", "Даниярович", today),
            make_child(iin, 1, 4, False, "Амина", "Жаксылыкова", "Данияровна", today),
            make_child(iin, 2, 9, True, "Ерасыл", "Жаксылыков", "Даниярович", today),
            make_child(iin, 3, 12, False, "Томирис", "Жаксылыкова", "Данияровна", today),
        ]
        valid_until = date(today.year + 1, 12, 31)
        benefits = [{"category": 8, "valid_until": valid_until.isoformat()}]
    elif persona is ELENA:
        children = [
            make_child(iin, 0, 2, False, "София", "Иванова", "Андреевна", today),
            make_child(
                iin, 1, 4, True, "Матвей", "Петров", "Олегович", today, legal_representative=False
            ),
        ]
    else:
        children = [make_child(iin, 0, 5, False, "Камила", "Омарова", "Асхатовна", today)]
    return Family(
        parent=persona_person(persona),
        children=children,
        benefits=benefits,
        phones=list(persona.phones),
    )
