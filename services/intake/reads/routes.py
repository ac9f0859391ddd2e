"""Intake's read routes: a child's record, and the audit trail for operations."""

from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Path, Query, Request

from services.intake.core.auth import Caller, caller
from services.intake.core.deps import Deps, not_stored
from services.intake.core.errors import Forbidden, NotFound
from services.intake.docs.answers import problem_answers
from services.intake.reads import store
from services.intake.reads.access import PoliceReport, record_for
from services.intake.reads.views import AuditEntry, AuditPage, ChildRecord
from services.intake.store import audit
from shared.contracts.common import child_key

log = structlog.get_logger()
router = APIRouter(dependencies=[Depends(not_stored)])

Authority = Annotated[
    str, Path(pattern=r"^[EWSN][0-9]{8}$", description="ONS code of the responsible authority.")
]
ChildRefPath = Annotated[
    str,
    Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", description="The responsible authority's child ref."),
]


REFUSALS = {
    401: "No or unknown API key.",
    403: "Operations only.",
    404: "No such child, or not one this organisation may see.",
    422: "A parameter is not valid; each is named.",
}


@router.get(
    "/v1/children/{authority}/{child_ref}",
    operation_id="getChild",
    tags=["children"],
    summary="A child's episodes, tasks and assignments, as the caller may see them",
    response_model=ChildRecord,
    responses=problem_answers(REFUSALS, 401, 404, 422),
)
async def get_child(
    request: Request, authority: Authority, child_ref: ChildRefPath, who: Annotated[Caller, Depends(caller)]
) -> ChildRecord:
    """Read the record intake built from the topics; every successful read is audited."""
    deps: Deps = request.app.state.deps
    key = child_key(authority, child_ref)
    rows = await store.child_rows(deps.pool, key, who.org.id)
    record = record_for(
        who.org,
        deps.directory,
        authority=authority,
        child_ref=child_ref,
        rows=rows,
        known=rows.known,
        police_reports=[PoliceReport(*report) for report in rows.reported_by_caller]
        if who.org.kind == "police"
        else [],
        police_withdrawals=rows.withdrawn_by_caller if who.org.kind == "police" else [],
    )
    if record is None:
        raise NotFound()
    await audit.record_access(deps.pool, deps.clock.now(), who.org.id, who.key_id, "read:child", key)
    log.info("child_read", org=who.org.id, seen_as=record.seen_as)
    return record


@router.get(
    "/v1/audit",
    operation_id="listAudit",
    tags=["audit"],
    summary="The audit trail of reads and writes (operations only)",
    response_model=AuditPage,
    responses=problem_answers(REFUSALS, 401, 403, 422),
)
async def get_audit(
    request: Request,
    who: Annotated[Caller, Depends(caller)],
    child: Annotated[
        str | None,
        Query(
            pattern=r"^[EWSN][0-9]{8}/[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
            description="Only this child: `<authority>/<child_ref>`.",
        ),
    ] = None,
    org: Annotated[
        str | None, Query(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$", description="Only this org.")
    ] = None,
    before: Annotated[
        int | None, Query(ge=1, le=2**62, description="`next_before` of the last page.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditPage:
    """List audit entries, newest first, one page at a time."""
    if who.org.kind != "ops":
        raise Forbidden("Only operations may read the audit trail.")
    deps: Deps = request.app.state.deps
    rows = await audit.audit_page(deps.pool, child_key=child, org_id=org, before=before, limit=limit)
    await audit.record_access(deps.pool, deps.clock.now(), who.org.id, who.key_id, "read:audit", child)
    items = [AuditEntry(**row) for row in rows]
    return AuditPage(items=items, next_before=items[-1].seq if len(items) == limit else None)
