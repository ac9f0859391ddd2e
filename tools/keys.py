"""New API keys, webhook secrets and people's one-time passwords."""

import base64
import secrets

from argon2 import PasswordHasher

from shared.directory import hash_api_key


def new_api_key(prefix: str = "mtp") -> tuple[str, str]:
    """Return a fresh random API key and its SHA-256 (the only part the directory keeps)."""
    key = f"{prefix}_{secrets.token_urlsafe(32)}"
    return key, hash_api_key(key)


def new_webhook_secret() -> str:
    """Return a fresh Standard Webhooks secret (`whsec_` + base64 of 32 random bytes)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def new_one_time_password() -> tuple[str, str]:
    """Return a one-time password for a person's first sign-in, and its argon2id hash (the directory's)."""
    password = secrets.token_urlsafe(12)
    return password, PasswordHasher().hash(password)
