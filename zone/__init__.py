"""The zone agent process (`python -m zone`): runs one zone's tritonserver and registers the
zone in etcd only while the model is ready."""
