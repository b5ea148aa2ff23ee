"""Reaching the model: the zones registered in etcd, choosing one (balancer), calling Triton
with hedging and retries paid from a budget, and the leader's health probes."""
