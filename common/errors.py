"""Domain errors: what services raise when a rule refuses a change. They know nothing of
HTTP; common/api/errors.py maps each kind to its status in one place, so a task or a
command calling the same service gets the same error, not a `409 Conflict` response.

Every code here is also listed (with its meaning for clients) in common/api/error_codes.py.
"""

import enum


class ErrorCode(enum.StrEnum):
    VALIDATION_ERROR = "validation_error"
    NOT_FOUND = "not_found"
    PERMISSION_DENIED = "permission_denied"
    CONFLICT = "conflict"
    LEAD_ALREADY_CONVERTED = "lead_already_converted"
    LEAD_STATUS_LOCKED = "lead_status_locked"
    LAST_ADMIN = "last_admin"
    API_KEY_REVOKED = "api_key_revoked"
    PRECONDITION_FAILED = "precondition_failed"
    TOO_LARGE = "too_large"
    ATTACHMENT_TOO_LARGE = "attachment_too_large"


class DomainError(Exception):
    """`code` says what went wrong to a program, `detail` to a person; `fields` maps input
    fields to their messages when the error is about them."""

    code: ErrorCode = ErrorCode.CONFLICT
    detail: str = "The change conflicts with the current state."

    def __init__(
        self, detail: str | None = None, *, code: ErrorCode | None = None, fields=None
    ) -> None:
        self.detail = detail or type(self).detail
        self.code = code or type(self).code
        self.fields = fields or {}
        super().__init__(self.detail)


class InvalidInput(DomainError):
    code = ErrorCode.VALIDATION_ERROR
    detail = "Invalid input."


class NotFound(DomainError):
    code = ErrorCode.NOT_FOUND
    detail = "Not found."


class Forbidden(DomainError):
    code = ErrorCode.PERMISSION_DENIED
    detail = "The role or ownership does not allow this."


class Conflict(DomainError):
    code = ErrorCode.CONFLICT


class PreconditionFailed(DomainError):
    code = ErrorCode.PRECONDITION_FAILED
    detail = "The resource changed since the version the request names (If-Match)."


class TooLarge(DomainError):
    code = ErrorCode.TOO_LARGE
    detail = "The content is too large."
