"""Domain errors: what went wrong in the users' terms.

One small hierarchy, mapped to HTTP statuses in one place (the API layer reads
``http_status`` and ``code``); the domain itself knows nothing of HTTP beyond these numbers.
"""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refused the request."""

    code = "domain_error"
    http_status = 409

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        fields: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.fields = fields


class NotFound(DomainError):
    """The thing asked for does not exist (or is not visible to the actor)."""

    http_status = 404
    code = "not_found"


class Conflict(DomainError):
    """The request contradicts the current state (e.g. refreezing a thawed unit)."""

    http_status = 409
    code = "conflict"


class InvalidInput(DomainError):
    """The input itself is malformed; ``fields`` says which parts and why."""

    http_status = 422
    code = "invalid"


class Forbidden(DomainError):
    """The actor may not do this."""

    http_status = 403
    code = "forbidden"
