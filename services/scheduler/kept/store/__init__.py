"""The kept state in PostgreSQL: what a batch of children needs loaded to settle (`load`), what they
decided (`write`), and a child's whole history, to fold it again from its start (`history`)."""
