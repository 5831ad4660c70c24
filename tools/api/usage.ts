// Typed usage of the TypeScript types generated from the live schema (openapi-typescript).
// Compiled with `tsc --strict --noEmit`: if the schema stops describing these shapes, the
// build fails.
import type { components, operations, paths } from "./build/schema";

type Lead = components["schemas"]["Lead"];
type LeadCreate = components["schemas"]["LeadCreateRequest"];
type ErrorBody = components["schemas"]["Error"];
type ImportJob = components["schemas"]["ImportJob"];

const create: LeadCreate = {
  first_name: "Ada",
  last_name: "Lovelace",
  email: "ada@analytical.example",
  tags: ["vip"],
};

function describe(lead: Lead): string {
  const account = lead.converted_account;
  return account === null ? `${lead.first_name} (open)` : `${lead.first_name} -> ${account.name}`;
}

function handle(error: ErrorBody): string {
  switch (error.code) {
    case "validation_error":
      return Object.keys(error.fields).join(", ");
    case "organization_forbidden":
    case "not_found":
      return error.detail;
    default:
      return error.code;
  }
}

function counted(job: ImportJob): number {
  return job.imported_count + job.updated_count + job.failed_count + job.duplicate_count;
}

type ListQuery = NonNullable<paths["/api/leads/"]["get"]["parameters"]["query"]>;
const query: ListQuery = { status: "in process", tags: "vip", limit: 10 };

type CreateFromSite = operations["leads_create_from_site"]["requestBody"];
const formPost: NonNullable<CreateFromSite>["content"]["application/x-www-form-urlencoded"] = {
  first_name: "Katherine",
  last_name: "Johnson",
};

export { create, describe, handle, counted, query, formPost };
