"""HTTP interface of bulk lead import: upload a file, follow its job, download failed rows."""

import csv
import json

from django.conf import settings
from django.http import Http404, StreamingHttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from common.api.errors import PayloadTooLarge
from common.api.viewsets import OrgScopedAPIView
from common.spreadsheets import safe_cell
from leads.imports.models import ImportJob, OnDuplicate
from leads.imports.normalise import check_mapping, importable_fields
from leads.imports.selectors import (
    import_job_error_summary,
    import_job_failed_rows,
    import_job_health,
    import_job_queryset,
)
from leads.imports.services import import_job_create

_TRUE = {"1", "true", "yes", "on"}
# Room for the multipart envelope around the file itself.
_MULTIPART_OVERHEAD = 64 * 1024


class ImportUploadSerializer(serializers.Serializer):
    leads_file = serializers.FileField(help_text="CSV (UTF-8, Windows-1252; , ; or tab) or XLSX.")
    dry_run = serializers.BooleanField(
        required=False, default=False, help_text="Validate and report only; write no lead."
    )
    mapping = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text='A JSON object {"<file header>": "<lead field>"}, applied before the header '
        "synonyms (`GET /api/leads/upload/fields/` lists the fields; `full_name` is split "
        "into first and last name). Headers are matched exactly.",
    )
    on_duplicate = serializers.ChoiceField(
        choices=OnDuplicate.choices,
        required=False,
        default=OnDuplicate.SKIP,
        help_text="`skip`: a row with an existing lead's e-mail is a duplicate. `update`: it "
        "updates that lead's fields with the row's non-empty cells (`updated_count`).",
    )

    def validate_mapping(self, value: str) -> dict:
        if not value.strip():
            return {}
        try:
            return check_mapping(json.loads(value))
        except ValueError as exc:  # MappingError is one too, like a JSON syntax error
            raise serializers.ValidationError(str(exc)) from None


class ImportFieldSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="What a `mapping` value may name.")
    required = serializers.BooleanField(
        help_text="first_name and last_name: a file needs their columns, or `full_name`."
    )
    synonyms = serializers.ListField(
        child=serializers.CharField(),
        help_text="Header spellings recognised, compared without case, spaces or punctuation.",
    )


class ImportRowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(
        allow_null=True, help_text="Row as a spreadsheet shows it (header = 1); null: the file."
    )
    field = serializers.CharField()
    message = serializers.CharField()


class ImportDuplicateSerializer(ImportRowErrorSerializer):
    existing_lead_id = serializers.UUIDField(
        allow_null=True,
        help_text="The organization's lead with the same e-mail, if the caller can see it "
        "(null for a USER member when the lead is not theirs).",
    )


class ImportProgressSerializer(serializers.Serializer):
    rows_processed = serializers.IntegerField()
    total_rows = serializers.IntegerField(allow_null=True)
    percent = serializers.FloatField(allow_null=True)


class JobHealthField(serializers.ChoiceField):
    """The job's health as its answer reports it (leads.imports.selectors.import_job_health)."""

    def __init__(self, **kwargs):
        super().__init__(
            choices=["ok", "retrying", "stalled"], source="*", read_only=True, **kwargs
        )

    def to_representation(self, job):
        return import_job_health(job=job)


class ImportJobSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()
    unknown_columns = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Headers that fed no lead field (unknown, blank, or a second column for "
        "the same field).",
    )
    mapping = serializers.DictField(
        child=serializers.CharField(), read_only=True, help_text="The upload's `mapping`."
    )
    health = JobHealthField(
        help_text=(
            "`retrying`: the last attempt met a database error and is retried with backoff; "
            "`stalled`: its worker stopped (the job goes back to the queue at its checkpoint "
            "within seconds); `ok` otherwise."
        ),
    )
    errors = ImportRowErrorSerializer(many=True, read_only=True)
    errors_truncated = serializers.BooleanField(read_only=True)
    errors_note = serializers.SerializerMethodField()
    duplicates = ImportDuplicateSerializer(many=True, read_only=True)
    duplicates_truncated = serializers.BooleanField(read_only=True)
    errors_csv_url = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "status",
            "health",
            "dry_run",
            "file_name",
            "file_kind",
            "progress",
            "total_rows",
            "imported_count",
            "updated_count",
            "failed_count",
            "duplicate_count",
            "errors",
            "errors_truncated",
            "errors_note",
            "duplicates",
            "duplicates_truncated",
            "errors_csv_url",
            "unknown_columns",
            "mapping",
            "on_duplicate",
            "created_by",
            "created_on",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_progress(self, job) -> ImportProgressSerializer:
        total = job.total_rows
        percent = (
            round(100.0 * job.rows_done / total, 1) if total else (100.0 if total == 0 else None)
        )
        return {"rows_processed": job.rows_done, "total_rows": total, "percent": percent}

    def get_errors_note(self, job) -> str:
        return (
            f"At most {settings.IMPORT_ERRORS_IN_RESPONSE} errors and duplicates are listed "
            "here; errors_csv_url has every failed row with its reason."
        )

    def get_errors_csv_url(self, job) -> str:
        return reverse("lead-import-errors", kwargs={"job_id": job.pk})


