"""What developers and operators run beside the services: the `mtp` command line, the local run on an
embedded broker and database, the demo and its webhook receiver. The services never import it, and it
is not in the production image."""
