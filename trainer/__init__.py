"""The trainer process (`python -m trainer`): trains, deploys and rolls back model versions as
jobs routers queue in etcd; `python -m trainer.training` builds a version offline."""
