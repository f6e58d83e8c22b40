"""Tagged unions of models: validation by tag, member paths, round trip, schema, declaration
errors, query paths into the members, and field rules inside them."""

from __future__ import annotations

from typing import Any, Literal

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tbone import Model, ValidationError, field
from tbone.errors import QueryError
from tbone.resources.rules import rules_for
from tbone.storage.path import resolve


class Cat(Model, embedded=True):
    kind: Literal["cat"] = "cat"
    name: str = field(min_length=1)
    lives: int = field(default=9, ge=0, le=9)
    chip: str | None = field(default=None, private=True)
    seen: str | None = field(default=None, read_only=True)


class Dog(Model, embedded=True):
    kind: Literal["dog"] = "dog"
    name: str = field(min_length=1)
    good: bool = True
    size: int = 0


class Bird(Model, embedded=True):
    kind: Literal["bird", "parrot"]
    name: str | None = None
    size: str = ""


class Home(Model):
    pet: Cat | Dog
    spare: Cat | Dog | None = None
    pets: list[Cat | Dog] = field(factory=list)
    by_room: dict[str, Cat | Dog] = field(factory=dict)


class Aviary(Model):
    pet: Cat | Bird | None = None
    mixed: Dog | Bird | None = None


def _errors(data: dict[str, Any], model: type[Model] = Home) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as info:
        model.from_data(data)
    return [dict(e) for e in info.value.errors]


# -- validation --------------------------------------------------------------------------------


def test_the_tag_picks_the_member() -> None:
    home = Home.from_data(
        {
            "pet": {"kind": "dog", "name": "Rex"},
            "spare": {"kind": "cat", "name": "Tom", "lives": 3},
            "pets": [{"kind": "cat", "name": "a"}, {"kind": "dog", "name": "b", "good": False}],
            "by_room": {"hall": {"kind": "dog", "name": "c"}},
        }
    )
    assert home.pet == Dog(name="Rex")
    assert home.spare == Cat(name="Tom", lives=3)
    assert [type(p) for p in home.pets] == [Cat, Dog]
    assert home.pets[1] == Dog(name="b", good=False)
    assert home.by_room == {"hall": Dog(name="c")}


def test_a_member_may_own_several_tags() -> None:
    aviary = Aviary.from_data({"pet": {"kind": "parrot"}, "mixed": {"kind": "bird"}})
    assert aviary.pet == Bird(kind="parrot")
    assert aviary.mixed == Bird(kind="bird")
    assert Aviary.from_data({"pet": None}).pet is None


def test_missing_tag_is_an_error_at_the_tag() -> None:
    # the members default their tag, but wire data for the union must say which member it is
    [error] = _errors({"pet": {"name": "Rex"}})
    assert error["loc"] == ["pet", "kind"]
    assert error["type"] == "missing"
    assert "'cat', 'dog'" in error["msg"]


@pytest.mark.parametrize("tag", ["fish", "Cat", "", 3, None, True, ["cat"], {"cat": 1}])
def test_a_tag_matching_no_member_lists_the_allowed_tags(tag: Any) -> None:
    [error] = _errors({"pet": {"kind": tag, "name": "Rex"}})
    assert error == {
        "loc": ["pet", "kind"],
        "msg": "must be one of: 'cat', 'dog'",
        "type": "union_tag",
    }


@pytest.mark.parametrize("value", [[{"kind": "cat", "name": "a"}], "cat", 3, True])
def test_a_value_that_is_not_an_object(value: Any) -> None:
    [error] = _errors({"pet": value})
    assert error["loc"] == ["pet"]
    assert error["type"] == "model_type"


def test_errors_inside_the_member_keep_its_paths() -> None:
    errors = _errors(
        {
            "pet": {"kind": "cat", "name": "", "lives": 10, "good": True},
            "pets": [{"kind": "dog", "name": "x"}, {"kind": "dog", "name": "y", "good": "yes"}],
            "by_room": {"hall": {"kind": "cow"}},
        }
    )
    locs = sorted(tuple(e["loc"]) for e in errors)
    assert locs == [
        ("by_room", "hall", "kind"),
        ("pet", "good"),  # a Dog field is unknown in a Cat
        ("pet", "lives"),
        ("pet", "name"),
        ("pets", 1, "good"),
    ]


def test_unknown_field_errors_never_name_private_fields() -> None:
    errors = _errors({"pet": {"kind": "cat", "name": "Tom", "bark": 1}})
    assert errors[0]["loc"] == ["pet", "bark"]
    assert "chip" not in errors[0]["msg"]


