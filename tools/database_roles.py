"""A database role for each service, so that each reads and writes its own schema only.

`mtp run` and the tests make them: each service connects as its own role, and the schemas' owner
applies the migrations and grants each role its rows (shared/migrations.py). A deployment makes the
roles its own way (docker-compose.yml does it with deploy/postgres/roles.sh) and gives each service
a DSN naming its role.
"""

import secrets
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg

SERVICES = ("intake", "scheduler", "notifier")


def with_login(dsn: str, user: str, password: str | None = None) -> str:
    """The same DSN, signing in as another role."""
    parts = urlsplit(dsn)
    host = parts.netloc.rpartition("@")[2]
    login = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "")
    return urlunsplit((parts.scheme, f"{login}@{host}", parts.path, parts.query, parts.fragment))


async def login_roles(dsn: str, roles: dict[str, bool]) -> dict[str, str]:
    """Make (or refresh) login roles on the database `dsn` names, signing in with `dsn` (a role that
    may create roles); each may connect to that database, and those marked True may create schemas
    in it (an owner). Return a DSN per role, each with a new password."""
    database = urlsplit(dsn).path.lstrip("/")
    logins: dict[str, str] = {}
    conn = await asyncpg.connect(dsn)
    try:
        for role, owner in roles.items():
            password = secrets.token_hex(16)
            exists = await conn.fetchval("SELECT true FROM pg_roles WHERE rolname = $1", role)
            # Role names come from this system, passwords are hex digits: nothing to quote.
            await conn.execute(
                f"{'ALTER' if exists else 'CREATE'} ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
                f"PASSWORD '{password}'"
            )
            rights = "CONNECT, CREATE" if owner else "CONNECT"
            await conn.execute(f'GRANT {rights} ON DATABASE "{database}" TO {role}')
            logins[role] = with_login(dsn, role, password)
    finally:
        await conn.close()
    return logins


async def service_logins(dsn: str, prefix: str = "mtp_") -> dict[str, str]:
    """A login role per service (`mtp_intake`, ...): each service's DSN, by service."""
    logins = await login_roles(dsn, {f"{prefix}{service}": False for service in SERVICES})
    return {service: logins[f"{prefix}{service}"] for service in SERVICES}
