"""Secrets in configuration text: every form found, never repeated in a message (issue #11, point 8)."""

from __future__ import annotations

from urllib.parse import quote, quote_plus

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from crm_analysis._secrets import has_secret, is_secret_key, redact_secrets

# A password as people choose them: letters, digits and punctuation, but not the characters that end a
# value in the text it is written into (separators, quotes, braces, blanks).
PASSWORDS = st.text(
    alphabet=st.characters(codec="ascii", categories=("L", "N", "P", "S"), exclude_characters=";&,'\"{}%+=@/?#:"),
    min_size=4, max_size=24,
).filter(lambda pw: pw.strip("*"))  # only asterisks reads as an already masked value

#: Every form of a password in a configuration value: (template, how the password is written into it).
FORMS = [
    ("postgresql://analyst:{pw}@db.example.com:5432/shop", "raw"),
    ("postgresql+psycopg://analyst:{pw}@db.example.com/shop", "quote"),  # URL-encoded password
    ("postgresql://db.example.com/shop?user=a&password={pw}", "quote_plus"),
    ("postgresql://db.example.com/shop?Password={pw}", "quote_plus"),
    ("postgresql://db.example.com/shop?pwd={pw}", "quote_plus"),
    ("mssql+pyodbc://db.example.com/shop?driver=ODBC+Driver+18&PWD={pw}", "quote_plus"),
    # ODBC connect string inside the URL, percent-encoded (the newcomer's finding A1) and plain
    ("mssql+pyodbc:///?odbc_connect={odbc_encoded}", "raw"),
    ("mssql+pyodbc:///?odbc_connect=DRIVER={{ODBC Driver 18}};SERVER=db;UID=analyst;PWD={pw}", "raw"),
    ("mssql+pyodbc:///?odbc_connect=DRIVER={{ODBC Driver 18}};SERVER=db;UID=analyst;Password={{{pw}}}", "raw"),
    ("Driver={{ODBC Driver 18}};Server=db;Uid=analyst;Pwd={pw};Encrypt=yes", "raw"),  # a bare connection string
    ("host=db port=5432 user=analyst password={pw} dbname=shop", "raw"),  # libpq keyword/value string
    ("see https://u:{pw}@wiki.example.com/x for details", "raw"),  # a URL in a notebook parameter's text
    ("https://bucket.s3.amazonaws.com/o.csv?X-Amz-Signature={pw}&X-Amz-Expires=3600", "quote_plus"),
    ("https://api.example.com/v1/orders?api_key={pw}", "quote_plus"),
    ("snowflake://acct/db?token={pw}", "quote_plus"),
    ("oracle://db/shop?connect_args=user%3Da%26passwd%3D{pw_twice}", "raw"),  # encoded pairs in a pair
]


def _written(template: str, how: str, pw: str) -> str:
    odbc = f"DRIVER={{ODBC Driver 18}};SERVER=db;UID=analyst;PWD={pw}"
    value = {"raw": pw, "quote": quote(pw, safe=""), "quote_plus": quote_plus(pw)}[how]
    return template.format(pw=value, odbc_encoded=quote_plus(odbc), pw_twice=quote(quote(pw, safe=""), safe=""))


@settings(max_examples=40, deadline=None)
@given(pw=PASSWORDS)
@pytest.mark.parametrize(("template", "how"), FORMS, ids=[f[0][:40] for f in FORMS])
def test_every_form_is_found_and_redacted(template, how, pw):
    forms = {pw, quote(pw, safe=""), quote_plus(pw)}
    assume(not any(form in template for form in forms))  # "http" is in the text around it anyway
    text = _written(template, how, pw)
    assert has_secret(text), text
    redacted = redact_secrets(text)
    for form in forms:
        assert form not in redacted, (text, redacted)
    assert "***" in redacted
    assert not has_secret(redacted), redacted  # nothing left to find


@pytest.mark.parametrize("text", [
    "postgresql+psycopg://crm@db.example.com:5432/crm",  # a user, no password
    "postgresql://crm:@db/crm",  # an empty password is no secret
    "sqlite:////data/shop.db",
    "mssql+pyodbc:///?odbc_connect=DRIVER%3D%7BODBC+Driver+18%7D%3BSERVER%3Ddb%3BTrusted_Connection%3Dyes",
    "http://host:8080/path?x=a@b",
    "password=",
    "password_env=CRM_DB_PASSWORD",
    "bypass=1;compass=north",
    "Revenue mix by channel (margin=30%)",
    "/data/orders 2024.csv",
    "%d/%m/%Y",
])
def test_texts_without_a_secret_pass_unchanged(text):
    assert not has_secret(text)
    assert redact_secrets(text) == text


def test_the_text_around_a_secret_is_kept():
    url = "mssql+pyodbc://db.example.com/shop?driver=ODBC+Driver+18&PWD=S3cretPass&Encrypt=yes"
    assert redact_secrets(f"reading table 'orders' from {url} failed") == (
        "reading table 'orders' from mssql+pyodbc://db.example.com/shop?driver=ODBC+Driver+18&PWD=***&Encrypt=yes "
        "failed")


@pytest.mark.parametrize(("name", "secret"), [
    ("PWD", True), ("Password", True), ("passwd", True), ("pass", True), ("SECRET", True), ("token", True),
    ("api_key", True), ("api-key", True), ("access_key", True), ("client_secret", True), ("db_password", True),
    ("X-Amz-Signature", True), ("sig", True),
    ("password_env", False), ("url_env", False), ("bypass", False), ("passenger", False), ("tokens_seen", False),
    ("user", False), ("server", False), (3, False),
])
def test_secret_key_names(name, secret):
    assert is_secret_key(name) is secret
