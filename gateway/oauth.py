"""``POST /oauth/token``: the OAuth 2.0 client-credentials grant (RFC 6749 §4.4), on authlib.

A client (``gateway.clients``) authenticates with ``client_secret_basic`` or
``client_secret_post`` and receives a JWT signed with the gateway's current key
(``gateway.auth``): ``sub`` its department's USCC, ``client_id``, ``roles``, ``iat``,
``exp``. ``scope`` (space-separated role names) may narrow the roles; naming a role
the client lacks is ``invalid_scope``. Answers follow RFC 6749 §5.1 / §5.2:
``{access_token, token_type: "Bearer", expires_in, scope}`` or ``{error,
error_description}``, always with ``Cache-Control: no-store``; ``invalid_client`` is 401
with ``WWW-Authenticate: Basic``.

authlib's server is synchronous, so the client is read from the platform database
first, and the grant (scrypt secret check, signing) then runs in a worker thread, off
the event loop. Tokens are JWTs checked by signature alone, so none is stored.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

import orjson
from authlib.consts import default_json_headers
from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    ClientMixin,
    InvalidClientError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
    OAuth2Request,
    UnauthorizedClientError,
    UnsupportedGrantTypeError,
)
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from errors import InvalidCode
from gateway.auth import Signer
from gateway.clients import Client, ClientStore, spend_check_time
from gateway.http import gateway_of

log = logging.getLogger("govshare.oauth")
FORM = "application/x-www-form-urlencoded"
GRANT = "client_credentials"
AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
_MAX_FIELDS = 32
_MAX_BODY = 16_384
_NOT_VSCHAR = re.compile(r"[^\x20-\x7e]")
_UNSAFE = re.compile(r"[^\x20-\x21\x23-\x5b\x5d-\x7e]")  # error_description's allowed characters


async def token_endpoint(request: Request) -> Response:
    """Parse and pre-check the form, read the client, run the grant in a worker thread."""
    gateway = gateway_of(request)
    server = TokenServer(gateway.signer, gateway.settings.token_ttl)
    try:
        form = parse_form(request.headers.get("content-type", ""), await read_body(request))
        client_id, secret = check_credentials(request.headers, form)
    except OAuth2Error as error:
        return server.handle_error_response(None, error)
    try:
        if client_id and len(client_id) <= 64:
            server.client = await ClientStore(gateway.platform).get(client_id)
    except (SQLAlchemyError, OSError):
        log.exception("the token endpoint could not read the client")
        description = "the platform database is unavailable; retry shortly"
        body = {"error": "temporarily_unavailable", "error_description": description}
        return server.handle_response(503, body, default_json_headers)
    server.secret = secret
    token_request = TokenRequest(request, form)
    response: Response = await run_in_threadpool(server.create_token_response, token_request)
    return response


async def read_body(request: Request) -> bytes:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_BODY:
            raise InvalidRequestError(f"the request body is larger than {_MAX_BODY} bytes")
    return body


def parse_form(content_type: str, body: bytes) -> dict[str, str]:
    """RFC 6749 §3.2: a form body; a parameter sent twice is an error, an empty one is absent."""
    if body and content_type.split(";")[0].strip().lower() != FORM:
        raise InvalidRequestError(f"send the parameters as {FORM}")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=_MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise InvalidRequestError(
            f"the body is not a UTF-8 {FORM} form of at most {_MAX_FIELDS} fields"
        ) from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise InvalidRequestError(f"the parameter {safe(name)} is sent more than once")
        form[name] = value
    form = {name: value for name, value in form.items() if value != ""}
    if "grant_type" not in form:
        raise InvalidRequestError(f"grant_type is missing; use grant_type={GRANT}")
    return form


def check_credentials(headers: Mapping[str, str], form: Mapping[str, str]) -> tuple[str | None, str | None]:
    """The client_id and secret the request authenticates with, by one method only."""
    basic_id, basic_secret = extract_basic_authorization(headers)
    if basic_id is not None and "client_secret" in form:
        raise InvalidRequestError("authenticate one way: HTTP Basic or client_secret in the form, not both")
    if basic_id is not None:
        return _vschar("the Authorization header", basic_id), _vschar(
            "the Authorization header", basic_secret
        )
    client_id, secret = form.get("client_id"), form.get("client_secret")
    return _vschar("client_id", client_id), _vschar("client_secret", secret)


def _vschar(where: str, value: str | None) -> str | None:
    """RFC 6749 Appendix A.1-A.2: client_id and client_secret are VSCHAR (%x20-7E). A control
    character is the client's mistake (invalid_request), never a platform database error."""
    if value is not None and _NOT_VSCHAR.search(value):
        raise InvalidRequestError(f"{where}: the client credentials hold characters outside %x20-7E")
    return value


