"""The panel's page and the Content-Security-Policies of every response (docs/panel-host.md).

Nothing inline and nothing from the network: the page loads ``panel.js`` and ``panel.css``
from this server and reads its configuration from ``<body>`` data attributes. Files from the
workspace get a ``sandbox`` policy, so that a logged HTML page or SVG opened directly can never
run in the server's origin.
"""

from __future__ import annotations

import secrets
from html import escape

WEBSOCKET_PATH = "/api/ws"
SCRIPT_PATH = "/panel.js"
STYLE_PATH = "/panel.css"


def new_nonce() -> str:
    """A fresh nonce for one page load."""
    return secrets.token_urlsafe(18)


def page_csp(host: str, nonce: str, *, header: bool = True) -> str:
    """The page's policy: VS Code's with ``'self'`` for its ``cspSource``, plus the socket.

    Scripts need the page's nonce, as in VS Code: the panel gives it to the inline scripts
    and styles of logged HTML, which it shows in a sandboxed ``srcdoc`` frame (that inherits
    this policy). ``frame-ancestors`` only counts in the header (not allowed in ``<meta>``).
    """
    directives = [
        "default-src 'none'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        f"script-src 'nonce-{nonce}'",
        f"style-src 'self' 'nonce-{nonce}'",
        "font-src 'self'",
        f"connect-src 'self' ws://{host}",
        "frame-src 'self' blob:",
        "worker-src blob:",
        "base-uri 'none'",
        "form-action 'none'",
    ]
    return "; ".join([*directives, "frame-ancestors 'none'"] if header else directives)


# Everything that is not the page or a workspace file (the bundle, errors): nothing at all.
NOTHING_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

# A workspace file opened directly renders in an opaque origin and runs no script.
FILE_CSP = (
    "sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'; "
    "style-src 'unsafe-inline'; frame-ancestors 'self'"
)

# Logged HTML may run its own inline scripts, but only sandboxed (an opaque origin: no cookie,
# no same-origin reads, a WebSocket Origin of "null", which the server refuses) and with
# nothing from the network.
HTML_FILE_CSP = (
    "sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline'; "
    "style-src 'unsafe-inline'; img-src data: blob:; media-src data: blob:; font-src data:; "
    "frame-ancestors 'self'"
)

HTML_SUFFIXES = (".html", ".htm", ".xhtml")


def file_csp(name: str) -> str:
    """The policy a workspace file is served with."""
    return HTML_FILE_CSP if name.lower().endswith(HTML_SUFFIXES) else FILE_CSP


def _attribute(value: str) -> str:
    return escape(value, quote=False).replace('"', "&quot;")


def panel_page(host: str, nonce: str) -> str:
    """The page, for a browser that reached this server as ``host`` (``HOST:PORT``)."""
    csp = _attribute(page_csp(host, nonce, header=False))
    nonce = _attribute(nonce)
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta http-equiv="Content-Security-Policy" content="{csp}">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="referrer" content="no-referrer">
  <title>DVC Media</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="{STYLE_PATH}">
</head>
<body data-transport="websocket" data-endpoint="{WEBSOCKET_PATH}">
  <div id="app"></div>
  <script nonce="{nonce}" src="{SCRIPT_PATH}"></script>
</body>
</html>
"""
