"""Signed webhooks to providers, councils and operations: queued as rows in the transaction that
decided them (`queue`), handed to this instance's worker once committed (`handoff`), sent with
Standard Webhooks signatures (`sending`) by the delivery worker with retries and backoff (`worker`,
`backoff`), and every attempt recorded (`recording`); the deliveries' SQL is `store`."""
