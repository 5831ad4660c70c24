"""Lead endpoints. Views translate HTTP into service and selector calls, nothing more."""

from django.conf import settings
from django.db.models import Prefetch, prefetch_related_objects
from django.http import FileResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from common.api.errors import PayloadTooLarge
from common.api.parsers import JSONParser
from common.api.viewsets import OrgScopedGenericViewSet
from leads import selectors, services
from leads.api.serializers import (
    AttachmentSerializer,
    CommentSerializer,
    CommentUpdateSerializer,
    ConversionSerializer,
    LeadActivityResultSerializer,
    LeadActivitySerializer,
    LeadActivityWithAttachmentSerializer,
    LeadCreateSerializer,
    LeadCreateWithAttachmentSerializer,
    LeadDetailSerializer,
    LeadExportQuerySerializer,
    LeadListQuerySerializer,
    LeadListResponseSerializer,
    LeadSerializer,
    LeadWriteSerializer,
)
from leads.conversion import lead_convert
from leads.etags import lead_etag
from leads.exports import csv_stream, export_rows, xlsx_stream
from leads.filters import LeadFilterSet
from leads.models import Attachment, Comment, Lead

CONTENT_DISPOSITION = OpenApiParameter(
    "Content-Disposition",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200],
    description="`attachment` with the file's original name.",
)

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The lead's `ETag` as last read: the write happens only if the lead has "
    "not changed since (otherwise 412). Without it the write is unconditional.",
)
ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200],
    description="The lead's current version, for `If-Match`.",
)

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _filter_parameters() -> list[OpenApiParameter]:
    """The list's filters, documented on the export too (the schema generator adds a
    filter set's parameters to list operations only)."""
    parameters = []
    for name, field in LeadFilterSet.base_filters.items():
        choices = getattr(field, "extra", {}).get("choices")
        parameters.append(
            OpenApiParameter(
                name,
                OpenApiTypes.UUID if name == "assigned_to" else OpenApiTypes.STR,
                description=field.extra.get("help_text", ""),
                enum=[value for value, _label in choices] if choices else None,
            )
        )
    return parameters


