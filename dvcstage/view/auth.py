"""Who may talk to ``dvcstage view``: a random token, a cookie, and the Host and Origin checks.

Every request — the page, the bundle, files and the WebSocket — must carry the token, either
as ``?token=`` or as the cookie the page sets when it is opened with the token (as Jupyter
does). The cookie is ``HttpOnly`` and ``SameSite=Strict``, so another site's page can neither
read it nor make the browser send it. The ``Host`` header must name this server (against DNS
rebinding), and a WebSocket's ``Origin``, when there is one, must be this server's own.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from dataclasses import dataclass, field

TOKEN_PARAMETER = "token"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


def new_token() -> str:
    """A fresh random token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) only reaches this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_wildcard(host: str) -> bool:
    """Whether ``host`` binds every interface (``0.0.0.0``, ``::``, empty)."""
    if host in ("", "*"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False


def _host_with_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


@dataclass
class Access:
    """The token and the names this server answers to (``port`` is known once bound)."""

    token: str
    bind_host: str = "127.0.0.1"
    port: int = 0
    extra_hosts: tuple[str, ...] = field(default_factory=tuple)
    _allowed: dict[int, frozenset[str]] = field(default_factory=dict, repr=False)

    @property
    def cookie_name(self) -> str:
        """One cookie per port: browsers share cookies between the ports of a host."""
        return f"dvcstage-view-{self.port}"

    def token_ok(self, candidate: str | None) -> bool:
        """Whether ``candidate`` is the token (compared in constant time)."""
        if not candidate:
            return False
        return hmac.compare_digest(candidate.encode(), self.token.encode())

    def allowed_hosts(self) -> frozenset[str]:
        """``Host`` header values accepted (lower case); empty means any (a wildcard bind)."""
        cached = self._allowed.get(self.port)
        if cached is None:
            cached = self._allowed[self.port] = frozenset(self._allowed_hosts())
        return cached

    def _allowed_hosts(self) -> set[str]:
        if is_wildcard(self.bind_host):
            return set()
        names = {self.bind_host, *self.extra_hosts}
        if is_loopback(self.bind_host):
            names.update(LOOPBACK_NAMES)
        return {_host_with_port(name, self.port).lower() for name in names}

    def host_ok(self, host_header: str | None) -> bool:
        """Whether a request's ``Host`` header names this server."""
        if not host_header:
            return False
        allowed = self.allowed_hosts()
        return not allowed or host_header.lower() in allowed

    def origin_ok(self, origin: str | None, host_header: str | None) -> bool:
        """Whether a WebSocket's ``Origin`` is this server's (no Origin: not a browser, ok)."""
        if origin is None:
            return True
        if not host_header or not self.host_ok(host_header):
            return False
        return origin.lower() in (f"http://{host_header}".lower(), f"https://{host_header}".lower())

    def url(self, host: str | None = None) -> str:
        """The URL to open: ``http://HOST:PORT/?token=T``."""
        shown = host or ("127.0.0.1" if is_wildcard(self.bind_host) else self.bind_host)
        return f"http://{_host_with_port(shown, self.port)}/?{TOKEN_PARAMETER}={self.token}"
