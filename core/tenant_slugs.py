"""The one spelling of a tenant slug typed by a person: NFC, trimmed, case-folded.

Stored slugs are lower-case ASCII (`core.tenants.validate_slug`) and compared bytewise on every
backend (MySQL: a binary collation), so `ACME` and ` acme ` reach tenant `acme`, while `acmé` or
a full-width `ａｃｍｅ` are other names that match no tenant. The login rate limits key on this
spelling too, so every way of typing one tenant spends the same allowance.
"""

from __future__ import annotations

from core.usernames import normalize_username

SLUG_MAX = 32


def normalize_tenant_slug(slug: str) -> str:
    """The slug as stored, for a slug typed at the login page, the token request or the CLI
    (cut at SLUG_MAX characters: a longer one matches no tenant anyway)."""
    return normalize_username(slug)[:SLUG_MAX]
