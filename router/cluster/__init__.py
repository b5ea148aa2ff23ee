"""The routers as a cluster: leader election and each router's registration in etcd."""
