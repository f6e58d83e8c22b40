"""Models: construction, round trips, options, inheritance, primary keys."""

from __future__ import annotations

import datetime as dt

import pytest

from tbone import Model, ValidationError, field, fields_of, pk_of
from tbone.data import set_version, version_of

from .models import Address, Author, Base, Book, Child, Choice, Isbn, Loose, Period


def test_from_data_builds_the_model_and_to_data_gives_json_ready_output() -> None:
    book = Book.from_data({"title": "Dune", "author": "Herbert", "year": 1965, "tags": ["scifi"]})
    assert isinstance(book, Book)
    assert (book.title, book.author, book.year, book.tags) == ("Dune", "Herbert", 1965, ["scifi"])
    data = book.to_data()
    assert data["title"] == "Dune"
    assert data["added"] == book.added.isoformat()
    assert isinstance(data["id"], str)
    assert len(data["id"]) == 32


def test_falsy_values_survive_every_round_trip() -> None:
    data = {"title": "x", "author": "", "year": 0, "tags": [], "in_print": False, "isbn": None}
    book = Book.from_data(data)
    out = book.to_data()
    for key, value in data.items():
        assert out[key] == value
        assert type(out[key]) is type(value)
    again = Book.from_data({**out, "cost": 0.0})
    assert again.to_data() == out


def test_private_and_write_only_fields_are_left_out_of_output_but_kept_in_full() -> None:
    book = Book(title="t", author="a", cost=3.5, secret="s3")
    assert "cost" not in book.to_data()
    assert "secret" not in book.to_data()
    full = book.to_data(full=True)
    assert full["cost"] == 3.5
    assert full["secret"] == "s3"
    assert Book.from_data(full) == book


def test_to_data_projection_keeps_only_named_fields() -> None:
    book = Book(title="t", author="a")
    assert book.to_data(fields={"title", "year"}) == {"title": "t", "year": None}


def test_direct_construction_validates_and_converts() -> None:
    book = Book(title="t", author="a", added="2024-01-02T03:04:05Z")  # type: ignore[arg-type]  # converted on purpose
    assert book.added == dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    with pytest.raises(ValidationError) as info:
        Book(title="", author=3)  # type: ignore[arg-type]  # wrong on purpose
    assert {tuple(e["loc"]) for e in info.value.errors} == {("title",), ("author",)}


def test_validate_rechecks_after_assignment() -> None:
    book = Book(title="t", author="a")
    book.year = -5
    with pytest.raises(ValidationError) as info:
        book.validate()
    assert info.value.errors[0]["loc"] == ["year"]


def test_implicit_primary_key_is_generated_and_read_only() -> None:
    assert pk_of(Book) == "id"
    info = fields_of(Book)["id"]
    assert info.options.primary_key
    assert info.options.read_only
    assert Book(title="a", author="b").id != Book(title="a", author="b").id


def test_declared_primary_key_replaces_the_implicit_one() -> None:
    assert pk_of(Isbn) == "isbn"
    assert "id" not in fields_of(Isbn)
    assert Isbn.from_data({"isbn": "9780441172719"}).isbn == "9780441172719"


def test_a_declared_id_field_becomes_the_primary_key() -> None:
    class Named(Model):
        id: int
        name: str = ""

    assert pk_of(Named) == "id"
    assert fields_of(Named)["id"].options.primary_key
    assert Named.from_data({"id": 0}).id == 0


def test_embedded_models_have_no_primary_key() -> None:
    assert "id" not in fields_of(Address)
    with pytest.raises(TypeError, match="embedded"):
        pk_of(Address)
    author = Author.from_data({"name": "n", "address": {"street": "s", "city": "c"}})
    assert author.address == Address(street="s", city="c")
    assert author.to_data()["address"] == {"street": "s", "city": "c"}


def test_inheritance_keeps_parent_fields_first() -> None:
    assert list(fields_of(Child)) == ["id", "created", "name"]
    child = Child.from_data({"name": "c"})
    assert isinstance(child.created, dt.datetime)
    assert list(fields_of(Base)) == ["id", "created"]
    assert set(Base().to_data()) == {"id", "created"}


