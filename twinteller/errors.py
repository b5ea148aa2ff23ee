"""One exception root. Handlers raise these; the gRPC boundary (router/api/boundary.py)
turns each into the status code the README names ("The API"), so no handler ever returns UNKNOWN."""

from __future__ import annotations


class TwintellerError(Exception):
    """Root of every error twinteller raises on purpose."""


class InvalidArgument(TwintellerError):
    """The caller sent something we refuse; the message names the field."""


class NotFound(TwintellerError):
    """The thing the caller named does not exist (e.g. an unknown session)."""


class Unauthenticated(TwintellerError):
    """An admin call without a valid token."""


class PermissionDenied(TwintellerError):
    """An admin call by someone whose roles do not allow it."""


class Conflict(TwintellerError):
    """The thing changed since the caller read it (a stale revision); re-read and retry."""


class FailedPrecondition(TwintellerError):
    """The request is well-formed but the system is not in a state to do it (e.g. no
    previous model version to roll back to)."""


class Unavailable(TwintellerError):
    """No healthy zone (or store) could serve the request; the caller may retry."""


class DeadlineExceeded(TwintellerError):
    """The caller's deadline was spent before the turn could be answered."""


class ModelCallFailed(TwintellerError):
    """One model call in one zone failed; the router retries in the other zone."""

    def __init__(self, zone: str, reason: str) -> None:
        super().__init__(f"zone {zone}: {reason}")
        self.zone = zone
        self.reason = reason


class StoreError(TwintellerError):
    """etcd could not be reached or answered with an error."""


class ResourceExhausted(TwintellerError):
    """The caller sends more than its share (rate or calls in flight); retry after a while."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
