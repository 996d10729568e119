"""Secrets written into text: found, and blanked out of messages.

A configuration of the report chain is copied into every run folder and the
published index, so it must hold no secret (see
:func:`crm_analysis.report.config.find_secrets`). This module recognises the
forms a secret takes in a configuration value, whatever the key it sits
under:

* the password of a URL, ``scheme://user:password@host/...`` (also
  percent-encoded, ``S3cr%40t``);
* a ``key=value`` pair whose key names a secret (:func:`is_secret_key`:
  ``password``, ``PWD``, ``passwd``, ``pass``, ``secret``, ``token``,
  ``api_key``, ``access_key``, ``sig``, ...; any case), in a URL's query
  string (``?password=...``, ``&PWD=...``) or in a connection string
  (``Server=db;UID=a;PWD=...``, libpq's ``host=db password=...``);
* the same inside the *decoded* value of another pair, at any depth, e.g.
  ODBC's ``?odbc_connect=DRIVER%3D...%3BPWD%3DS3cret`` (encoded) or
  ``?odbc_connect=DRIVER={...};PWD=S3cret`` (plain).

An empty value (``password=``) is not a secret, nor a masked one (``***``,
as SQLAlchemy and :func:`redact_secrets` write it). :func:`redact_secrets`
replaces every secret found by ``***``, so that an error message quoting a
value never repeats it.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

__all__ = ["SECRET_KEYS", "is_secret_key", "has_secret", "redact_secrets"]

#: Key names (lower case, ``-`` read as ``_``) that hold a secret, matched whole.
SECRET_KEYS: frozenset[str] = frozenset({
    "pwd", "pw", "pass", "password", "passwd", "passphrase", "secret", "token", "key", "apikey", "sig",
    "signature", "sas", "credential", "credentials",
})
#: Endings of key names that hold a secret (``db_password``, ``client_secret``, ``x_amz_signature``, ...).
_SECRET_ENDINGS = ("password", "passwd", "passphrase", "_pwd", "secret", "token", "api_key", "apikey",
                   "access_key", "accesskey", "secret_key", "private_key", "account_key", "master_key",
                   "signing_key", "subscription_key", "signature", "credential", "credentials")

# scheme://user:password@ (a URL with a password in its user info)
_USERINFO = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s/@:?#]*:(?P<pw>[^\s/@?#]+)@")
# key=value: a key not preceded by a name character; the value braced, quoted or up to a separator
_PAIR = re.compile(
    r"(?<![\w.\-%])(?P<key>[A-Za-z_][\w.\-]*)[ \t]*=[ \t]*"
    r"(?P<value>(?:\{[^}]*\}?|'[^']*'?|\"[^\"]*\"?|[^;&\s,'\"{}])*)"
)
_MAX_DEPTH = 4
_MASKED = re.compile(r"^\**$")  # empty, or already masked


def is_secret_key(name: object) -> bool:
    """Whether a key name (of a mapping, a query string or a connection string) names a secret.

    Parameters
    ----------
    name : object
        The key, e.g. ``"PWD"``, ``"client_secret"``, ``"password_env"``.

    Returns
    -------
    bool
        True for the names of :data:`SECRET_KEYS` and names ending in a
        secret word (``db_password``, ``access_token``); False for names
        such as ``password_env`` (the *name* of an environment variable).

    Examples
    --------
    >>> [is_secret_key(k) for k in ("PWD", "Password", "api-key", "password_env", "bypass")]
    [True, True, True, False, False]
    """
    if not isinstance(name, str):
        return False
    key = name.strip().lower().replace("-", "_")
    return key in SECRET_KEYS or key.endswith(_SECRET_ENDINGS)


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] + value[-1] in ("{}", "''", '""'):
        value = value[1:-1]
    return unquote_plus(value)


def _pairs(text: str, depth: int) -> list[tuple[int, int]]:
    """Spans of the secret values among the key=value pairs of ``text`` (and of their decoded values)."""
    spans: list[tuple[int, int]] = []
    for m in _PAIR.finditer(text):
        raw = m.group("value")
        value = _unquote(raw)
        if _MASKED.match(value):
            continue
        if is_secret_key(unquote_plus(m.group("key"))):
            spans.append(m.span("value"))
        elif depth < _MAX_DEPTH and "=" in value and _pairs(value, depth + 1):
            spans.append(m.span("value"))  # the secret is inside the decoded value: blank all of it
    return spans


def _userinfo(text: str) -> list[tuple[int, int]]:
    return [m.span("pw") for m in _USERINFO.finditer(text) if not _MASKED.match(unquote_plus(m.group("pw")))]


def _spans(text: str) -> list[tuple[int, int]]:
    spans = _userinfo(text) + _pairs(text, 0)
    if not spans:
        decoded = unquote_plus(text)
        if decoded != text and (_userinfo(decoded) or _pairs(decoded, 0)):
            spans.append((0, len(text)))  # a whole value percent-encoded: blank it all
    return spans


def has_secret(text: object) -> bool:
    """Whether ``text`` holds a secret (see the module docstring).

    Parameters
    ----------
    text : object
        Anything; only strings can hold a secret.

    Returns
    -------
    bool

    Examples
    --------
    >>> has_secret("postgresql://crm:s3cret@db/crm"), has_secret("postgresql://crm@db/crm")
    (True, False)
    >>> has_secret("mssql+pyodbc:///?odbc_connect=DRIVER%3D%7BODBC+Driver+18%7D%3BUID%3Da%3BPWD%3Ds3cret")
    True
    """
    return isinstance(text, str) and bool(_spans(text))


def redact_secrets(text: str) -> str:
    """``text`` with every secret of :func:`has_secret` replaced by ``***``.

    Parameters
    ----------
    text : str
        E.g. an error message that quotes a configuration value.

    Returns
    -------
    str

    Examples
    --------
    >>> redact_secrets("cannot connect to postgresql://crm:s3cret@db/crm?sslmode=require&password=x")
    'cannot connect to postgresql://crm:***@db/crm?sslmode=require&password=***'
    """
    spans = sorted(set(_spans(text)))
    out, pos = [], 0
    for start, stop in spans:
        if start < pos:  # nested in a span already blanked
            continue
        out.append(text[pos:start])
        out.append("***")
        pos = stop
    out.append(text[pos:])
    return "".join(out)
