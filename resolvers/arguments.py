"""Argument checks that hold for every field, run once per operation (never per field).

- ``TEXT_RULES``: a validation rule (added with strawberry's ``AddValidationRules``, so it is
  cached with the rest of validation per document text) refusing string literals that break
  :mod:`policies.text` (e.g. ``"\\u0000"``).
- ``TextVariables``: the same rule over the request's variables, before execution starts;
  the operation is refused as a whole (BAD_REQUEST, no ``data``), naming the variable.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import ASTValidationRule, ExecutionResult, GraphQLError, StringValueNode, ValidationRule
from strawberry.extensions import SchemaExtension

from errors import BadRequest
from policies.codes import validate_uscc
from policies.text import refuse_control_characters


class TextLiterals(ValidationRule):
    """Every string literal of the document follows :mod:`policies.text`."""

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> None:
        try:
            refuse_control_characters(node.value, "a string literal")
        except BadRequest as refused:
            self.report_error(GraphQLError(refused.message, node, original_error=refused))


TEXT_RULES: list[type[ASTValidationRule]] = [TextLiterals]


class TextVariables(SchemaExtension):
    """Every string in the variables (nested in lists and input objects too) follows :mod:`policies.text`."""

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        try:
            _check(ctx.variables or {}, "variable $")
        except BadRequest as refused:
            error = GraphQLError(refused.message, original_error=refused, extensions=refused.extensions)
            ctx.result = ExecutionResult(data=None, errors=[error])
        yield


def text_variables_ok(variables: Mapping[str, Any]) -> bool:
    """Whether ``TextVariables`` lets these variables through (the compiled fast path asks
    before it starts: a refusal is the normal path's to answer)."""
    try:
        _check(variables, "variable $")
    except BadRequest:
        return False
    return True


def _check(value: Any, where: str) -> None:
    if isinstance(value, str):
        refuse_control_characters(value, where)
    elif isinstance(value, Mapping):
        for key, inner in value.items():
            _check(str(key), f"{where}{key} (a name)")
            _check(inner, f"{where}{key}" if where.endswith("$") else f"{where}.{key}")
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            _check(inner, f"{where}[{index}]")


__all__ = ["TEXT_RULES", "TextLiterals", "TextVariables", "text_variables_ok"]


def department_argument(value: str | None) -> str | None:
    """A department named in an argument (``consumer``, ``department``): a USCC in any spelling
    the gateway accepts as a code (lower case, spaces, full-width; policies.codes.normalize),
    returned in its one stored form, so that a filter written ``11420100mb0001011l`` finds what
    ``11420100MB0001011L`` finds. Raises ``InvalidCode`` (rule named) for anything else."""
    return None if value is None else validate_uscc(value)
