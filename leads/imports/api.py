"""HTTP interface of bulk lead import: upload a file, follow its job, download failed rows."""

import csv

from django.conf import settings
from django.http import Http404, StreamingHttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from common.api.errors import PayloadTooLarge
from common.api.viewsets import OrgScopedAPIView
from leads.imports.models import ImportJob
from leads.imports.selectors import (
    import_job_error_summary,
    import_job_failed_rows,
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


class ImportRowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(
        allow_null=True, help_text="Row as a spreadsheet shows it (header = 1); null: the file."
    )
    field = serializers.CharField()
    message = serializers.CharField()


class ImportDuplicateSerializer(ImportRowErrorSerializer):
    existing_lead_id = serializers.UUIDField(
        allow_null=True, help_text="The organization's lead with the same e-mail, if any."
    )


class ImportProgressSerializer(serializers.Serializer):
    rows_processed = serializers.IntegerField()
    total_rows = serializers.IntegerField(allow_null=True)
    percent = serializers.FloatField(allow_null=True)


class ImportJobSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()
    health = serializers.ChoiceField(
        choices=["ok", "retrying", "stalled"],
        read_only=True,
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
            "failed_count",
            "duplicate_count",
            "errors",
            "errors_truncated",
            "errors_note",
            "duplicates",
            "duplicates_truncated",
            "errors_csv_url",
            "unknown_columns",
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


def _job_payload(job: ImportJob) -> dict:
    summary = import_job_error_summary(job=job)
    for name, value in summary.items():
        setattr(job, name, value)
    return ImportJobSerializer(job).data


class ImportUploadView(OrgScopedAPIView):
    """Upload a CSV or XLSX file of leads.

    The file is checked (size, type, zip bomb), stored and imported by a background
    worker. The answer is the import job: 202 while it is queued or running (poll
    `GET /api/leads/upload/<id>/`), 201 when it already finished (no broker configured).
    Duplicate e-mails (within the file, or a lead the organization already has) are
    skipped and counted in `duplicate_count`. `dry_run=true` reports without writing.
    """

    parser_classes = [MultiPartParser, FormParser]
    extra_error_codes = ["413"]

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer},
        parameters=[OpenApiParameter("dry_run", OpenApiTypes.BOOL, OpenApiParameter.QUERY)],
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
        dry_run = request.data.get("dry_run", request.query_params.get("dry_run"))
        if dry_run is not None:
            data["dry_run"] = dry_run
        serializer = ImportUploadSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        job = import_job_create(
            org=self.organization,
            by=request.user,
            upload=serializer.validated_data["leads_file"],
            dry_run=serializer.validated_data["dry_run"],
        )
        job.refresh_from_db()
        code = status.HTTP_201_CREATED if job.is_finished else status.HTTP_202_ACCEPTED
        return Response(_job_payload(job), status=code)


class ImportJobView(OrgScopedAPIView):
    """An import job: status, progress, counts, and the first errors and duplicates."""

    model = ImportJob  # the object this route reads (generic tenant tests use it)

    @extend_schema(responses={200: ImportJobSerializer}, operation_id="leads_upload_retrieve")
    def get(self, request, job_id):
        return Response(_job_payload(_get_job(self.membership, job_id)))


class _Echo:
    def write(self, value):
        return value


class ImportJobErrorsView(OrgScopedAPIView):
    """The failed rows as CSV: the original columns plus `import_error` (the reasons).
    Fix the rows and upload this file again; the extra column is ignored."""

    model = ImportJob

    @extend_schema(
        responses={(200, "text/csv"): OpenApiTypes.BINARY},
        operation_id="leads_upload_errors_retrieve",
    )
    def get(self, request, job_id):
        job = _get_job(self.membership, job_id)
        writer = csv.writer(_Echo())

        def lines():
            yield "\ufeff" + writer.writerow([*job.headers, "import_error"])
            for values, reason in import_job_failed_rows(job=job):
                yield writer.writerow([*values, *[""] * (len(job.headers) - len(values)), reason])

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
        return response


def _get_job(membership, job_id) -> ImportJob:
    job = import_job_queryset(membership=membership).filter(pk=job_id).first()
    if job is None:
        raise Http404
    return job
