"""The JSON Schemas in ``schemas/``: loaded once, compiled once, used by writer and validator.

In a wheel the schemas live in ``dvcstage/schemas/``; in a source checkout they are read from
the repository's top-level ``schemas/`` folder, the single source of truth.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

IMAGE_SIDECAR = "image-sidecar"
MEDIA_INDEX_LINE = "media-index-line"


def schemas_dir() -> Path:
    """The folder holding ``*.schema.json`` (inside the package, else the source checkout)."""
    packaged = Path(__file__).parent / "schemas"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "schemas"


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The parsed schema ``schemas/<name>.schema.json``."""
    with open(schemas_dir() / f"{name}.schema.json", encoding="utf-8") as handle:
        schema: dict[str, Any] = json.load(handle)
    Draft202012Validator.check_schema(schema)
    return schema


@cache
def registry() -> Registry:
    """Every schema in ``schemas/`` by its ``$id``, so schemas can ``$ref`` one another."""
    resources = []
    for path in sorted(schemas_dir().glob("*.schema.json")):
        schema = load_schema(path.name.removesuffix(".schema.json"))
        resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)


@cache
def validator(name: str) -> Draft202012Validator:
    """A compiled validator for schema ``name`` (compiled once per process)."""
    return Draft202012Validator(load_schema(name), registry=registry())


def known(name: str) -> bool:
    """Whether ``schemas/<name>.schema.json`` exists."""
    return (schemas_dir() / f"{name}.schema.json").is_file()


def schema_errors(name: str, document: Any) -> list[str]:
    """Every problem of ``document`` against schema ``name``, as ``path: message`` strings."""
    problems = []
    for error in sorted(validator(name).iter_errors(document), key=lambda e: list(e.path)):
        where = "/".join(str(part) for part in error.absolute_path) or "(root)"
        problems.append(f"{where}: {error.message}")
    return problems


def check_document(name: str, document: Any, where: str) -> None:
    """Raise :class:`SchemaValidationError` if ``document`` does not match schema ``name``."""
    from .errors import SchemaValidationError  # here: dvcstage.errors imports dvclive (slow)

    problems = schema_errors(name, document)
    if problems:
        raise SchemaValidationError(f"{name}.schema.json", where, "; ".join(problems[:5]))
