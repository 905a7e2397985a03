"""Schema files made self-contained: a schema that names a type defined in another .avsc
file gets that definition inlined at its first use, as the Avro spec's Parsing Canonical
Form expects. The fingerprint in every message header is then the CRC-64-AVRO of the
canonical form of the schema as a reader holding only that one schema would parse it, so
any Avro library can check it (tests/unit/test_codec_other_libraries.py)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
NAMED = ("record", "enum", "fixed")


def _full(name: str, namespace: str) -> str:
    return name if "." in name or not namespace else f"{namespace}.{name}"


def definitions(schema: Any, namespace: str = "") -> dict[str, tuple[dict[str, Any], str]]:
    """Every named type a schema defines: full name -> (its definition, its namespace)."""
    found: dict[str, tuple[dict[str, Any], str]] = {}

    def walk(node: Any, ns: str) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, ns)
        elif isinstance(node, dict):
            if node.get("type") in NAMED and "name" in node:
                full = _full(node["name"], node.get("namespace", ns))
                ns = full.rpartition(".")[0]
                found.setdefault(full, (node, ns))
            for key in ("type", "items", "values", "fields"):
                if key in node:
                    walk(node[key], ns)

    walk(schema, schema.get("namespace", namespace) if isinstance(schema, dict) else namespace)
    return found


def self_contained(
    schema: dict[str, Any], lookup: Callable[[str], tuple[dict[str, Any], str] | None]
) -> dict[str, Any]:
    """A copy of `schema` with every type it names but does not define replaced, at its first
    use, by the definition `lookup(full name)` gives (recursively); later uses stay names."""
    defined: set[str] = set()

    def walk(node: Any, ns: str) -> Any:
        if isinstance(node, str):
            if node in PRIMITIVES:
                return node
            full = _full(node, ns)
            if full in defined:
                return node
            found = lookup(full)
            if found is None:
                return node  # the parser will say it is unknown
            definition, its_ns = found
            inlined = copy.deepcopy(definition)
            inlined["name"] = full  # its full name: namespaces never leak between files
            inlined.pop("namespace", None)
            return walk(inlined, its_ns)
        if isinstance(node, list):
            return [walk(item, ns) for item in node]
        if not isinstance(node, dict):
            return node
        out = dict(node)
        if out.get("type") in NAMED and "name" in out:
            full = _full(out["name"], out.get("namespace", ns))
            defined.add(full)
            ns = full.rpartition(".")[0]
        for key in ("type", "items", "values"):
            if key in out:
                out[key] = walk(out[key], ns)
        if "fields" in out:
            out["fields"] = [{**f, "type": walk(f["type"], ns)} for f in out["fields"]]
        return out

    return walk(copy.deepcopy(schema), schema.get("namespace", ""))  # type: ignore[no-any-return]
