"""One turn of a conversation: the turn path, the dialogue policy and its phrases and slots,
sessions in etcd (with local copies for degraded mode), the active knowledge base, and the
log of what was not understood."""
