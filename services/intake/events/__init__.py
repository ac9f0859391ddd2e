"""The events API (`POST /v1/events`): reading a submitted event or batch (`submission`), what each
organisation may send (`policy`), and accepting it into the outbox with its audit record (`submit`)."""
