"""A plain GraphQL endpoint offering govshare's subject queries over in-memory tables.

The ``graphql`` connector reads "a provincial govshare gateway, or any GraphQL endpoint that
offers the same subject queries" (issue 9 section 3). This is the second kind: graphql-core
over rows held in a dict, served by Starlette, so the connector contract can run over the
same rows (and keys) as every other kind. Each table ``t`` is the field ``Organization.t``
whose type has one field per column (Int for whole numbers, else String);
``organizations(codes:)`` answers one entry per code. ``generous=True`` answers more than
asked: three extra subjects after the ones asked for. ``/oauth/token`` hands out a token and
``/schema.graphql`` prints the schema (what ``check`` reads); the forwarding assertion is
not checked here (tests/e2e/test_cascade.py checks it at a real govshare upstream).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import build_schema, graphql, print_schema
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

Tables = dict[str, list[dict[str, Any]]]


def upstream_app(
    tables: Tables, key: str = "uscc", *, generous: bool = False, columns: Mapping[str, str] | None = None
) -> Starlette:
    """The endpoint over ``tables`` (read at each request: tables added later are served).
    ``columns`` (column -> GraphQL type) types a table's fields; without it they are taken
    from its rows (Int for whole numbers, else String), and a table without rows has none."""

    async def token(request: Request) -> Response:
        return JSONResponse({"access_token": "upstream-token", "token_type": "Bearer", "expires_in": 3600})

    async def schema(request: Request) -> Response:
        return PlainTextResponse(print_schema(build_schema(sdl(tables, columns))))

    async def query(request: Request) -> Response:
        body = await request.json()
        root = {"organizations": lambda info, codes: organizations(tables, key, codes, generous)}
        schema = build_schema(sdl(tables, columns))
        result = await graphql(schema, body["query"], root, variable_values=body.get("variables"))
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [error.formatted for error in result.errors]
        return JSONResponse(answer)

    return Starlette(routes=[Route("/oauth/token", token, methods=["POST"]),
                             Route("/schema.graphql", schema, methods=["GET"]),
                             Route("/graphql", query, methods=["POST"])])  # fmt: skip


def sdl(tables: Tables, columns: Mapping[str, str] | None = None) -> str:
    types = [_table_type(name, rows, columns) for name, rows in tables.items()]
    fields = " ".join(f"{name}: T_{name}" for name in tables) or "empty: String"
    return "\n".join([
        "scalar USCC", *types, f"type Organization {{ code: USCC {fields} }}",
        "type Query { organizations(codes: [USCC!]!): [Organization]! }",
    ])  # fmt: skip


def _table_type(name: str, rows: list[dict[str, Any]], typed: Mapping[str, str] | None) -> str:
    columns: dict[str, str] = dict(typed or {})
    for row in rows if typed is None else ():
        for column, value in row.items():
            if value is not None:
                columns.setdefault(column, "Int" if isinstance(value, int) else "String")
            else:
                columns.setdefault(column, "String")
    return f"type T_{name} {{ {' '.join(f'{c}: {t}' for c, t in columns.items()) or 'empty: String'} }}"


def organizations(tables: Tables, key: str, codes: list[str], generous: bool) -> list[dict[str, Any]]:
    indexes = {name: {str(row[key]): _plain(row) for row in rows} for name, rows in tables.items()}
    extra = [str(row[key]) for rows in tables.values() for row in rows][:3] if generous else []
    return [
        {"code": code, **{name: index.get(code) for name, index in indexes.items()}}
        for code in [*codes, *extra]
    ]


def _plain(row: Mapping[str, Any]) -> dict[str, Any]:
    return {c: v if v is None or isinstance(v, int | str) else v.isoformat() for c, v in row.items()}
