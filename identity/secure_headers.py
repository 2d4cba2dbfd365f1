"""OWASP secure response headers shared by the Flask pages and the engine."""

from __future__ import annotations

PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), fullscreen=(self)"
)
HSTS = "max-age=31536000; includeSubDomains"


def page_csp(nonce: str) -> str:
    """Pages: scripts only from us or with this response's nonce, never inline or eval."""
    return "; ".join((
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        f"style-src 'self' 'nonce-{nonce}'",
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ))


API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


def docs_csp(script_hashes: list[str]) -> str:
    """The engine's Swagger page: its local bundle plus the exact hashes of its inline scripts."""
    hashes = " ".join(f"'sha256-{h}'" for h in script_hashes)
    return "; ".join((
        "default-src 'none'",
        f"script-src 'self' {hashes}".strip(),
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    ))


def secure_headers(*, csp: str, https: bool) -> dict[str, str]:
    """The full set for one response; HSTS only when the request came over HTTPS."""
    headers = {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Permissions-Policy": PERMISSIONS_POLICY,
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
    }
    if https:
        headers["Strict-Transport-Security"] = HSTS
    return headers
