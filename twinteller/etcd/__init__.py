"""The only code that talks to etcd: the store (client), prefix mirrors kept by watches, the
whole key layout (keys.py), shared leases and the audit trail written with each change."""
