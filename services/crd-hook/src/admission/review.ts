/** AdmissionReview v1 as the apiserver sends it (the fields we read). */
export interface AdmissionRequest {
  uid: string;
  kind: { group: string; version: string; kind: string };
  resource: { group: string; version: string; resource: string };
  subResource?: string;
  name?: string;
  namespace?: string;
  operation: "CREATE" | "UPDATE" | "DELETE" | "CONNECT";
  userInfo: { username?: string; uid?: string; groups?: string[] };
  object?: Record<string, unknown> | null;
  oldObject?: Record<string, unknown> | null;
  dryRun?: boolean;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; message: string; reason?: string };
  warnings?: string[];
  patchType?: "JSONPatch";
  patch?: string;
}

export interface AdmissionReview {
  apiVersion: "admission.k8s.io/v1";
  kind: "AdmissionReview";
  request?: AdmissionRequest;
  response?: AdmissionResponse;
}

import { describeProblems, type FieldError, type ValidationResult } from "@kubeplus/admission";

export type { FieldError, ValidationResult };

export const valid = (): ValidationResult => ({ errors: [], warnings: [] });

/** Maps validation results to a response: every problem at once, in one message, code 422 when denied. */
export function toResponse(
  uid: string,
  result: ValidationResult,
  subject: string,
): AdmissionResponse {
  const warnings = result.warnings.length > 0 ? { warnings: result.warnings.slice(0, 20) } : {};
  if (result.errors.length === 0) return { uid, allowed: true, ...warnings };

  return {
    uid,
    allowed: false,
    status: {
      code: 422,
      reason: "Invalid",
      message: describeProblems(subject, result.errors),
    },
    ...warnings,
  };
}