def test_python_construction_checks_members() -> None:
    home = Home(pet=Cat(name="Tom"), pets=[Dog(name="Rex")])
    assert home.pet.kind == "cat"
    with pytest.raises(ValidationError) as info:
        Home(pet=Cat(name="Tom"), pets=["Rex"])  # type: ignore[list-item]  # wrong on purpose
    assert info.value.errors[0]["loc"] == ["pets", 0]


# -- serialization ---------------------------------------------------------------------------


def test_round_trip() -> None:
    data = {
        "pet": {"kind": "cat", "name": "Tom", "lives": 2, "seen": None},
        "spare": None,
        "pets": [{"kind": "dog", "name": "Rex", "good": True, "size": 3}],
        "by_room": {"hall": {"kind": "cat", "name": "Kit", "lives": 9, "seen": None}},
    }
    home = Home.from_data(data)
    out = home.to_data()
    assert {k: v for k, v in out.items() if k != "id"} == data
    assert Home.from_data({**out, "id": home.id}) == home


def test_full_form_keeps_private_fields_of_members() -> None:
    home = Home(pet=Cat(name="Tom", chip="123"))
    assert "chip" not in home.to_data()["pet"]
    full = home.to_data(full=True)
    assert full["pet"]["chip"] == "123"
    assert Home.from_data(full) == home


pets = st.one_of(
    st.builds(Cat, name=st.text(min_size=1, max_size=5), lives=st.integers(0, 9)),
    st.builds(Dog, name=st.text(min_size=1, max_size=5), good=st.booleans()),
)


@given(pet=pets, more=st.lists(pets, max_size=4))
def test_round_trip_of_any_pets(pet: Cat | Dog, more: list[Cat | Dog]) -> None:
    home = Home(pet=pet, pets=more)
    assert Home.from_data(home.to_data(full=True)) == home


# -- declaration errors -----------------------------------------------------------------------


def _declare(annotation: str) -> None:
    # the class belongs to this module, whose globals its string annotations resolve in
    namespace: dict[str, Any] = {"__name__": __name__, "Model": Model}
    exec(f"class Broken(Model):\n    pet: {annotation}\n", namespace)


class Twin(Model, embedded=True):
    kind: Literal["dog"]


class Tagless(Model, embedded=True):
    name: str


class Numbered(Model, embedded=True):
    kind: Literal[1]


class Secretive(Model, embedded=True):
    kind: Literal["secret"] = field(default="secret", private=True)


@pytest.mark.parametrize(
    ("annotation", "message"),
    [
        ("Dog | Twin", "the tag field 'kind' has the value(s) 'dog' in more than one member"),
        ("Cat | Tagless", "Tagless declares none"),
        ("list[Cat | Tagless]", "Tagless declares none"),
        ("Cat | Numbered | None", "Numbered declares none"),
        ("Cat | Secretive", "Secretive declares none"),
        ("Cat | str", "str is not a model"),
        ("dict[str, Cat | int]", "int is not a model"),
    ],
)
def test_declaration_errors_when_the_class_is_created(annotation: str, message: str) -> None:
    with pytest.raises(TypeError, match=r"Broken\.pet: ") as info:
        _declare(annotation)
    assert message in str(info.value)


def test_members_declared_later_are_checked_on_first_use() -> None:
    class Later(Model):
        pet: Cat | Stray  # a string annotation naming a model not defined yet

    class Stray(Model, embedded=True):
        kind: Literal["cat"]

    with pytest.raises(TypeError, match="'cat' in more than one member"):
        Later.from_data({"pet": {"kind": "cat", "name": "x"}})


def test_the_tag_is_the_first_field_that_tells_members_apart() -> None:
    class Ok(Model, embedded=True):
        status: Literal["ok"]
        kind: Literal["ok"]

    class Err(Model, embedded=True):
        status: Literal["ok"]
        kind: Literal["err"]

    class Reply(Model):
        body: Ok | Err

    assert type(Reply.from_data({"body": {"status": "ok", "kind": "err"}}).body) is Err
    [error] = _errors({"body": {"status": "ok"}}, Reply)
    assert error["loc"] == ["body", "kind"]


# -- JSON Schema ------------------------------------------------------------------------------


