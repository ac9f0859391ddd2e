"""The web pages people use (sign-in, the coordinator's board, the provider worker's worklist)."""
