"""Signing people in: argon2id passwords, server-side sessions, CSRF tokens, and slowing down guessing.

- A person's first password is the one-time password `mtp people add` printed (the directory holds its
  argon2id hash); the first sign-in must choose a new one, which intake keeps (its own hash).
- A session is a random id in an HttpOnly, SameSite=Strict cookie (Secure behind https); intake keeps
  only its SHA-256. It ends after 30 minutes unused or 12 hours in all, and at sign-out. Signing in
  always makes a new one. A session belongs to the one-time password current when it began: a new
  one (a reset) ends every session begun before it, and only a session begun by signing in with the
  one-time password may choose the password that replaces it.
- Every form carries the session's CSRF token; a form without the right one changes nothing.
- Sign-in attempts are counted before the password is checked, one at a time per person and address
  (so guesses sent at once cannot pass the count together). Past five for a person from one address,
  twenty from an address, or ten for a person from everywhere within 15 minutes, each further attempt
  waits twice as long as the one before (30 s, 1 min, 2 min, ...; 5 s, 10 s, ... for the person from
  everywhere): up to 15 minutes for an address, up to a minute for the person, who is never locked out
  of a live case.
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
THROTTLE_WINDOW = timedelta(minutes=15)  # attempts older than this are forgotten
# Free attempts within the window, then a wait before each further one, twice as long each time (30 s,
# 1 min, 2 min, ...) up to a cap: for a person from one address, for an address whatever the person,
# and for a person from everywhere. The last is capped at a minute, so that guessing from many addresses
# never keeps the person out of a live case for longer. (free attempts, first wait, longest wait)
BACKOFF = {
    "pair": (5, timedelta(seconds=30), timedelta(minutes=15)),
    "address": (20, timedelta(seconds=30), timedelta(minutes=15)),
    "person": (10, timedelta(seconds=5), timedelta(minutes=1)),
}
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
    viewed: str | None = None  # the page this session last looked at (in the audit trail)

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


def throttle_subjects(org_id: str, person_id: str, address: str) -> dict[str, str]:
    """What sign-in attempts are counted against, by kind (BACKOFF)."""
    return {
        "pair": f"pair:{org_id}/{person_id}@{address}",
        "address": f"address:{address}",
        "person": f"person:{org_id}/{person_id}",
    }


def wait_before(kinds: dict[str, str], counted: dict[str, tuple[int, datetime]], now: datetime) -> timedelta:
    """How long the next attempt must wait, from the attempts counted (how many, the latest) per subject."""
    longest = timedelta()
    for kind, subject in kinds.items():
        free, first, cap = BACKOFF[kind]
        count, latest = counted.get(subject, (0, now))
        if count >= free:
            backoff = min(first * 2 ** min(count - free, 20), cap)
            longest = max(longest, latest + backoff - now)
    return longest


async def attempt_sign_in(
    pool: store.Pool, org_id: str, person_id: str, address: str, now: datetime
) -> timedelta:
    """Count a sign-in attempt before its password is checked, or refuse it: how long it must wait
    (nothing: go on). Attempts at once for one subject are counted one after the other."""
    kinds = throttle_subjects(org_id, person_id, address)
    return await store.attempt(
        pool,
        sorted(kinds.values()),
        since=now - THROTTLE_WINDOW,
        now=now,
        wait=lambda counted: wait_before(kinds, counted, now),
    )


async def signed_in_well(pool: store.Pool, org_id: str, person_id: str, address: str, now: datetime) -> None:
    """The right password: the person's attempts are forgotten, and this one from the address (many
    people may sign in from one office's address; only failures count against it)."""
    kinds = throttle_subjects(org_id, person_id, address)
    await store.forget_attempts(pool, [kinds["pair"], kinds["person"]], kinds["address"], now)


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


def issued(person: Person) -> str:
    """Names the one-time password the directory holds for the person now (a digest of its hash)."""
    return hashlib.sha256(person.password_argon2.encode()).hexdigest()


async def start_session(
    pool: store.Pool, org: Organisation, person: Person, now: datetime, *, with_one_time_password: bool
) -> str:
    """A new session for the person, bound to their present one-time password; return the cookie's id."""
    session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    await store.create_session(
        pool,
        digest(session_id),
        org.id,
        person.id,
        csrf,
        now,
        issued_sha256=issued(person),
        with_one_time_password=with_one_time_password,
    )
    return session_id


async def signed_in(
    pool: store.Pool, directory: Directory, session_id: str, now: datetime, *, use: bool = True
) -> SignedIn | None:
    """The person whose live session this is (still in the directory), or None. `use`: the person
    acted (the session's idle time starts again); a page following the system by itself does not."""
    row = await store.session(pool, digest(session_id), now, IDLE, LONGEST, use=use)
    if row is None:
        return None
    found = directory.person(row["org_id"], row["person_id"])
    if found is None or row["issued_sha256"] != issued(found[1]):
        # Removed from the directory, or given a new one-time password since (a reset, perhaps
        # because the password or a device was lost): every session begun before ends.
        await store.end_session(pool, digest(session_id))
        return None
    chosen = await store.chosen_password(pool, row["org_id"], row["person_id"], found[1].password_argon2)
    if chosen is None and not row["with_one_time_password"]:
        await store.end_session(pool, digest(session_id))  # only the one-time password chooses
        return None
    return SignedIn(found[0], found[1], row["csrf"], digest(session_id), chosen is None, row["viewed"])


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(HASHER.hash, password)


def csrf_ok(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())
