"""What a router tells about its turns: Prometheus metrics, tracing and metrics interceptors,
per-minute traffic counts in etcd, and the local turn log that `locate` and `inspect` read."""