def test_unknown_fields_rejected_by_default_and_ignored_when_asked() -> None:
    with pytest.raises(ValidationError) as info:
        Book.from_data({"title": "t", "author": "a", "colour": "red"})
    err = info.value.errors[0]
    assert err["loc"] == ["colour"]
    assert err["type"] == "extra_forbidden"
    assert "title" in err["msg"]
    assert Loose.from_data({"name": "x", "colour": "red"}).to_data()["name"] == "x"


def test_missing_required_fields_are_each_reported() -> None:
    with pytest.raises(ValidationError) as info:
        Book.from_data({})
    assert sorted(tuple(e["loc"]) for e in info.value.errors) == [("author",), ("title",)]
    assert all(e["type"] == "missing" for e in info.value.errors)


def test_field_and_model_validators_and_computed_fields() -> None:
    period = Period.from_data({"start": "2024-01-01", "end": "2024-01-31"})
    assert period.to_data()["days"] == 30
    with pytest.raises(ValidationError) as info:
        Period.from_data({"start": "2024-02-01", "end": "2024-01-01"})
    assert info.value.errors == [
        {"loc": [], "msg": "end must not be before start", "type": "value_error"}
    ]
    with pytest.raises(ValidationError) as info:
        Period.from_data({"start": "2024-01-01", "end": "2024-01-02", "note": "HEY"})
    assert info.value.errors[0]["loc"] == ["note"]
    assert info.value.errors[0]["msg"] == "please do not shout"


def test_model_validator_may_raise_validation_error_with_locations() -> None:
    from tbone import model_validator

    class Pair(Model):
        a: int = 0
        b: int = 0

        @model_validator
        def ordered(self) -> None:
            if self.a > self.b:
                raise ValidationError.single(["b"], "must be at least a", "order")

    with pytest.raises(ValidationError) as info:
        Pair.from_data({"a": 2, "b": 1})
    assert info.value.errors == [{"loc": ["b"], "msg": "must be at least a", "type": "order"}]


def test_choices_compare_type_as_well_as_value() -> None:
    assert Choice.from_data({"size": "s", "level": 2}).level == 2
    with pytest.raises(ValidationError) as info:
        Choice.from_data({"size": "xl", "level": True})
    assert [e["type"] for e in info.value.errors] == ["choices", "int_type"]


def test_versions_are_carried_on_instances() -> None:
    book = Book(title="t", author="a")
    assert version_of(book) is None
    set_version(book, 3)
    assert version_of(book) == 3
    assert "_tbone_version" not in book.to_data(full=True)


def test_field_rejects_contradictory_options() -> None:
    with pytest.raises(TypeError):
        field(default=1, factory=int)  # type: ignore[call-overload]  # wrong on purpose
    with pytest.raises(TypeError):
        field(private=True, read_only=True)
    with pytest.raises(TypeError):
        field(read_only=True, write_only=True)


def test_unsupported_types_fail_clearly_on_first_use() -> None:
    class Weird(Model):
        thing: complex = 0j

    with pytest.raises(TypeError, match=r"Weird\.thing"):
        Weird.from_data({})


def test_extra_option_is_checked() -> None:
    with pytest.raises(TypeError, match="extra"):

        class Bad(Model, extra="allow"):  # type: ignore[arg-type]  # wrong on purpose
            pass


def _shelf() -> tuple[type[Model], type[Model]]:
    """A Book whose string annotation names the Author defined beside it, in this function
    (returned too: the registry of models holds them weakly)."""

    class Author(Model, embedded=True):
        name: str

    class Book(Model):
        author: Author | None = None

    return Book, Author


def _archive() -> tuple[type[Model], type[Model]]:
    class Author(Model, embedded=True):  # another Author, defined later
        initials: str

    class Book(Model):
        author: Author | None = None

    return Book, Author


def test_models_with_the_same_name_bind_to_the_one_beside_them() -> None:
    (shelf, shelf_author), (archive, archive_author) = _shelf(), _archive()
    first, second = fields_of(shelf)["author"].model, fields_of(archive)["author"].model
    assert first is not None
    assert second is not None
    assert (first, second) == (shelf_author, archive_author)
    assert (first.__qualname__, second.__qualname__) == (
        "_shelf.<locals>.Author",
        "_archive.<locals>.Author",
    )
    assert shelf.from_data({"author": {"name": "Le Guin"}}).to_data()["author"] == {
        "name": "Le Guin"
    }
