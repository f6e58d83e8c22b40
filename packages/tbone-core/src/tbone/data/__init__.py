"""The ODM: models, fields, validation, serialization and JSON Schema."""

from .constraints import Constraints
from .convert import Converter, register_type
from .fields import FieldInfo, FieldOptions, computed, field, model_validator
from .model import Model, fields_of, new_id, pk_of, set_version, version_of
from .ref import Ref, references_of
from .schema import collect_schemas, model_schema

__all__ = [
    "Constraints",
    "Converter",
    "FieldInfo",
    "FieldOptions",
    "Model",
    "Ref",
    "collect_schemas",
    "computed",
    "field",
    "fields_of",
    "model_schema",
    "model_validator",
    "new_id",
    "pk_of",
    "references_of",
    "register_type",
    "set_version",
    "version_of",
]
