"""credchain agent: a long-running local credential service on a Unix socket."""
