"""The library every twinteller process shares (README "Architecture"). It imports no process
package: processes meet in etcd and here."""
