"""The one error hierarchy of govshare.

Every error the gateway can answer with knows its GraphQL ``extensions.code`` and
the HTTP status it maps to when it ends a whole request. It lives in this leaf
module, outside the four packages, because ``policies`` and ``connectors`` raise
these errors too and may import neither ``gateway`` nor each other.

    GovshareError                      (abstract; code, status, extensions)
    ├── BadRequest                     BAD_REQUEST                 400
    │   ├── InvalidCode                INVALID_CODE                400
    │   ├── InvalidHeader              INVALID_HEADER              400
    │   ├── OperationNotSelected       BAD_REQUEST                 400
    │   ├── PurposeRequired            PURPOSE_REQUIRED            400
    │   ├── QueryTooComplex            QUERY_TOO_COMPLEX           400
    │   │   ├── RequestTooLarge        REQUEST_TOO_LARGE           413
    │   │   └── HeadersTooLarge        HEADERS_TOO_LARGE           431
    │   └── UnsupportedMediaType       UNSUPPORTED_MEDIA_TYPE      415
    ├── Unauthenticated                UNAUTHENTICATED             401
    ├── AccessDenied                   (abstract: a field or request is refused)
    │   ├── Forbidden                  FORBIDDEN                   403
    │   ├── ConditionalAccessRequired  CONDITIONAL_ACCESS_REQUIRED 403
    │   │   └── ApplicationRequired    APPLICATION_REQUIRED        403
    │   ├── OnboardingRequired         ONBOARDING_REQUIRED         403
    │   ├── GrantExpired               GRANT_EXPIRED               403
    │   ├── OutOfScope                 OUT_OF_SCOPE                403
    │   ├── ModeNotAllowed             MODE_NOT_ALLOWED            403
    │   └── NotShared                  NOT_SHARED                  403
    ├── RateLimited                    RATE_LIMITED                429
    ├── SourceUnavailable              SOURCE_UNAVAILABLE          503
    ├── AuditUnavailable               AUDIT_UNAVAILABLE           503
    ├── RateStoreUnavailable           RATE_STORE_UNAVAILABLE      503
    ├── CatalogOutOfDate               CATALOG_OUT_OF_DATE         503
    └── ConfigurationError             (not an answer: bad catalog, settings or
        ├── CatalogError                command line; names the file, path and fix)
        │   └── CatalogErrors           every problem of a catalog, the first one's
        │                               file, path and fix on the error itself
        ├── SchemaError                 the platform database's schema is behind
        │                               (`govshare db upgrade`), newer than this
        │                               version, or not one govshare made
        ├── BackupRefused               a backup or restore refused: the file changed or
        │                               missing, the target not empty, pg_dump absent
        └── WorkerStartFailed           `serve --workers N`: a worker failed to start, so
                                        the supervisor stopped them all (exit status 2)

A message says what was wrong and how to fix it; ``extensions`` carries the
machine-readable detail (resource, item, provider, rule ...). Never put a stored
value of a citizen or enterprise into either.
"""

from __future__ import annotations

from typing import Any, ClassVar


class GovshareError(Exception):
    code: ClassVar[str] = "INTERNAL"
    status: ClassVar[int] = 500

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions: dict[str, Any] = {"code": self.code, **extensions}


class BadRequest(GovshareError):
    code = "BAD_REQUEST"
    status = 400


class InvalidCode(BadRequest):
    """An identity code failed one named rule (length, charset, check character...)."""

    code = "INVALID_CODE"

    def __init__(self, message: str, *, kind: str, rule: str, **extensions: Any) -> None:
        super().__init__(message, kind=kind, rule=rule, **extensions)
        self.kind = kind
        self.rule = rule


class InvalidHeader(BadRequest):
    """A request header the gateway reads holds what no header may: a control or format
    character (RFC 9110 section 5.5: field values are visible characters, spaces and tabs;
    percent-decoded values are held to the same rule), or octets (raw or percent-encoded) that are not UTF-8.
    ``extensions.header`` names it."""

    code = "INVALID_HEADER"

    def __init__(self, message: str, *, header: str, **extensions: Any) -> None:
        super().__init__(message, header=header, **extensions)
        self.header = header


class OperationNotSelected(BadRequest):
    """The request does not pick one operation of its document (GraphQL spec 6.1
    GetOperation: several operations and no ``operationName``, or an unknown name).
    A request error under every media type: nothing runs."""


class PurposeRequired(BadRequest):
    code = "PURPOSE_REQUIRED"


class QueryTooComplex(BadRequest):
    """An operation cost limit (resolvers.limits) is exceeded; ``extensions`` name the limit
    (``limit``), its value (``maximum``) and its ``GOVSHARE_*`` variable."""

    code = "QUERY_TOO_COMPLEX"


class UnsupportedMediaType(BadRequest):
    """A POST body in a media type other than ``application/json`` (GraphQL over HTTP,
    "POST request": the server MUST support application/json and MAY answer 415 to others)."""

    code = "UNSUPPORTED_MEDIA_TYPE"
    status = 415


class RequestTooLarge(QueryTooComplex):
    """The request body is larger than ``GOVSHARE_MAX_BODY_BYTES`` (RFC 9110 §15.5.14)."""

    code = "REQUEST_TOO_LARGE"
    status = 413


