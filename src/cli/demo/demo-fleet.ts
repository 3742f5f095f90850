import type { SimulatorConfig } from '../../simulator/index.js';

/**
 * The demo's fleet file, made from the stand-in's config so the limits
 * quotaflow believes are the ones the stand-in enforces: three tenants (two
 * with their own keys, one central-only), central keys in two projects.
 */
export function demoFleet(sim: SimulatorConfig): unknown {
  const models = Object.keys(sim.models);
  const owner = (label: string): string | null => (label.startsWith('central') ? null : label.split('-')[0] ?? null);
  return {
    models,
    projects: sim.projects.map((p) => ({
      id: p.id,
      tier: p.tier,
      limits: Object.fromEntries(models.map((m) => [m, { ...sim.models[m], ...p.limits?.[m] }])),
    })),
    tenants: [
      { id: 'acme', keyMode: 'own-then-central' },
      { id: 'globex', keyMode: 'own-then-central' },
      { id: 'initech', keyMode: 'central-only' },
    ],
    keys: sim.projects.flatMap((p) =>
      p.keys.map((k) => ({
        id: k.label,
        tenant: owner(k.label ?? ''),
        project: p.id,
        secret: k.secret,
        priority: 1,
      })),
    ),
  };
}

const TOPICS = ['my order', 'the invoice', 'a refund', 'shipping times', 'my password', 'the warranty', 'opening hours', 'a discount code'];
const ASKS = ['Can you help me with', 'I have a question about', 'What is the status of', 'Please explain', 'How do I change'];

/** A plausible chatbot message, deterministic for a given index. */
export function demoMessage(i: number): string {
  return `${ASKS[i % ASKS.length] ?? ''} ${TOPICS[(i * 7) % TOPICS.length] ?? ''}? (conversation ${1000 + i})`;
}