class LeadViewSet(OrgScopedGenericViewSet):
    """Leads of the organization. ADMIN members see every lead; USER members see the leads
    assigned to them or created by them (any other lead answers 404)."""

    model = Lead
    filter_backends = [DjangoFilterBackend]
    filterset_class = LeadFilterSet
    pagination_class = None
    #: PUT changes only the fields sent, like PATCH (the schema documents it so).
    partial_put = True
    #: Where a file travels, multipart is taken besides JSON; everything else is JSON only.
    file_actions = {"create", "add_activity"}

    def get_parsers(self):
        # Runs before `self.action` is set: the route's method tells the action.
        method = getattr(getattr(self, "request", None), "method", "") or ""
        action = getattr(self, "action", None) or self.action_map.get(method.lower())
        if action in self.file_actions:
            return [JSONParser(), MultiPartParser()]
        return [JSONParser()]

    @property
    def extra_error_codes(self) -> list[str]:
        """Documented in the schema per operation."""
        return {
            "create": ["413"],
            "update": ["409", "412"],
            "partial_update": ["409", "412"],
            "destroy": ["412"],
            "convert": ["409"],
            "add_activity": ["413"],
        }.get(self.action, [])

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if self.action in {"create", "add_activity"}:
            _refuse_oversized_body(request)

    def scope_queryset(self, queryset):
        if self.action == "retrieve":
            return selectors.lead_detail_queryset(membership=self.membership, queryset=queryset)
        if self.action == "list":
            # lead_list applies the member's visibility itself: it counts a USER member's
            # leads as two disjoint parts (created by them; assigned to them and not created
            # by them) instead of one OR that tests every lead of the organization.
            return queryset
        return selectors.leads_visible_to(membership=self.membership, queryset=queryset)

    def get_serializer_class(self):
        return {
            "create": LeadCreateWithAttachmentSerializer,
            "update": LeadWriteSerializer,
            "partial_update": LeadWriteSerializer,
            "add_activity": LeadActivityWithAttachmentSerializer,
        }.get(self.action, LeadSerializer)

    def perform_content_negotiation(self, request, force=False):
        # The export's `format` names the file type, not one of DRF's renderers.
        return super().perform_content_negotiation(request, force=force or self.action == "export")

    @extend_schema(
        operation_id="leads_list",
        parameters=[LeadListQuerySerializer],
        responses=LeadListResponseSerializer,
    )
    def list(self, request):
        """List leads, newest first unless `ordering` says otherwise, split into open and
        closed. Converted leads never appear. `limit` cuts each of the two lists; `cursor`
        (from `next_cursor`) continues both where the last page ended, at the same cost at
        any depth, while `offset` costs more the deeper it goes. Counts are exact at any
        size without a filter, by `status`, and (ADMIN) by one `assigned_to` or one tag;
        with other filters they are exact up to 10,000, and beyond that `counts_exact` is
        false and a count means "more than 10,000".
        An unknown `status`, `ordering` or `cursor`, or a malformed `assigned_to`, is a 400."""
        query = LeadListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        # The filter set answers an invalid filter with a 400 here, before the filters'
        # values are handed on (the tallies take them as they are). Run as the filter
        # backend runs it, and kept: it tells which filters tested each lead's row.
        filterset = self.filter_backends[0]().get_filterset(request, self.get_queryset(), self)
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        filtered = filterset.qs
        page = selectors.lead_list(
            membership=self.membership,
            filtered=filtered,
            limit=query.validated_data["limit"],
            offset=query.validated_data["offset"],
            ordering=query.validated_data["ordering"],
            cursor=query.validated_data.get("cursor"),
            filters={
                name: value
                for name in LeadFilterSet.base_filters
                if (value := request.query_params.get(name, "").strip())
            },
            rows_checked=filterset.rows_checked,
        )
        return Response(LeadListResponseSerializer(page).data)

    @extend_schema(
        operation_id="leads_export",
        parameters=[LeadExportQuerySerializer, *_filter_parameters()],
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.BINARY, description="UTF-8 CSV with a header row."
            ),
            (200, XLSX_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description="A workbook."),
        },
    )
    def export(self, request):
        """Every lead the list shows with the same filters, the open ones then the closed
        ones (each in the list's order), as one CSV or XLSX file (no limit), streamed from
        the first row on. The columns are the import's, so the file imports back. Cells that
        a spreadsheet would run as formulas start with `'`."""
        query = LeadExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = export_rows(
            leads=self.filter_queryset(self.get_queryset()),
            ordering=query.validated_data["ordering"],
        )
        kind = query.validated_data["format"]
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        if kind == "xlsx":
            response = StreamingHttpResponse(xlsx_stream(rows), content_type=XLSX_TYPE)
        else:
            response = StreamingHttpResponse(
                csv_stream(rows), content_type="text/csv; charset=utf-8"
            )
        response["Content-Disposition"] = f'attachment; filename="leads-{stamp}.{kind}"'
        response["Cache-Control"] = "private, no-store"
        return response

    @extend_schema(
        operation_id="leads_create",
        request={
            "application/json": LeadCreateSerializer,
            "multipart/form-data": LeadCreateWithAttachmentSerializer,
        },
        responses={201: LeadSerializer},
    )
    def create(self, request):
        """Create a lead (JSON, or multipart with a file in `attachment`). `auto_convert:
        true` or `status: "converted"` converts it in the same transaction: the answer's
        `converted_account` is then the account with its contact and opportunity. Without
        `assigned_to`, the organization's assignment rules decide. Newly assigned users get
        an e-mail."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        upload = data.pop("attachment", None)
        relations = {name: data.pop(name, None) for name in services.LEAD_RELATION_FIELDS}
        auto_convert = data.pop("auto_convert", False)
        lead, _ = services.lead_create(
            org=self.organization,
            by=request.user,
            data=data,
            auto_convert=auto_convert,
            attachment=upload,
            **relations,
        )
        return Response(self._render(lead), status=status.HTTP_201_CREATED)

    @extend_schema(operation_id="leads_retrieve", responses=LeadDetailSerializer, parameters=[ETAG])
    def retrieve(self, request, pk=None):
        """Everything about one lead, including converted ones. `ETag` is its version."""
        lead = self.get_object()
        context = {
            **self.get_serializer_context(),
            "users_mention": list(selectors.active_members(org=self.organization)),
        }
        return Response(
            LeadDetailSerializer(lead, context=context).data, headers={"ETag": lead_etag(lead)}
        )

    @extend_schema(
        operation_id="leads_update",
        request=LeadWriteSerializer,
        responses=LeadSerializer,
        parameters=[IF_MATCH, ETAG],
    )
    def update(self, request, pk=None):
        """Update the fields sent; the others stay as they are (PUT and PATCH alike).
        `status: "converted"` converts the lead; a converted lead's status cannot change
        (409). Newly assigned users get an e-mail. With `If-Match`, a lead changed since
        that ETag is left alone (412)."""
        lead = self.get_object()
        serializer = LeadWriteSerializer(
            lead, data=request.data, partial=True, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        relations = {name: data.pop(name) for name in services.LEAD_RELATION_FIELDS if name in data}
        lead, _ = services.lead_update(
            lead=lead,
            by=request.user,
            data=data,
            if_match=request.headers.get("If-Match"),
            **relations,
        )
        return Response(self._render(lead), headers={"ETag": lead_etag(lead)})

    @extend_schema(
        operation_id="leads_partial_update",
        request=LeadWriteSerializer,
        responses=LeadSerializer,
        parameters=[IF_MATCH, ETAG],
    )
    def partial_update(self, request, pk=None):
        """Same as PUT: only the fields sent change."""
        return self.update(request, pk=pk)

    @extend_schema(operation_id="leads_destroy", responses={204: None}, parameters=[IF_MATCH])
    def destroy(self, request, pk=None):
        """Delete the lead with its comments and attachments (files included); with
        `If-Match`, only if it has not changed since that ETag (otherwise 412)."""
        services.lead_delete(
            lead=self.get_object(), by=request.user, if_match=request.headers.get("If-Match")
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="leads_add_comment_or_attachment",
        request={
            "application/json": LeadActivitySerializer,
            "multipart/form-data": LeadActivityWithAttachmentSerializer,
        },
        responses={201: LeadActivityResultSerializer},
    )
    def add_activity(self, request, pk=None):
        """Add a `comment` (JSON or multipart), an `attachment` (multipart), or both, to the
        lead. An attachment over the size limit is a 413. `Location` is the attachment's
        download URL when a file was sent, otherwise the comment's URL."""
        lead = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        comment, attachment = services.lead_add_activity(
            lead=lead,
            by=request.user,
            text=serializer.validated_data.get("comment"),
            upload=serializer.validated_data.get("attachment"),
        )
        result = {"comment": comment, "attachment": attachment}
        return Response(LeadActivityResultSerializer(result).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="leads_convert",
        request=None,
        responses={
            201: OpenApiResponse(ConversionSerializer, description="A new account was created."),
            200: OpenApiResponse(
                ConversionSerializer,
                description="The lead was linked to the existing account of its company.",
            ),
        },
    )
    def convert(self, request, pk=None):
        """Convert the lead: an account (or the organization's existing account with the
        same company name), a contact and an opportunity, in one transaction. Converting
        twice is a 409."""
        conversion = lead_convert(lead=self.get_object(), by=request.user)
        return Response(
            ConversionSerializer(conversion, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED if conversion.account_created else status.HTTP_200_OK,
        )

    def created_location(self, data) -> str | None:
        if self.action == "create":
            return reverse("lead-detail", kwargs={"pk": data["id"]})
        if self.action == "convert":
            return reverse("account-detail", kwargs={"pk": data["account"]["id"]})
        if self.action == "add_activity":
            if data.get("attachment"):
                return reverse("lead-attachment-detail", kwargs={"pk": data["attachment"]["id"]})
            return reverse("lead-comment-detail", kwargs={"pk": data["comment"]["id"]})
        return None

    def _render(self, lead):
        """The written lead as LeadSerializer renders it. The services keep what they wrote
        on the instance; only the associations a write did not touch are read here."""
        known = getattr(lead, "_prefetched_objects_cache", {})
        missing = [
            name for name in ("contacts", "assigned_to", "teams", "tags") if name not in known
        ]
        if "attachments" not in known:
            missing.append(
                Prefetch(
                    "attachments",
                    queryset=Attachment.objects.unscoped()
                    .select_related("created_by")
                    .order_by("created_on"),
                )
            )
        prefetch_related_objects([lead], *missing)
        return LeadSerializer(lead, context=self.get_serializer_context()).data


def _refuse_oversized_body(request) -> None:
    """413 before a multipart body is read (and spooled to disk) when its declared length
    cannot fit one attachment plus ordinary form fields."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return
    if declared > settings.ATTACHMENT_MAX_BYTES + settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        raise PayloadTooLarge(
            f"Attachments may be at most {settings.ATTACHMENT_MAX_BYTES} bytes.",
            code="attachment_too_large",
        )


class CommentViewSet(OrgScopedGenericViewSet):
    """A comment on a lead. Whoever can see the lead can read it; its author or an ADMIN
    may edit or delete it, another member who can see the lead gets 403, one who cannot
    gets 404."""

    model = Comment
    serializer_class = CommentSerializer

    def scope_queryset(self, queryset):
        visible = selectors.comments_visible_to(membership=self.membership, queryset=queryset)
        return visible.select_related("commented_by")

    def get_object(self):
        comment = super().get_object()
        if self.action == "retrieve":
            return comment
        if not selectors.comment_changeable_by(membership=self.membership, comment=comment):
            raise PermissionDenied("Only the author or an admin may change this comment.")
        return comment

    @extend_schema(operation_id="leads_comment_retrieve")
    def retrieve(self, request, pk=None):
        """One comment, for any member who can see its lead."""
        return Response(CommentSerializer(self.get_object()).data)

    @extend_schema(operation_id="leads_comment_update", request=CommentUpdateSerializer)
    def update(self, request, pk=None):
        """Replace the comment's text."""
        comment = self.get_object()
        serializer = CommentUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        comment = services.comment_update(
            comment=comment, text=serializer.validated_data["comment"], by=request.user
        )
        return Response(CommentSerializer(comment).data)

    @extend_schema(operation_id="leads_comment_partial_update", request=CommentUpdateSerializer)
    def partial_update(self, request, pk=None):
        """Same as PUT."""
        return self.update(request, pk=pk)

    @extend_schema(operation_id="leads_comment_destroy", responses={204: None})
    def destroy(self, request, pk=None):
        """Delete the comment."""
        services.comment_delete(comment=self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AttachmentViewSet(OrgScopedGenericViewSet):
    """A file attached to a lead. Files are only ever served here, to members who can see
    the lead; the uploader or an ADMIN may delete it."""

    model = Attachment
    serializer_class = AttachmentSerializer

    def perform_content_negotiation(self, request, force=False):
        # A download answers with the file whatever `Accept` says (errors stay JSON).
        return super().perform_content_negotiation(request, force=True)

    def scope_queryset(self, queryset):
        return selectors.attachments_visible_to(membership=self.membership, queryset=queryset)

    @extend_schema(
        operation_id="leads_attachment_download",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The file, with `Content-Disposition: attachment` and its "
                "original name.",
            )
        },
        parameters=[CONTENT_DISPOSITION],
    )
    def retrieve(self, request, pk=None):
        """Download the file under its original name."""
        attachment = self.get_object()
        try:
            handle = attachment.file.open("rb")
        except FileNotFoundError:
            raise NotFound("The file of this attachment is missing.") from None
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=attachment.file_name or "attachment",
            content_type=attachment.content_type or "application/octet-stream",
        )
        response["Cache-Control"] = "private, no-store"
        return response

    @extend_schema(operation_id="leads_attachment_destroy", responses={204: None})
    def destroy(self, request, pk=None):
        """Delete the attachment; its file is removed once the delete is committed."""
        attachment = self.get_object()
        if not selectors.attachment_deletable_by(membership=self.membership, attachment=attachment):
            raise PermissionDenied("Only the uploader or an admin may delete this attachment.")
        services.attachment_delete(attachment=attachment, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
