import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { addKey, findKey, listKeys } from '../../adapters/postgres/admin-repo.js';
import { disableKey, enableKey } from '../../adapters/postgres/fleet-repo.js';
import { ID_PATTERN } from '../../core/fleet-file.js';
import { NotFoundError, QuotaflowError, ValidationError } from '../../errors.js';
import type { System } from '../../system.js';

const id = z.string().regex(ID_PATTERN, 'ids are 1-128 characters: letters, digits and _ . : @ - (not first)');
const newKey = z.strictObject({
  id,
  tenant: id.nullable().default(null),
  project: id.optional(),
  secret: z.string().min(1, 'secret must not be empty'),
  priority: z.number().int().min(0).max(1000).default(1),
});
const disableBody = z.strictObject({ reason: z.string().min(1).max(200).optional() }).default({});

function parse<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const r = schema.safeParse(body ?? undefined);
  if (!r.success) throw new ValidationError(`invalid ${what}`, r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  return r.data;
}

/**
 * Keys: list (fingerprints, never secrets), add (the secret is write-only),
 * disable and enable. Every change is announced so workers reload.
 */
export function adminKeyRoutes(app: FastifyInstance, sys: System): void {
  app.get('/admin/api/keys', async () => ({ keys: await listKeys(sys.db) }));

  app.post('/admin/api/keys', async (req, reply) => {
    const k = parse(newKey, req.body, 'key');
    if (!sys.config.secretKey) throw new QuotaflowError('config_invalid', 'QUOTAFLOW_SECRET is not set: keys cannot be stored');
    const key = await addKey(sys.db, sys.config.secretKey, { id: k.id, tenantId: k.tenant, secret: k.secret, priority: k.priority, ...(k.project ? { projectId: k.project } : {}) });
    await sys.announce();
    req.log.info({ keyId: key.id, fingerprint: key.fingerprint }, 'key added through the admin API');
    return reply.code(201).send({ key });
  });

  app.post<{ Params: { id: string } }>('/admin/api/keys/:id/disable', async (req) => {
    const body = parse(disableBody, req.body, 'disable request');
    if (!(await findKey(sys.db, req.params.id))) throw new NotFoundError(`unknown key "${req.params.id}"`);
    await disableKey(sys.db, req.params.id, body.reason ?? 'disabled by an operator', 'admin');
    await sys.announce();
    return { key: await findKey(sys.db, req.params.id) };
  });

  app.post<{ Params: { id: string } }>('/admin/api/keys/:id/enable', async (req) => {
    const changed = await enableKey(sys.db, req.params.id);
    await sys.announce();
    return { changed, key: await findKey(sys.db, req.params.id) };
  });
}
