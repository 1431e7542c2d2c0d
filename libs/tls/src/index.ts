export {
  CertificateUsage,
  certificateExpiry,
  createCertificateAuthority,
  issueCertificate,
  needsRenewal,
} from "./certificates.js";
export type { CertificateAuthorityOptions, CertificateOptions, KeyPair } from "./certificates.js";
