"""JSON Schema of models: valid 2020-12, faithful to field options."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from .models import Book, Everything, Node, Period


@pytest.mark.parametrize("model", [Book, Everything, Node, Period])
def test_schema_is_valid_json_schema(model: Any) -> None:
    schema = model.json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)


def test_schema_reflects_options() -> None:
    schema = Book.json_schema()
    props = schema["properties"]
    assert "cost" not in props
    assert props["secret"]["writeOnly"] is True
    assert props["added"]["readOnly"] is True
    assert props["id"]["readOnly"] is True
    assert props["title"] == {"type": "string", "minLength": 1, "maxLength": 200}
    assert props["isbn"]["pattern"] == r"^\d{13}$"
    assert sorted(schema["required"]) == ["author", "title"]
    assert schema["additionalProperties"] is False


def test_schema_validates_real_output() -> None:
    for obj in (Book(title="t", author="a"), Node(label="x", child=Node(label="y")), Everything()):
        schema = type(obj).json_schema()
        jsonschema.validate(obj.to_data(), schema, cls=jsonschema.Draft202012Validator)


def test_nested_and_recursive_models_use_defs() -> None:
    schema = Everything.json_schema()
    assert schema["properties"]["address"]["anyOf"][0] == {"$ref": "#/$defs/Address"}
    assert "Address" in schema["$defs"]
    node = Node.json_schema()
    assert node["$ref"] == "#/$defs/Node"
    assert node["$defs"]["Node"]["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}


def test_computed_fields_are_read_only_in_the_schema() -> None:
    props = Period.json_schema()["properties"]
    assert props["days"] == {
        "readOnly": True,
        "type": "integer",
        "description": "Length of the period in days.",
    }
