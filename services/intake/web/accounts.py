"""Signing people in: argon2id passwords, server-side sessions, CSRF tokens, and slowing down guessing.

- A person's first password is the one-time password `mtp people add` printed (the directory holds its
  argon2id hash); the first sign-in must choose a new one, which intake keeps (its own hash).
- A session is a random id in an HttpOnly, SameSite=Strict cookie (Secure behind https); intake keeps
  only its SHA-256. It ends after 30 minutes unused or 12 hours in all, and at sign-out. Signing in
  always makes a new one.
- Every form carries the session's CSRF token; a form without the right one changes nothing.
- Five failed sign-ins for one person, or twenty from one address, within 15 minutes, and that person
  or address waits: every attempt is refused until the oldest failure is 15 minutes old.
"""

import asyncio
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from services.intake.web import store
from shared.directory import Directory, Organisation, Person

COOKIE, LANG_COOKIE = "mtp_session", "mtp_lang"
IDLE, LONGEST = timedelta(minutes=30), timedelta(hours=12)
THROTTLE_WINDOW = timedelta(minutes=15)
PERSON_LIMIT, ADDRESS_LIMIT = 5, 20
MIN_PASSWORD = 12
HASHER = PasswordHasher()  # argon2id, the library's recommended parameters
# Checked when a name is unknown, so a wrong name costs the same time as a wrong password.
_DUMMY = HASHER.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class SignedIn:
    """The person behind a request, and their session's CSRF token."""

    org: Organisation
    person: Person
    csrf: str
    session_hash: str
    must_choose_password: bool  # signed in with the one-time password: nothing else until then

    @property
    def key_id(self) -> str:
        """How the audit trail names this person (in the API key's place)."""
        return f"person:{self.person.id}"


def digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _verifies(argon2: str, password: str) -> bool:
    try:
        return HASHER.verify(argon2, password)
    except (VerificationError, InvalidHashError):
        return False


def throttle_subjects(org_id: str, person_id: str, address: str) -> tuple[str, str]:
    return f"person:{org_id}/{person_id}", f"address:{address}"


async def throttled(pool: store.Pool, org_id: str, person_id: str, address: str, now: datetime) -> bool:
    person, place = throttle_subjects(org_id, person_id, address)
    counts = await store.failures(pool, [person, place], now - THROTTLE_WINDOW)
    return counts.get(person, 0) >= PERSON_LIMIT or counts.get(place, 0) >= ADDRESS_LIMIT


async def check_password(
    pool: store.Pool, directory: Directory, org_id: str, person_id: str, password: str
) -> tuple[Organisation, Person, bool] | None:
    """The organisation, the person and whether they must choose a password now; None if wrong."""
    found = directory.person(org_id, person_id)
    if found is None:
        await asyncio.to_thread(_verifies, _DUMMY, password)
        return None
    org, person = found
    chosen = await store.chosen_password(pool, org.id, person.id, person.password_argon2)
    # argon2 takes tens of milliseconds and 64 MiB by design: not on the event loop every request shares
    if not await asyncio.to_thread(_verifies, chosen or person.password_argon2, password):
        return None
    return org, person, chosen is None


async def start_session(pool: store.Pool, org: Organisation, person: Person, now: datetime) -> str:
    """A new session for the person; return the id for the cookie."""
    session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    await store.create_session(pool, digest(session_id), org.id, person.id, csrf, now)
    return session_id


async def signed_in(
    pool: store.Pool, directory: Directory, session_id: str, now: datetime
) -> SignedIn | None:
    """The person whose live session this is (still in the directory), or None."""
    row = await store.session(pool, digest(session_id), now, IDLE, LONGEST)
    if row is None:
        return None
    found = directory.person(row["org_id"], row["person_id"])
    if found is None:  # removed from the directory: the session ends with it
        await store.end_session(pool, digest(session_id))
        return None
    chosen = await store.chosen_password(pool, row["org_id"], row["person_id"], found[1].password_argon2)
    return SignedIn(found[0], found[1], row["csrf"], digest(session_id), chosen is None)


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(HASHER.hash, password)


def csrf_ok(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())
