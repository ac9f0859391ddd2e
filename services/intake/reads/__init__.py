"""Reading a child's record (`GET /v1/children/...`) and the audit trail: the answer's shape (`views`),
what each organisation may see of it (`access`), and the routes (`routes`)."""
