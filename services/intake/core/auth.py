"""Bearer API keys, checked against the directory's SHA-256 hashes."""

from dataclasses import dataclass

from fastapi import Request

from services.intake.core.errors import Unauthorised
from shared.directory import Directory, Organisation


@dataclass(frozen=True)
class Caller:
    """The authenticated organisation and which of its keys it used."""

    org: Organisation
    key_id: str

    @property
    def source(self) -> str:
        """The CloudEvents `source` of everything this organisation sends."""
        return f"/orgs/{self.org.id}"


def authenticate(request: Request, directory: Directory) -> Caller:
    """Return the caller of a request, or raise Unauthorised."""
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorised("Send the API key as 'Authorization: Bearer <key>'.")
    found = directory.authenticate(key.strip())
    if found is None:
        raise Unauthorised("The API key is not known.")
    org, key_id = found
    return Caller(org=org, key_id=key_id)


def caller(request: Request) -> Caller:
    """FastAPI dependency: authenticate before anything else of the request is looked at."""
    found = authenticate(request, request.app.state.deps.directory)
    request.state.org, request.state.key_id = found.org.id, found.key_id
    return found
