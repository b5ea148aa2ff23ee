"""What both test tiers share: the in-memory etcd store of the unit tests and the
`twinteller` command as make installs it."""