def safe(text: str) -> str:
    """``error_description`` allows printable ASCII but for ``"`` and ``\\``."""
    return _UNSAFE.sub("?", text)[:100]


def granted_roles(scope: str | None, roles: Sequence[str]) -> list[str]:
    """The roles a token gets: the client's, or those ``scope`` names, all the client's."""
    if scope is None or not scope.strip():
        return sorted(set(roles))
    asked = set(scope.split())
    missing = sorted(asked - set(roles))
    if missing:
        raise InvalidScopeError(
            f"the client may not have the role(s) {safe(' '.join(missing))}; "
            f"its roles are {' '.join(sorted(roles))}"
        )
    return sorted(asked)


class TokenRequest(OAuth2Request):
    """A Starlette request as authlib sees it."""

    def __init__(self, request: Request, form: dict[str, str]) -> None:
        # TLS ends at the load balancer in front of the gateways (DESIGN §11), so the
        # request URL is plain http: authlib's https check is given a loopback URI and
        # the real URL is set after it.
        super().__init__(request.method, "http://127.0.0.1/oauth/token", headers=request.headers)
        self.uri = str(request.url)
        self.payload = BasicOAuth2Payload(form)
        self._form = form
        self._args = dict(request.query_params)

    @property
    def form(self) -> dict[str, str]:
        return self._form

    @property
    def args(self) -> dict[str, str]:
        return self._args


class OAuthClient(ClientMixin):
    """authlib's view of a stored client."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def get_client_id(self) -> str:
        return self.client.client_id

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        return " ".join(granted_roles(scope, self.client.roles))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        if not self.client.check_secret(client_secret):
            return False
        if self.client.disabled:  # said only to whoever knows the secret
            raise InvalidClientError(
                f"the client {safe(self.client.client_id)} is disabled; ask the platform operator",
                status_code=401,
            )
        return True

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.client.grant_types


class ClientCredentials(ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def validate_requested_scope(self) -> None:
        granted_roles(self.request.payload.scope, self.request.client.client.roles)


class TokenServer(AuthorizationServer):
    """The token endpoint for one request: the client read beforehand, the gateway's signer."""

    def __init__(self, signer: Signer, ttl: int) -> None:
        super().__init__()
        self.signer, self.ttl = signer, ttl
        self.client: Client | None = None
        self.secret: str | None = None
        self.register_grant(ClientCredentials)
        self.register_token_generator("default", self.generate_jwt)

    def query_client(self, client_id: str) -> OAuthClient | None:
        if self.client is not None and self.client.client_id == client_id:
            return OAuthClient(self.client)
        if self.secret:
            spend_check_time(self.secret)
        return None

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """Nothing to store: the token is a JWT, checked by its signature."""

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """No signal bus in this gateway."""

    def generate_jwt(
        self, grant_type: str, client: OAuthClient, scope: str | None = None, **_: Any
    ) -> dict[str, Any]:
        roles = granted_roles(scope, client.client.roles)
        try:
            token = self.signer.issue(client.client.department, roles, client.client.client_id, self.ttl)
        except (ValueError, InvalidCode) as exc:  # stored before a rule changed
            raise UnauthorizedClientError(f"the client cannot get tokens: {safe(str(exc))}") from exc
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.ttl,
            "scope": " ".join(roles),
        }

    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        return request

    def handle_error_response(self, request: OAuth2Request | None, error: OAuth2Error) -> Response:
        if isinstance(error, InvalidClientError):
            error.status_code = 401  # with WWW-Authenticate: Basic, whichever method was tried
        if isinstance(error, UnsupportedGrantTypeError):
            error.description = f"grant_type {safe(str(error.grant_type))} is not supported; use {GRANT}"
        elif not error.description:
            error.description = safe(error.get_error_description() or error.error)
        return self.handle_response(*error(None))

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
        return Response(orjson.dumps(body), status, headers=dict(headers))
