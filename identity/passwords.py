"""Password hashing with Argon2id (argon2-cffi), parameters at the RFC 9106 recommendation.

RFC 9106 "second recommended option" (argon2-cffi's RFC_9106_LOW_MEMORY profile): Argon2id,
t=3 passes, m=64 MiB, p=4 lanes, 16-byte salt, 32-byte tag. That is above the OWASP minimum
(m=19 MiB, t=2, p=1). Stored hashes carry their own parameters, so raising them later only
needs `needs_rehash` at the next successful login.
"""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.profiles import RFC_9106_LOW_MEMORY

from core.errors import ValidationFailed

MIN_LENGTH = 10
MAX_LENGTH = 256
# Longest password a login form or the token endpoint accepts (both sides, same bound).
MAX_LOGIN_LENGTH = 1024

HASHER = PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)


def validate_password(password: str, *, field: str = "password") -> str:
    """Reject passwords that are too short or absurdly long (hashing cost is per call)."""
    if not isinstance(password, str) or not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise ValidationFailed(
            f"la contraseña debe tener entre {MIN_LENGTH} y {MAX_LENGTH} caracteres",
            details=[{"field": field, "message": f"{MIN_LENGTH}-{MAX_LENGTH} caracteres"}],
        )
    return password


def hash_password(password: str, hasher: PasswordHasher | None = None) -> str:
    """A PHC-format Argon2id hash of a validated password."""
    return (hasher or HASHER).hash(validate_password(password))


def verify_password(stored_hash: str, password: str, hasher: PasswordHasher | None = None) -> bool:
    """True when `password` matches; a malformed stored hash is a mismatch, not a crash."""
    try:
        return (hasher or HASHER).verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str, hasher: PasswordHasher | None = None) -> bool:
    """True when the stored hash was made with other parameters than the current ones."""
    try:
        return (hasher or HASHER).check_needs_rehash(stored_hash)
    except (InvalidHashError, ValueError):
        return True


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return HASHER.hash("camet-dummy-password-for-timing")


def burn_verify(password: str) -> None:
    """Spend one verification's time, so an unknown user costs what a wrong password does."""
    verify_password(_dummy_hash(), (password or "")[:MAX_LOGIN_LENGTH])
