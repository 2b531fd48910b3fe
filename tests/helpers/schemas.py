"""The published schemas reports are checked against, kept under tests/data (see SOURCES.md)."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from helpers.paths import DATA

SARIF_SCHEMA = DATA / "sarif-schema-2.1.0.json"
JUNIT_XSD = DATA / "junit" / "JUnit.xsd"


@lru_cache(maxsize=1)
def sarif_validator() -> Any:
    """A validator of SARIF 2.1.0 (JSON Schema draft 4), formats checked."""
    from jsonschema import Draft4Validator

    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)


@lru_cache(maxsize=1)
def junit_schema() -> Any:
    """The JUnit XSD Jenkins and GitLab follow (windyroad/JUnit-Schema)."""
    import xmlschema

    return xmlschema.XMLSchema(str(JUNIT_XSD))
