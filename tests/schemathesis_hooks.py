"""Loaded by schemathesis (SCHEMATHESIS_HOOKS) when it tests intake against its OpenAPI document.

Every time intake is sent must not be later than the moment it receives it (the document says so on
`time` and in the 422 answer): JSON Schema cannot say "not in the future", so the times generated
for `format: date-time` are drawn from the past, in any offset. Everything else is generated from the
document as it stands."""

from datetime import UTC, datetime, timedelta, timezone

import schemathesis
from hypothesis import strategies as st

_OFFSETS = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
# At least a day before now: a local time in any offset is still in the past.
_PAST = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime.now(UTC).replace(tzinfo=None) - timedelta(days=1),
    timezones=_OFFSETS,
)

schemathesis.openapi.format("date-time", _PAST.map(datetime.isoformat))
