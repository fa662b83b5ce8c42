"""The OpenAPI 3.0 description of the agent's API, served at ``GET /v1/openapi.json``.

Tests hold the server to it: schemathesis sends what it allows and checks every answer.
"""

from __future__ import annotations

from typing import Any

__all__ = ["OPENAPI"]

_TEXT = {"type": "string", "maxLength": 1024, "pattern": "^[^\\x00-\\x1f\\x7f]*$"}
_ID = {**_TEXT, "pattern": "^[^\\x00-\\x1f\\x7f]*[^\\x00-\\x20\\x7f][^\\x00-\\x1f\\x7f]*$"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": _ref("Problem")}},
    }


def _json(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


_QUERY_BODY = {
    "required": True,
    "content": {"application/json": {"schema": _ref("Query")}},
}
_REFUSED = {"401": _problem("TCP caller without the bearer token"), "403": _problem("refused")}
_VAULT = {
    "400": _problem("the query is not one credchain takes"),
    "502": _problem("the vault or a provider answered with an error"),
    "503": _problem("the vault is unavailable, or credchain is disabled"),
}

OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "credchain agent",
        "version": "1",
        "description": "Asset credentials for scanners from the configured credchain chain.",
    },
    "paths": {
        "/v1/resolve": {
            "post": {
                "summary": "One asset's SAFE credential",
                "operationId": "resolve",
                "requestBody": _QUERY_BODY,
                "responses": {
                    "200": {
                        **_json("the SAFE credential dict", "SafeCredential"),
                        "headers": {
                            "Credchain-Entry": {
                                "description": "the chain entry that found it",
                                "schema": {"type": "string"},
                            }
                        },
                    },
                    "404": _problem("no chain entry has a credential for the asset"),
                    **_VAULT,
                    **_REFUSED,
                },
            }
        },
        "/v1/resolve-many": {
            "post": {
                "summary": "Many assets: JSON lines in, JSON lines out in completion order",
                "operationId": "resolveMany",
                "parameters": [
                    {
                        "name": "concurrency",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 1, "maximum": 256},
                    }
                ],
                "requestBody": {
                    "description": "one Query per line; no body is no queries (no lines out)",
                    "required": False,
                    "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
                },
                "responses": {
                    "200": {
                        "description": "one ResolveManyLine per input line, as each completes",
                        "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
                    },
                    "400": _problem("a bad parameter"),
                    **_REFUSED,
                },
            }
        },
        "/v1/explain": {
            "post": {
                "summary": "The trace of a walk of the chain for a query (no secret)",
                "operationId": "explain",
                "requestBody": _QUERY_BODY,
                "responses": {
                    "200": _json("the trace", "Trace"),
                    **_VAULT,
                    **_REFUSED,
                },
            }
        },
        "/v1/health": {
            "get": {
                "summary": "Liveness and each chain entry's last state",
                "operationId": "health",
                "responses": {"200": _json("the agent is up", "Health"), **_REFUSED},
            }
        },
        "/v1/reload": {
            "post": {
                "summary": "Load the configuration again (as SIGHUP does)",
                "operationId": "reload",
                "responses": {
                    "200": _json("the new configuration serves", "Reloaded"),
                    "422": _problem("the new configuration is refused; the old one serves"),
                    **_REFUSED,
                },
            }
        },
        "/v1/openapi.json": {
            "get": {
                "summary": "This document",
                "operationId": "openapi",
                "responses": {
                    "200": {
                        "description": "OpenAPI 3.0",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    **_REFUSED,
                },
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics",
                "operationId": "metrics",
                "responses": {
                    "200": {
                        "description": "Prometheus text format 0.0.4",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                    **_REFUSED,
                },
            }
        },
    },
    "components": {
        "schemas": {
            "Query": {
                "type": "object",
                "description": "SAFE's query_data (at least one of the first three), and a domain",
                "properties": {
                    "asset_name": {**_TEXT, "nullable": True},
                    "ip_address": {**_TEXT, "nullable": True},
                    "cmdb_id": {**_TEXT, "nullable": True},
                    "domain": {**_TEXT, "nullable": True},
                },
                "additionalProperties": False,
                "anyOf": [
                    {"required": ["asset_name"], "properties": {"asset_name": _ID}},
                    {"required": ["ip_address"], "properties": {"ip_address": _ID}},
                    {"required": ["cmdb_id"], "properties": {"cmdb_id": _ID}},
                ],
            },
            "SafeCredential": {
                "type": "object",
                "required": ["username", "password"],
                "properties": {
                    "username": {"type": "string", "minLength": 1},
                    "password": {"type": "string", "format": "byte"},
                    "privilegePassword": {"type": "string", "format": "byte"},
                },
                "additionalProperties": False,
            },
            "Problem": {
                "type": "object",
                "description": "RFC 9457 problem details",
                "required": ["type", "title", "status", "detail"],
                "properties": {
                    "type": {"type": "string", "pattern": "^urn:credchain:problem:[a-z-]+$"},
                    "title": {"type": "string"},
                    "status": {"type": "integer", "minimum": 400, "maximum": 599},
                    "detail": {"type": "string"},
                },
            },
            "ResolveManyLine": {
                "type": "object",
                "required": ["index", "outcome"],
                "properties": {
                    "index": {"type": "integer", "minimum": 0},
                    "outcome": {
                        "type": "string",
                        "enum": ["found", "not_found", "unavailable", "error", "bad_request"],
                    },
                    "entry": {"type": "string", "nullable": True},
                    "cached": {"type": "boolean"},
                    "credential": _ref("SafeCredential"),
                    "problem": _ref("Problem"),
                },
            },
            "TraceStep": {
                "type": "object",
                "required": ["entry", "type", "outcome", "reason", "elapsed_ms"],
                "properties": {
                    "entry": {"type": "string"},
                    "type": {"type": "string"},
                    "outcome": {
                        "type": "string",
                        "enum": ["found", "not_found", "unavailable", "error", "skipped"],
                    },
                    "reason": {"type": "string"},
                    "elapsed_ms": {"type": "number", "minimum": 0},
                },
            },
            "Trace": {
                "type": "object",
                "required": ["query", "outcome", "steps"],
                "properties": {
                    "query": {"type": "object"},
                    "outcome": {"type": "string"},
                    "steps": {"type": "array", "items": _ref("TraceStep")},
                },
            },
            "EntryState": {
                "type": "object",
                "required": ["name", "type", "last"],
                "properties": {
                    "name": {"type": "string"},
                    "type": {"type": "string"},
                    "last": {
                        "type": "object",
                        "nullable": True,
                        "required": ["outcome", "at"],
                        "properties": {
                            "outcome": {"type": "string"},
                            "at": {"type": "string"},
                            "reason": {"type": "string"},
                        },
                    },
                },
            },
            "Health": {
                "type": "object",
                "required": ["status", "version", "pid", "uptime_s", "loaded_at", "entries"],
                "properties": {
                    "status": {"type": "string", "enum": ["ok", "degraded"]},
                    "version": {"type": "string"},
                    "pid": {"type": "integer"},
                    "uptime_s": {"type": "number"},
                    "config": {"type": "string"},
                    "loaded_at": {"type": "string"},
                    "enabled": {"type": "boolean"},
                    "entries": {"type": "array", "items": _ref("EntryState")},
                },
            },
            "Reloaded": {
                "type": "object",
                "required": ["status", "loaded_at", "restart_needed"],
                "properties": {
                    "status": {"type": "string", "enum": ["reloaded"]},
                    "loaded_at": {"type": "string"},
                    "restart_needed": {"type": "array", "items": {"type": "string"}},
                },
            },
        }
    },
}
