"""API credentials set by a tenant's admin, stored Fernet-encrypted in the tenant's database.

The key is derived (HKDF-SHA256) from the installation's CAMET_SECRET_KEY, so a database dump
alone does not reveal them; rotating that key makes stored credentials unreadable (they must be
set again). Values are only ever decrypted to be sent to their provider: no API returns them.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, insert, select, update

from core import schema_tenant as t
from core.db import DatabaseManager
from core.settings import Settings

UNREADABLE = ""  # a stored value that no longer decrypts (the secret key changed)


def _fernet(settings: Settings) -> Fernet:
    secret = settings.secret("secret_key").encode()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"camet external API credentials").derive(secret)
    return Fernet(base64.urlsafe_b64encode(key))


def store_credential(db: DatabaseManager, settings: Settings, *, tenant: str, api_id: str,
                     value: str, username: str, now: datetime) -> None:
    """Encrypt and save (or replace) the tenant's credential for `api_id`."""
    values = {"secret_enc": _fernet(settings).encrypt(value.encode()).decode(),
              "updated_at": now.astimezone(UTC).replace(tzinfo=None, microsecond=0),
              "updated_by": username[:64]}
    table = t.external_credentials
    with db.tenant(tenant) as conn:
        found = conn.execute(update(table).where(table.c.api_id == api_id).values(**values)).rowcount
        if not found:
            conn.execute(insert(table).values(api_id=api_id, **values))


def delete_credential(db: DatabaseManager, *, tenant: str, api_id: str) -> bool:
    """Forget the tenant's credential for `api_id`; False when there was none."""
    table = t.external_credentials
    with db.tenant(tenant) as conn:
        return bool(conn.execute(delete(table).where(table.c.api_id == api_id)).rowcount)


def stored_credentials(db: DatabaseManager, settings: Settings, tenant: str) -> dict[str, str]:
    """The tenant's decrypted credentials by API id (UNREADABLE when one no longer decrypts)."""
    table = t.external_credentials
    with db.tenant(tenant) as conn:
        rows = conn.execute(select(table.c.api_id, table.c.secret_enc)).all()
    fernet = _fernet(settings) if rows else None
    out = {}
    for api_id, secret_enc in rows:
        try:
            out[api_id] = fernet.decrypt(secret_enc.encode()).decode()
        except InvalidToken:
            out[api_id] = UNREADABLE
    return out
