"""The reference page's content, read from the OpenAPI document: its
operations, their parameters and answers, and its schemas, each type
written out in words (`/api/docs` renders it; nothing is written twice)."""
from dataclasses import dataclass, field

METHODS = ("get", "post", "put", "patch", "delete")


@dataclass
class Type:
    text: str
    link: str | None = None  # a schema of the document, linked to its section


@dataclass
class Field:
    name: str
    types: list
    required: bool
    description: str = ""


@dataclass
class Operation:
    method: str
    path: str
    anchor: str
    summary: str
    description: str
    tags: list
    parameters: list = field(default_factory=list)  # (where, Field)
    body: list = field(default_factory=list)  # Types
    answers: list = field(default_factory=list)  # (code, description, media type, Types, headers)


def types_of(schema):
    """The types a schema allows, in words, with links to named schemas."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return [Type(name, f"schema-{name}")]
    if "anyOf" in schema or "oneOf" in schema:
        return [t for option in schema.get("anyOf", schema.get("oneOf")) for t in types_of(option)]
    kind = schema.get("type", "object")
    if kind == "array":
        return [Type(f"array of {t.text}", t.link) for t in types_of(schema.get("items", {}))]
    if "enum" in schema:
        return [Type(" | ".join(f"`{value}`" for value in schema["enum"]))]
    if "const" in schema:
        return [Type(f"`{schema['const']}`")]
    words = {"integer": "integer", "string": "string", "boolean": "boolean", "number": "number",
             "object": "object", "null": "null"}
    text = words.get(kind, kind)
    if schema.get("format"):
        text += f" ({schema['format']})"
    return [Type(text)]


def fields_of(schema):
    required = set(schema.get("required", []))
    return [Field(name, types_of(property_), name in required, property_.get("description", ""))
            for name, property_ in schema.get("properties", {}).items()]


def operations(document):
    found = []
    for path, item in document["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            operation = item[method]
            entry = Operation(method.upper(), path, operation["operationId"], operation.get("summary", ""),
                              operation.get("description", ""), operation.get("tags", []))
            for parameter in operation.get("parameters", []):
                entry.parameters.append((parameter["in"], Field(
                    parameter["name"], types_of(parameter.get("schema", {})), parameter.get("required", False),
                    parameter.get("description", ""))))
            for media in operation.get("requestBody", {}).get("content", {}).values():
                entry.body = types_of(media["schema"])
            for code, answer in sorted(operation.get("responses", {}).items()):
                for media_type, media in (answer.get("content") or {"": {"schema": None}}).items():
                    types = types_of(media["schema"]) if media["schema"] else []
                    entry.answers.append((code, answer.get("description", ""), media_type, types,
                                          sorted(answer.get("headers", {}))))
            found.append(entry)
    return found


def schemas(document):
    return [(name, schema.get("description", ""), fields_of(schema))
            for name, schema in sorted(document.get("components", {}).get("schemas", {}).items())]
