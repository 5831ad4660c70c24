"""Every `code` an error body can carry. The schema's `Error.code` enum is this list, so a
client can switch on it; a code used anywhere else must be added here first
(tests/test_error_codes.py finds every code literal in the source and checks it)."""

ERROR_CODES: dict[str, str] = {
    # Input
    "validation_error": "Invalid input; `fields` says which and why.",
    "parse_error": "The body is not valid JSON (or not a readable form).",
    "unsupported_media_type": "This operation does not take that Content-Type.",
    "not_acceptable": "No answer in the media type the Accept header asks for.",
    "method_not_allowed": "The route does not take this HTTP method.",
    "too_large": "The body or upload is over its size limit.",
    "attachment_too_large": "The attachment is over its size limit.",
    # Credentials
    "not_authenticated": "No credentials were sent.",
    "authentication_failed": "The credentials were wrong.",
    "no_active_account": "No active account with these credentials.",
    "token_not_valid": "The token is invalid, expired or revoked.",
    "bad_authorization_header": "The Authorization header is malformed.",
    "user_not_found": "The token's user no longer exists.",
    "user_inactive": "The token's user is inactive.",
    "password_changed": "The password changed since the token was issued.",
    "api_key_invalid": "A missing, unknown or revoked website-form API key.",
    # Organization and permissions
    "organization_header_missing": "The organization-id header is required.",
    "organization_header_invalid": "The organization-id header is not a UUID.",
    "organization_forbidden": "Not an active member of this organization (or no such one).",
    "permission_denied": "The role or ownership does not allow this.",
    "origin_not_allowed": "This website origin may not post with this API key.",
    # Resources and state
    "not_found": "No such resource (another organization's objects included).",
    "conflict": "The request conflicts with the resource's current state.",
    "lead_already_converted": "The lead is already converted.",
    "lead_status_locked": "A converted lead's status cannot change.",
    "last_admin": "An organization must keep at least one active admin.",
    "api_key_revoked": "A revoked key cannot be rotated.",
    "precondition_failed": "The resource changed since the ETag sent in If-Match.",
    "throttled": "Rate limited; retry after `Retry-After` seconds.",
    "service_unavailable": "The database or cache is unreachable; retry after `Retry-After`.",
    "server_error": "An unexpected server error (never for bad input).",
}

ERROR_CODE_CHOICES = [(code, code) for code in ERROR_CODES]
