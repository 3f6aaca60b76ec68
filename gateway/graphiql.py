"""The GraphiQL page, offline: every file it loads is served by the gateway itself.

Government intranets have no internet, so nothing comes from a CDN: GraphiQL 3.9.0 and
React 18.3.1 are vendored in ``gateway/static/graphiql/`` (see the README there) and
mounted at ``/static/graphiql``. The page needs no token; the GraphQL requests it makes
carry the ``Authorization`` and ``X-Purpose`` headers typed into its headers editor.

GraphiQL fetches the schema (introspection) as soon as it opens; with the placeholder
``Bearer <token>`` that could only fail, and the page opened on an UNAUTHENTICATED error.
So the page starts GraphiQL with no schema (``schema: null``: no introspection) and lets it
introspect once the headers editor holds a bearer token shaped like a JWT (checked a moment
after the last edit, so a token being typed is not sent half-way). A
Content-Security-Policy allows only same-origin scripts, styles and requests (plus the
page's own inline script, by hash), so a forgotten external URL fails loudly in the
browser instead of hanging on an intranet.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static" / "graphiql"
STATIC_PATH = "/static/graphiql"
STATIC_NAME = "graphiql-static"
ASSETS = ("graphiql.min.css", "react.production.min.js", "react-dom.production.min.js", "graphiql.min.js")

DEFAULT_HEADERS = {"Authorization": "Bearer <token>", "X-Purpose": "<purpose of use, as granted>"}
DEFAULT_QUERY = """\
# Put your token in the Headers tab below: the
# schema (docs, autocompletion) is then fetched.
# Run with Ctrl-Enter.
{
  __typename
}
"""

# Header values are Latin-1 on the wire and fetch() refuses anything else: non-ASCII values
# (a purpose in Chinese) are sent percent-encoded, which the gateway decodes (http.header_text).
_SCRIPT = (
    """
"use strict";
const encodeHeaders = (headers) => {
  if (!headers || typeof headers !== "object" || headers instanceof Headers) return headers;
  const out = {};
  for (const [name, value] of Object.entries(headers)) {
    out[name] = typeof value === "string" && /[^\\x00-\\x7f]/.test(value) ? encodeURIComponent(value) : value;
  }
  return out;
};
const fetcher = GraphiQL.createFetcher({
  url: window.location.pathname,
  fetch: (url, init) => window.fetch(url, { ...init, headers: encodeHeaders(init && init.headers) }),
});
// A bearer token shaped like a JWT (header.payload.signature), not the placeholder.
const JWT_BEARER = /^Bearer\\s+[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$/;
const hasToken = (text) => {
  try {
    const headers = JSON.parse(text || "{}");
    const name = Object.keys(headers).find((key) => key.toLowerCase() === "authorization");
    return !!name && JWT_BEARER.test(String(headers[name]).trim());
  } catch (_) {
    return false;
  }
};
function App() {
  // null: no schema and no introspection; undefined: GraphiQL introspects with the headers
  const [schema, setSchema] = React.useState(hasToken(DEFAULT_HEADERS) ? undefined : null);
  const timer = React.useRef(null);
  const onEditHeaders = (text) => {
    clearTimeout(timer.current);
    timer.current = setTimeout(() => { if (hasToken(text)) setSchema(undefined); }, 400);
  };
  return React.createElement(GraphiQL, {
    fetcher,
    schema,
    onEditHeaders,
    defaultQuery: DEFAULT_QUERY,
    defaultHeaders: DEFAULT_HEADERS,
    defaultEditorToolsVisibility: "headers",
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: false,
    inputValueDeprecation: true,
  });
}
ReactDOM.createRoot(document.getElementById("graphiql")).render(React.createElement(App));
""".replace("DEFAULT_QUERY", json.dumps(DEFAULT_QUERY))
    .replace("DEFAULT_HEADERS", json.dumps(json.dumps(DEFAULT_HEADERS, indent=2, ensure_ascii=False)))
    .replace("</", "<\\/")
)
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(_SCRIPT.encode()).digest()).decode()

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        f"script-src 'self' 'sha256-{_SCRIPT_HASH}'",
        "style-src 'self' 'unsafe-inline'",  # GraphiQL and React set inline styles
        "img-src 'self' data:",
        "font-src 'self' data:",  # graphiql.min.css inlines its fonts
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>govshare GraphiQL</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{base}/graphiql.min.css">
<style>
  html, body {{ height: 100%; margin: 0; }}
  body {{ display: flex; flex-direction: column; overflow: hidden;
         font-family: system-ui, sans-serif; }}
  #note {{ padding: 6px 12px; font-size: 13px; line-height: 1.5;
          background: #fff8e1; border-bottom: 1px solid #e0c97f; color: #3d3000; }}
  #note code {{ background: #fff3c4; padding: 0 3px; border-radius: 3px; }}
  #graphiql {{ flex: 1; min-height: 0; }}
</style>
</head>
<body>
<div id="note">Every GraphQL request needs a token and a purpose of use: in the
<b>Headers</b> tab below send <code>Authorization: Bearer &lt;token&gt;</code> (from
<code>POST /oauth/token</code> or <code>govshare token</code>) and <code>X-Purpose</code>
(Chinese may be typed as is); the schema for docs and autocompletion is fetched once
the token is in. Headers are not stored in the browser.</div>
<div id="graphiql">Loading GraphiQL&hellip;</div>
<script src="{base}/react.production.min.js"></script>
<script src="{base}/react-dom.production.min.js"></script>
<script src="{base}/graphiql.min.js"></script>
<script>{script}</script>
</body>
</html>
"""


def static_files() -> StaticFiles:
    """The vendored GraphiQL and React files, to mount at ``STATIC_PATH`` as ``STATIC_NAME``."""
    return StaticFiles(directory=STATIC_DIR)


def graphiql_page(request: Request) -> HTMLResponse:
    """The page; asset paths follow the static mount (and any ASGI ``root_path``)."""
    base = request.url_for(STATIC_NAME, path="/").path.rstrip("/")
    page = _PAGE.format(base=html.escape(base), script=_SCRIPT)
    return HTMLResponse(
        page,
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )
