"""The reference legacy regex bot (`python -m legacy`) that twinteller replaces: a process of
its own, speaking HTTP/JSON and gRPC as the old system does."""
