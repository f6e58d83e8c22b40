"""``{Model}Expanded``: what a list or detail answer holds when ``?expand=`` embedded objects.

It is the model's response schema with no field required but the primary key (``fields=`` may
project it too), and each expandable reference field accepting, beside the key, the embedded
object (the target's own ``Expanded`` schema when it has references, for dotted paths) or
``null`` (an object the caller may not see).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from ..data.ref import SCHEMA_KEY
from ..resources.refs import expandable
from .schemas import SchemaSet, ref

if TYPE_CHECKING:
    from ..resources.resource import Resource

__all__ = ["add_expanded"]


def add_expanded(schemas: SchemaSet, resource: Resource[Any]) -> str | None:
    """Add the ``Expanded`` schema of ``resource``'s model (and of the models it embeds); its
    component name, or None when nothing on it can be expanded."""
    fields = expandable(resource)
    if not fields:
        return None
    model = resource.model
    name = f"{model.__name__}Expanded"
    if name in schemas.schemas:
        return name
    base = copy.deepcopy(schemas.schemas[schemas.add_model(model)])
    base.pop("required", None)
    base.update(
        title=name,
        description=f"A {model.__name__} whose references `expand=` embedded.",
        required=[resource.pk],
    )
    schemas._add(name, model, base)  # claimed before the targets: references may loop back
    for field, (_, target) in fields.items():
        embedded = add_expanded(schemas, target) or schemas.add_model(target.model)
        prop = base["properties"].get(field)
        if prop is not None:
            base["properties"][field] = _embedding(prop, ref(embedded))
    return name


def _embedding(node: Any, target: dict[str, str]) -> Any:
    """``node`` with each reference schema in it also accepting the embedded object or null."""
    if isinstance(node, dict):
        if SCHEMA_KEY in node:
            return {"anyOf": [node, target, {"type": "null"}]}
        return {k: _embedding(v, target) if k in ("anyOf", "items") else v for k, v in node.items()}
    if isinstance(node, list):
        return [_embedding(v, target) for v in node]
    return node
