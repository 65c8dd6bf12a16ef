/** One entry of `GET /v1/certificates` as the ACME tests read it. */
export interface CertificateItem {
  host: string;
  source: string;
  status: string;
  notAfter?: string;
  lastError?: string;
  failures: number;
  retryAt?: string;
}
