"""The web pages people use, in English and Welsh, rendered by intake from its read model, with actions
that go through the same path as the API (`submit`: the same checks, idempotency and audit) under the
person's name; a module per page or group of pages: sign-in and password (`sign_in`), the board and
worklist (`board`), a provider worker's actions (`worklist`), a child's page (`child`) and what the child said
on it (`heard`), the council's figures (`figures`), and what they share (`common`).

Every page is sent with a strict Content-Security-Policy (scripts and styles only from /web/static,
nothing inline), and every page view, sign-in, sign-out and action is in the audit trail with the
person's id (`person:<id>` in the API key's place).
"""

from fastapi import APIRouter

from services.intake.web.pages import board, child, figures, heard, sign_in, worklist

router = APIRouter(prefix="/web", include_in_schema=False)
for part in (sign_in, board, worklist, child, heard, figures):
    router.include_router(part.router)
