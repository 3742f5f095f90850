import { createHash, randomBytes } from 'node:crypto';

/**
 * Generation job ids: `<tenant tag>-<random>`, or `<tenant tag>-m-<digest>`
 * for a message id (stable, so re-sends are one job). The tag is a digest of
 * the tenant id, so whether a job belongs to a tenant is known from the id
 * alone — another tenant's job answers 404 without being read — and the
 * random part makes ids unguessable (no enumeration, no existence leak).
 */
const TAG_CHARS = 12;

export function tenantTag(tenantId: string): string {
  return createHash('sha256').update(`quotaflow-tenant\u0000${tenantId}`).digest('hex').slice(0, TAG_CHARS);
}

/** A fresh, unguessable job id for the tenant. */
export function newJobId(tenantId: string): string {
  return `${tenantTag(tenantId)}-${randomBytes(16).toString('base64url')}`;
}

/** Job id for a (tenant, message): stable, so re-sends are deduplicated. */
export function messageJobId(tenantId: string, messageId: string): string {
  return `${tenantTag(tenantId)}-m-${createHash('sha256').update(`${tenantId}\u0000${messageId}`).digest('hex').slice(0, 40)}`;
}

/** Whether a job id was issued for this tenant (no Redis read). */
export function ownsJob(tenantId: string, jobId: string): boolean {
  return jobId.length > TAG_CHARS && jobId.startsWith(`${tenantTag(tenantId)}-`);
}