def test_schema_is_one_of_with_a_discriminator() -> None:
    schema = Home.json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    pet = schema["properties"]["pet"]
    assert pet == {
        "oneOf": [{"$ref": "#/$defs/Cat"}, {"$ref": "#/$defs/Dog"}],
        "discriminator": {
            "propertyName": "kind",
            "mapping": {"cat": "#/$defs/Cat", "dog": "#/$defs/Dog"},
        },
        "required": ["kind"],
    }
    assert schema["properties"]["pets"]["items"] == pet
    assert schema["properties"]["spare"]["anyOf"] == [pet, {"type": "null"}]
    assert set(schema["$defs"]) == {"Cat", "Dog"}
    assert "chip" not in schema["$defs"]["Cat"]["properties"]


def test_schema_accepts_real_output_and_refuses_a_wrong_tag() -> None:
    schema = Home.json_schema()
    home = Home(pet=Cat(name="Tom"), pets=[Dog(name="Rex")], by_room={"x": Cat(name="K")})
    jsonschema.validate(home.to_data(), schema, cls=jsonschema.Draft202012Validator)
    for pet in ({"kind": "cow", "name": "x"}, {"name": "x"}, [{"kind": "cat", "name": "x"}]):
        bad = {**home.to_data(), "pet": pet}
        with pytest.raises(ValidationError):  # what validation refuses, the schema refuses
            Home.from_data(bad)
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema, cls=jsonschema.Draft202012Validator)


def test_schema_of_a_member_with_several_tags() -> None:
    mapping = Aviary.json_schema()["properties"]["pet"]["anyOf"][0]["discriminator"]["mapping"]
    assert mapping == {"cat": "#/$defs/Cat", "bird": "#/$defs/Bird", "parrot": "#/$defs/Bird"}


# -- query paths ------------------------------------------------------------------------------


def test_paths_into_members() -> None:
    tag = resolve(Home, ["pet", "kind"])
    assert tag.kind == "scalar"
    assert tag.load("dog") == "dog"
    with pytest.raises(QueryError) as info:
        tag.load("cow", ["pet.kind"])
    assert info.value.errors[0]["loc"] == ["pet.kind"]
    assert resolve(Home, ["pet", "lives"]).load(3) == 3  # only cats have lives
    assert resolve(Home, ["spare", "name"]).converter.python_type is str
    assert resolve(Home, ["pet"]).kind == "model"
    assert resolve(Aviary, ["pet", "kind"]).load("parrot") == "parrot"
    assert resolve(Aviary, ["pet", "name"]).load(None) is None  # str in Cat, str | None in Bird


def test_paths_the_members_disagree_on_or_none_has() -> None:
    with pytest.raises(QueryError, match=r"int in Dog, str in Bird") as info:
        resolve(Aviary, ["mixed", "size"])
    assert info.value.errors[0]["type"] == "query_path"
    with pytest.raises(QueryError, match=r"unknown field .pet\.bark.; allowed: .*lives") as info:
        resolve(Home, ["pet", "bark"])
    assert info.value.errors[0]["type"] == "unknown_field"


# -- field rules inside members -----------------------------------------------------------------


def test_rules_apply_inside_the_member_the_tag_picks() -> None:
    rules = rules_for(Home)
    cleaned = rules.clean(
        {
            "pet": {"kind": "cat", "name": "Tom", "seen": "yesterday"},
            "pets": [{"kind": "cat", "name": "a", "seen": "x"}, {"kind": "dog", "name": "b"}],
        }
    )
    assert cleaned == {
        "pet": {"kind": "cat", "name": "Tom"},
        "pets": [{"kind": "cat", "name": "a"}, {"kind": "dog", "name": "b"}],
    }
    with pytest.raises(ValidationError) as info:
        rules.clean({"pet": {"kind": "cat", "name": "Tom", "chip": "999"}})
    assert info.value.errors == [
        {"loc": ["pet", "chip"], "msg": "unknown field", "type": "extra_forbidden"}
    ]
    # a wrong tag is left for validation to report
    assert rules.clean({"pet": {"kind": "cow", "chip": 1}}) == {"pet": {"kind": "cow", "chip": 1}}


def test_writes_keep_stored_private_values_of_the_same_member_only() -> None:
    rules = rules_for(Home)
    stored = {"pet": {"kind": "cat", "name": "Tom", "chip": "123", "seen": "then"}}
    same = rules.carry(stored, {"pet": {"kind": "cat", "name": "Tommy"}})
    assert same == {"pet": {"kind": "cat", "name": "Tommy", "chip": "123", "seen": "then"}}
    other = rules.carry(stored, {"pet": {"kind": "dog", "name": "Rex"}})
    assert other == {"pet": {"kind": "dog", "name": "Rex"}}
