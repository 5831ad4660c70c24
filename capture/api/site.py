"""The public endpoint website forms post to: `POST /api/leads/create-from-site/`."""

import uuid

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from capture import throttling
from capture.api.serializers import SiteLeadInputSerializer, SiteLeadSerializer
from capture.keys import (
    any_active_key_allows_origin,
    api_key_resolve,
    key_allows_origin,
    origin_of_url,
)
from capture.services import (
    PUBLIC_LEAD_FIELDS,
    Outcome,
    lead_capture,
    storable_text,
    submission_screen,
)
from common.api.errors import error_response
from common.api.parsers import JSONParser
from common.api.schema import API_KEY_HEADER_SCHEME, API_KEY_QUERY_SCHEME
from common.phones import normalize_phone
from leads.choices import LeadSource, LeadStatus

API_KEY_HEADER = "X-API-Key"
IDEMPOTENCY_HEADER = "Idempotency-Key"
FORM_IDEMPOTENCY_FIELD = "idempotency_key"
CORS_ALLOWED_HEADERS = "content-type, x-api-key, idempotency-key"
CORS_MAX_AGE = "600"
_UNRESOLVED = object()


class ClientAddressThrottle(BaseThrottle):
    """CAPTURE_RATE_LIMIT_PER_ADDRESS requests a minute per client address (all keys,
    valid or not, so guessing keys is throttled too). Preflights are not counted."""

    def allow_request(self, request, view):
        if request.method == "OPTIONS":
            return True
        self.retry_after = throttling.hit(
            "address",
            throttling.client_address(request),
            settings.CAPTURE_RATE_LIMIT_PER_ADDRESS,
        )
        return self.retry_after is None

    def wait(self):
        return self.retry_after


def _invalid_key_response():
    # One answer for a missing, malformed, unknown or revoked key: nothing to tell apart.
    return error_response(
        status.HTTP_401_UNAUTHORIZED,
        "api_key_invalid",
        "A valid API key is required.",
        headers={"WWW-Authenticate": "ApiKey"},
    )


