import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ID_PATTERN } from '../../core/fleet-file.js';
import { ValidationError } from '../../errors.js';
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
  app.get('/admin/api/keys', async () => ({ keys: await sys.admin.keys() }));

  app.post('/admin/api/keys', async (req, reply) => {
    const k = parse(newKey, req.body, 'key');
    const key = await sys.admin.addKey({ id: k.id, tenantId: k.tenant, secret: k.secret, priority: k.priority, ...(k.project ? { projectId: k.project } : {}) });
    return reply.code(201).send({ key });
  });

  app.post<{ Params: { id: string } }>('/admin/api/keys/:id/disable', async (req) => {
    const body = parse(disableBody, req.body, 'disable request');
    return { key: await sys.admin.disableKey(req.params.id, body.reason ?? 'disabled by an operator') };
  });

  app.post<{ Params: { id: string } }>('/admin/api/keys/:id/enable', async (req) => {
    return sys.admin.enableKey(req.params.id);
  });
}
