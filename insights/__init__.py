"""The insights worker process (`python -m insights`): clusters unrecognised queries, finds
trends and satisfaction, and writes them to etcd for the admin API and the console."""
