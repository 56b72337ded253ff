"""Keeping credentials out of what the server prints: URLs lose their user information.

A git remote's URL may carry a token (``https://user:token@host/repo.git``); it can reach
the log through git's messages, through ours, or through the client's options that pygls logs
with ``-v``. :func:`redact` removes the ``user:password@`` part of every URL in a text, and
:class:`RedactingFilter` does it to every record of a log handler.
"""

from __future__ import annotations

import logging
import re

_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s'\"]*@")


def redact(text: str) -> str:
    """``text`` with the user information (``user:password@``) of every URL in it removed.

    >>> redact("fatal: unable to access 'https://me:s3cret@example.com/r.git/'")
    "fatal: unable to access 'https://***@example.com/r.git/'"
    """
    return _USERINFO.sub(r"\1***@", text)


class RedactingFilter(logging.Filter):
    """A handler filter: each record's message is redacted before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record's message (always kept)."""
        try:
            message = record.getMessage()
        except Exception:  # a broken record: let the handler report it
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