class HeadersTooLarge(QueryTooComplex):
    """The request line and headers are longer than ``GOVSHARE_MAX_HEAD_BYTES``
    (RFC 6585 section 5, 431 Request Header Fields Too Large); refused while reading them."""

    code = "HEADERS_TOO_LARGE"
    status = 431


class Unauthenticated(GovshareError):
    code = "UNAUTHENTICATED"
    status = 401


class AccessDenied(GovshareError):
    status = 403


class Forbidden(AccessDenied):
    code = "FORBIDDEN"


class ConditionalAccessRequired(AccessDenied):
    code = "CONDITIONAL_ACCESS_REQUIRED"


class ApplicationRequired(ConditionalAccessRequired):
    """An unconditional item under a profile where every use needs an approved application
    (``access.unconditional_access: on_application``: Hubei art. 13, 18-21; Zhejiang art. 26).
    A subclass: the grant reasons and their order are those of conditional items."""

    code = "APPLICATION_REQUIRED"


class OnboardingRequired(AccessDenied):
    """A department not yet onboarded reads nothing where the profile requires onboarding
    (``access.onboarding``: Sanya art. 12, a written access application with a commitment)."""

    code = "ONBOARDING_REQUIRED"
    status = 403


class GrantExpired(AccessDenied):
    code = "GRANT_EXPIRED"


class OutOfScope(AccessDenied):
    code = "OUT_OF_SCOPE"


class ModeNotAllowed(AccessDenied):
    code = "MODE_NOT_ALLOWED"


class NotShared(AccessDenied):
    code = "NOT_SHARED"


class RateLimited(GovshareError):
    code = "RATE_LIMITED"
    status = 429


class SourceUnavailable(GovshareError):
    """A department's source failed or timed out (``timeout`` seconds), or its circuit is
    open and it is not asked (``circuit``, ``retryAfter`` seconds: resolvers.breaker)."""

    code = "SOURCE_UNAVAILABLE"
    status = 503


class AuditUnavailable(GovshareError):
    code = "AUDIT_UNAVAILABLE"
    status = 503


class RateStoreUnavailable(GovshareError):
    """The shared store of compare rate limits and guess budgets (Redis or the platform
    database, gateway.compare_rate) cannot be reached: the compare is refused, never
    admitted uncounted (a budget silently lifted would let guesses through)."""

    code = "RATE_STORE_UNAVAILABLE"
    status = 503


class CatalogOutOfDate(GovshareError):
    """This process cannot serve the catalog the store has published (a connector does not
    open, the stored catalog does not bind or cannot be read: ``reason``): data requests are
    refused rather than answered from the older catalog, which may still share an item since
    withdrawn or made stricter (issue 11 §2, fail closed: gateway.catalog_follow)."""

    code = "CATALOG_OUT_OF_DATE"
    status = 503


class ConfigurationError(GovshareError):
    """Refused configuration: raised at load time, never sent to a consumer."""

    code = "CONFIGURATION_ERROR"


class WorkerStartFailed(ConfigurationError):
    """``govshare serve --workers N`` (gateway.workers): a worker failed before serving and
    uvicorn's supervisor stopped them all; the command then fails (status 2), so a service
    manager restarts it rather than taking it for a clean stop."""


class BackupRefused(ConfigurationError):
    """``govshare backup`` / ``restore`` refused (gateway.backup): names the file or flag."""

    code = "BACKUP_REFUSED"


class CatalogError(ConfigurationError):
    """A catalog problem, located by file and path inside it, with the fix."""

    code = "CATALOG_ERROR"

    def __init__(self, file: str, path: str, problem: str, fix: str) -> None:
        super().__init__(f"{file}: {path}: {problem} (fix: {fix})", file=file, path=path)
        self.file, self.path, self.problem, self.fix = file, path, problem, fix


class CatalogErrors(CatalogError):
    """Several catalog problems, all found in one pass (``govshare catalog check`` lists each);
    ``file``/``path``/``problem``/``fix`` are the first one's, ``errors`` holds them all."""

    def __init__(self, errors: list[CatalogError]) -> None:
        first = errors[0]
        super().__init__(first.file, first.path, first.problem, first.fix)
        self.errors = list(errors)
        listed = "\n".join(f"  {error.message}" for error in errors)
        self.message = f"{len(errors)} problems in the catalog:\n{listed}"
        self.args = (self.message,)


class SchemaError(ConfigurationError):
    """The platform database's schema is not the one this version runs on (gateway.dbschema):
    behind (the message names ``govshare db upgrade``), ahead (a newer version upgraded it),
    or a shape no version of govshare made. ``extensions`` carries ``revision`` (stored,
    None when none is) and ``head`` (what the code needs)."""

    code = "SCHEMA_ERROR"


def root_cause(error: BaseException) -> BaseException:
    """Follow GraphQL's ``original_error`` links to the exception that started it all."""
    while getattr(error, "original_error", None) is not None:
        error = error.original_error  # type: ignore[attr-defined]
    return error


MAX_SHOWN = 80  # characters of a client's value a message repeats


def shown(value: object, limit: int = MAX_SHOWN) -> str:
    """``repr(value)`` cut to ``limit`` characters (``...`` marks the cut), for messages and
    ``extensions`` that repeat what the client sent: a 300 KB argument must not come back
    (and reach the log) in full, doubled by an error's message and its extensions."""
    text = repr(value) if not isinstance(value, str) or len(value) <= limit else repr(value[:limit])
    return text if len(text) <= limit + 2 else text[:limit] + "..."