class CreateLeadFromSiteView(APIView):
    """Create a lead from a website form, authenticated by an API key (no JWT).

    The key (query `?apikey=` or header `X-API-Key`) decides the organization; an
    `organization-id` header is ignored. Body: JSON or `application/x-www-form-urlencoded`.
    Only the public form fields below are read; any other field (status, assigned_to, tags,
    org...) is silently ignored. The key's default tags apply; assignment rules, then the
    key's default assignees, decide who gets the lead.

    Answers: 201 with the submitted fields and the new lead's id. A submission whose e-mail
    matches an open lead of the duplicate window answers exactly the same (201, the
    submitted fields, a fresh id): the existing lead is left unchanged and the submission is
    recorded on it as a comment for the sales team. `assigned_to` is always empty here.
    200 with the first answer's id when the `Idempotency-Key` header repeats one already
    used with this key. A form-encoded post with a `thank_you_url` field (or a key with
    one) gets a 303 redirect there instead (a `thank_you_url` off the key's origins, or
    with control characters: 400). A wrong, revoked or missing key: 401, always the same body.
    A browser `Origin` that is not on the key's allowed origins: 403. Beyond the rate limits
    per key and per client address: 429 with `Retry-After`.

    Spam defence: `website_url` is a honeypot; keep it hidden and empty in your form.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ClientAddressThrottle]
    parser_classes = [JSONParser, FormParser]
    extra_error_codes = ["401", "403"]

    # -- key and CORS ------------------------------------------------------------------

    def _api_key(self, request):
        cached = getattr(request, "_capture_api_key", _UNRESOLVED)
        if cached is _UNRESOLVED:
            raw = request.query_params.get("apikey") or request.headers.get(API_KEY_HEADER)
            cached = api_key_resolve(raw)
            request._capture_api_key = cached
        return cached

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        origin = request.headers.get("Origin")
        patch_vary_headers(response, ["Origin"])
        if origin and request.method != "OPTIONS":
            api_key = self._api_key(request)
            if api_key is not None and key_allows_origin(api_key, origin):
                response.headers["Access-Control-Allow-Origin"] = origin
                response.headers["Access-Control-Expose-Headers"] = "Retry-After, Location"
        return response

    @extend_schema(exclude=True)
    def options(self, request, *args, **kwargs):
        """CORS preflight. With `?apikey=` in the URL the key's allowed origins decide;
        without it, an origin on some active key's allow-list is granted (the actual POST
        is then checked against its own key). Other origins get no CORS headers."""
        origin = request.headers.get("Origin")
        response = Response(status=status.HTTP_204_NO_CONTENT)
        if not origin:
            response.headers["Allow"] = "POST, OPTIONS"
            return response
        raw = request.query_params.get("apikey")
        if raw:
            api_key = api_key_resolve(raw)
            granted = api_key is not None and key_allows_origin(api_key, origin)
        else:
            granted = any_active_key_allows_origin(origin)
        if granted:
            response["Access-Control-Allow-Origin"] = origin
            response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
            response["Access-Control-Allow-Headers"] = CORS_ALLOWED_HEADERS
            response["Access-Control-Max-Age"] = CORS_MAX_AGE
        return response

    # -- the submission ----------------------------------------------------------------

    @extend_schema(
        operation_id="leads_create_from_site",
        tags=["leads"],
        # The key goes in the X-API-Key header or the `apikey` query parameter.
        auth=[{API_KEY_HEADER_SCHEME: []}, {API_KEY_QUERY_SCHEME: []}],
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="Up to 255 characters. A repeat for the same key creates nothing "
                "and answers 200 with the original lead.",
            ),
        ],
        request={
            "application/json": SiteLeadInputSerializer,
            "application/x-www-form-urlencoded": SiteLeadInputSerializer,
        },
        responses={
            201: SiteLeadSerializer,
            200: OpenApiResponse(
                SiteLeadSerializer,
                description="Idempotent repeat: this submission's fields with the first "
                "answer's id.",
            ),
            303: OpenApiResponse(description="Form post: redirect to the thank-you URL."),
        },
    )
    def post(self, request, *args, **kwargs):
        api_key = self._api_key(request)
        if api_key is None:
            return _invalid_key_response()
        retry_after = throttling.hit("key", str(api_key.pk), settings.CAPTURE_RATE_LIMIT_PER_KEY)
        if retry_after is not None:
            raise exceptions.Throttled(wait=retry_after)
        origin = request.headers.get("Origin")
        if origin and not key_allows_origin(api_key, origin):
            return error_response(
                status.HTTP_403_FORBIDDEN,
                "origin_not_allowed",
                "This origin may not post with this key.",
            )
        if not isinstance(request.data, dict):
            raise exceptions.ValidationError({"non_field_errors": ["Expected an object."]})
        raw = {key: request.data.get(key) for key in request.data}
        is_form = request.content_type.startswith("application/x-www-form-urlencoded")
        # Plain HTML forms cannot send headers: a hidden `idempotency_key` field does the
        # same job there (a double-clicked submit button creates one lead).
        idempotency_key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
        if not idempotency_key and is_form:
            idempotency_key = str(raw.get(FORM_IDEMPOTENCY_FIELD) or "").strip()
        if len(idempotency_key) > 255 or not idempotency_key.isprintable():
            raise exceptions.ValidationError(
                {IDEMPOTENCY_HEADER: ["At most 255 printable characters."]}
            )

        if (
            is_form
            and raw.get("thank_you_url")
            and not _safe_redirect(api_key, raw["thank_you_url"])
        ):
            # Checked before the honeypot too: a redirect target with CR/LF would break the
            # Location header (a 500 after the spam record was written).
            raise exceptions.ValidationError(
                {"thank_you_url": ["Must be a URL on one of the key's allowed origins."]}
            )
        if submission_screen(
            api_key=api_key,
            raw=raw,
            client_address=throttling.client_address(request),
            origin=origin or "",
            user_agent=request.headers.get("User-Agent", ""),
        ):
            return self._answer(
                request, api_key, is_form, raw.get("thank_you_url"), _decoy(raw, api_key), 201
            )

        serializer = SiteLeadInputSerializer(data=raw)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        thank_you_url = data.pop("thank_you_url", "")
        data.pop("website_url", None)
        data.pop(FORM_IDEMPOTENCY_FIELD, None)
        if is_form and thank_you_url and not _safe_redirect(api_key, thank_you_url):
            raise exceptions.ValidationError(
                {"thank_you_url": ["Must be a URL on one of the key's allowed origins."]}
            )
        result = lead_capture(api_key=api_key, data=data, idempotency_key=idempotency_key)
        # A new lead, or a submission recorded on an existing open lead with the same e-mail,
        # answer alike: 201, the submitted fields and an id (never the existing lead's), so a
        # public key cannot tell which addresses the sales team already holds, nor read them.
        # A replay answers 200 with the first answer's id.
        code = status.HTTP_200_OK if result.outcome is Outcome.REPLAYED else status.HTTP_201_CREATED
        body = _submission_echo(data, api_key, lead_id=result.answer_id) if result.answer_id else {}
        return self._answer(request, api_key, is_form, thank_you_url, body, code)

    def _answer(self, request, api_key, is_form, thank_you_url, body, code):
        if is_form:
            target = thank_you_url or api_key.thank_you_url
            if target and _safe_redirect(api_key, target):
                return Response(status=status.HTTP_303_SEE_OTHER, headers={"Location": target})
        headers = None
        if code == status.HTTP_201_CREATED and body.get("id"):
            path = reverse("lead-detail", kwargs={"pk": body["id"]})
            headers = {"Location": request.build_absolute_uri(path)}
        return Response(body, status=code, headers=headers)


def _safe_redirect(api_key, url) -> bool:
    """A redirect target on the key's allowed origins, printable (urlsplit silently drops
    CR, LF and tabs, so the origin check alone would pass a header-breaking value)."""
    url = str(url)
    return url.isprintable() and origin_of_url(url) in (api_key.allowed_origins or [])


def _decoy(raw: dict, api_key) -> dict:
    """What a honeypot-tripping bot sees: shaped like a created lead, stored nowhere."""
    shortened = {name: storable_text(raw.get(name) or "")[:255] for name in PUBLIC_LEAD_FIELDS}
    return _submission_echo(shortened, api_key, lead_id=uuid.uuid4())


def _submission_echo(values: dict, api_key, *, lead_id) -> dict:
    """The submitted public fields in the shape of a lead: no stored data is read back.
    `assigned_to` is always empty: who handles a lead is not for a public form to learn."""
    body = {name: str(values.get(name) or "") for name in PUBLIC_LEAD_FIELDS}
    if body["phone"]:
        body["phone"] = normalize_phone(body["phone"], api_key.org.default_phone_region)
    body.update(
        id=str(lead_id),
        status=LeadStatus.ASSIGNED,
        source=body["source"] or LeadSource.WEBSITE,
        created_on=timezone.now().isoformat().replace("+00:00", "Z"),
        assigned_to=[],
        tags=sorted(set(api_key.default_tags or [])),
    )
    return body