def _job_payload(job: ImportJob, membership) -> dict:
    summary = import_job_error_summary(job=job, membership=membership)
    for name, value in summary.items():
        setattr(job, name, value)
    return ImportJobSerializer(job).data


class ImportUploadView(OrgScopedAPIView):
    """Upload a CSV or XLSX file of leads.

    The file is checked (size, type, zip bomb), stored and imported by a background
    worker. The answer is the import job: 202 while it is queued or running (poll
    `GET /api/leads/upload/<id>/`), 201 when it already finished (no broker configured).
    Duplicate e-mails (within the file, or a lead the organization already has) are
    skipped and counted in `duplicate_count`, or, with `on_duplicate=update`, a row whose
    e-mail matches an existing lead updates it (`updated_count`). `mapping` names the lead
    field of columns the header synonyms do not know. `dry_run=true` reports without
    writing. Always imported + updated + failed + duplicate = the file's data rows.
    """

    parser_classes = [MultiPartParser]
    extra_error_codes = ["413"]

    def created_location(self, data) -> str | None:
        return reverse("lead-import-detail", kwargs={"job_id": data["id"]})

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer},
        parameters=[
            OpenApiParameter("dry_run", OpenApiTypes.BOOL, OpenApiParameter.QUERY),
            OpenApiParameter(
                "mapping",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                description="As the form field.",
            ),
            OpenApiParameter(
                "on_duplicate",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                enum=list(OnDuplicate.values),
                description="As the form field.",
            ),
        ],
        responses={
            201: OpenApiResponse(ImportJobSerializer, description="Already finished."),
            202: OpenApiResponse(ImportJobSerializer, description="Queued or running."),
        },
        operation_id="leads_upload_create",
    )
    def post(self, request):
        length = request.META.get("CONTENT_LENGTH") or "0"
        if length.isdigit() and int(length) > settings.IMPORT_MAX_FILE_BYTES + _MULTIPART_OVERHEAD:
            raise PayloadTooLarge(
                f"The file is larger than {settings.IMPORT_MAX_FILE_BYTES} bytes; split it."
            )
        data = {"leads_file": request.data.get("leads_file")}
        for name in ("dry_run", "mapping", "on_duplicate"):
            # A form field, or else a query parameter.
            value = request.data.get(name, request.query_params.get(name))
            if value is not None:
                data[name] = value
        serializer = ImportUploadSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        job = import_job_create(
            org=self.organization,
            by=request.user,
            upload=serializer.validated_data["leads_file"],
            dry_run=serializer.validated_data["dry_run"],
            mapping=serializer.validated_data.get("mapping") or {},
            on_duplicate=serializer.validated_data["on_duplicate"],
        )
        job.refresh_from_db()
        code = status.HTTP_201_CREATED if job.is_finished else status.HTTP_202_ACCEPTED
        return Response(_job_payload(job, self.membership), status=code)


class ImportFieldsView(OrgScopedAPIView):
    """The lead fields an import can fill, with the header spellings each recognises: for a
    column-mapping screen. Send the choices as the upload's `mapping`."""

    @extend_schema(
        responses={200: ImportFieldSerializer(many=True)},
        operation_id="leads_upload_fields_list",
    )
    def get(self, request):
        return Response(ImportFieldSerializer(importable_fields(), many=True).data)


class ImportJobView(OrgScopedAPIView):
    """An import job: status, progress, counts, and the first errors and duplicates."""

    model = ImportJob  # the object this route reads (generic tenant tests use it)

    @extend_schema(responses={200: ImportJobSerializer}, operation_id="leads_upload_retrieve")
    def get(self, request, job_id):
        return Response(_job_payload(_get_job(self.membership, job_id), self.membership))


class _Echo:
    def write(self, value):
        return value


class ImportJobErrorsView(OrgScopedAPIView):
    """The failed rows as CSV: the original columns plus `import_error` (the reasons).
    Fix the rows and upload this file again; the extra column is ignored."""

    model = ImportJob

    @extend_schema(
        responses={(200, "text/csv"): OpenApiTypes.BINARY},
        parameters=[
            OpenApiParameter(
                "Content-Disposition",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                response=[200],
                description="`attachment` with the file name `import-<job id>-errors.csv`.",
            )
        ],
        operation_id="leads_upload_errors_retrieve",
    )
    def get(self, request, job_id):
        job = _get_job(self.membership, job_id)
        writer = csv.writer(_Echo())

        def lines():
            yield "\ufeff" + writer.writerow([safe_cell(h) for h in [*job.headers, "import_error"]])
            for values, reason in import_job_failed_rows(job=job):
                # The rows are the file's own cells, so a formula sent in is written back:
                # neutralised, or the spreadsheet that opens this file would run it.
                cells = [*values, *[""] * (len(job.headers) - len(values)), reason]
                yield writer.writerow([safe_cell(cell) for cell in cells])

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
        return response


def _get_job(membership, job_id) -> ImportJob:
    job = import_job_queryset(membership=membership).filter(pk=job_id).first()
    if job is None:
        raise Http404
    return job
