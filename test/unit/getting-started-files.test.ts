import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { checkFleet } from '../../src/core/fleet-file.js';
import { parseFaultConfig } from '../../src/simulator/faults-schema.js';

/** The starter files a new user copies: they must stay complete and consistent with the code. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (p: string): string => readFileSync(join(ROOT, p), 'utf8');

/** KEY=value lines of .env.example, with whether a comment line precedes each. */
function envExample(): Map<string, { value: string; explained: boolean }> {
  const out = new Map<string, { value: string; explained: boolean }>();
  let comment = false;
  for (const line of read('.env.example').split('\n')) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m?.[1] !== undefined) out.set(m[1], { value: m[2] ?? '', explained: comment });
    comment = line.startsWith('#');
  }
  return out;
}

/** The variables src/config.ts reads: the keys of its zod schema. */
function configVariables(): string[] {
  const src = read('src/config.ts');
  const body = src.slice(src.indexOf('const schema = z.object({'), src.indexOf('});', src.indexOf('const schema = z.object({')));
  return [...body.matchAll(/^\s+([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1] ?? '');
}

describe('.env.example', () => {
  it('names every variable of src/config.ts with a one-line meaning, secrets empty', () => {
    const env = envExample();
    const vars = configVariables();
    expect(vars.length).toBeGreaterThanOrEqual(20);
    for (const v of vars) {
      expect(env.has(v), `${v} missing from .env.example`).toBe(true);
      expect(env.get(v)?.explained, `${v} has no comment line`).toBe(true);
    }
    for (const secret of ['QUOTAFLOW_SECRET', 'QUOTAFLOW_ADMIN_TOKEN', 'QUOTAFLOW_METRICS_TOKEN', 'QUOTAFLOW_ALERT_WEBHOOK_SECRET', 'ACME_TOKEN', 'CENTRAL_KEY_1']) {
      expect(env.get(secret)?.value, secret).toBe('');
    }
  });
});

describe('examples/', () => {
  it('fleet.json is valid, warns of nothing, and every variable it reads is in .env.example', () => {
    const doc: unknown = JSON.parse(read('examples/fleet.json'));
    const { spec, warnings } = checkFleet(doc);
    expect(warnings).toEqual([]);
    expect(spec.tenants).toHaveLength(2);
    expect(spec.projects).toHaveLength(3);
    expect(spec.keys.some((k) => k.tenant === null)).toBe(true);
    const env = envExample();
    const refs = [...spec.keys.map((k) => k.secret), ...spec.tenants.flatMap((t) => (t.token ? [t.token] : []))];
    for (const r of refs) {
      expect('env' in r, 'secrets come from the environment').toBe(true);
      if ('env' in r) expect(env.has(r.env), r.env).toBe(true);
    }
  });

  it('standin.json is an overlay of the stand-in config: latency, faults, seed', () => {
    const overlay = z
      .strictObject({ latencyMs: z.strictObject({ min: z.number().int(), max: z.number().int() }).optional(), faults: z.unknown().optional(), seed: z.number().int().optional() })
      .parse(JSON.parse(read('examples/standin.json')));
    expect(parseFaultConfig(overlay.faults).rules.length).toBeGreaterThan(0);
  });
});

describe('docker-compose.yml', () => {
  const service = z.looseObject({
    restart: z.string().optional(),
    command: z.array(z.string()).optional(),
    profiles: z.array(z.string()).optional(),
    healthcheck: z.union([z.looseObject({ test: z.array(z.string()).min(2) }), z.strictObject({ disable: z.literal(true) })]).optional(),
    depends_on: z.record(z.string(), z.strictObject({ condition: z.string() })).optional(),
    environment: z.record(z.string(), z.string()).optional(),
    ports: z.array(z.string()).optional(),
  });
  const compose = z.looseObject({ services: z.record(z.string(), service) });

  /** js-yaml's command line (installed with the lint tooling) turns the YAML into JSON. */
  function load(): z.infer<typeof compose> {
    const bin = join(ROOT, 'node_modules/js-yaml/bin/js-yaml.js');
    expect(existsSync(bin), 'js-yaml (a dependency of eslint) is needed to read YAML').toBe(true);
    const r = spawnSync(process.execPath, [bin, join(ROOT, 'docker-compose.yml')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    return compose.parse(JSON.parse(r.stdout));
  }

  it('parses, and every service has a health check and restarts unless stopped (the one-shot migration excepted)', () => {
    const { services } = load();
    expect(Object.keys(services).sort()).toEqual(['api', 'migrate', 'postgres', 'redis', 'standin', 'worker']);
    for (const [name, s] of Object.entries(services)) {
      expect(s.healthcheck, name).toBeDefined();
      expect(s.restart, name).toBe(name === 'migrate' ? 'no' : 'unless-stopped');
    }
  });

  it('starts the api and the workers after a successful migration, the api listening for the published port', () => {
    const { services } = load();
    for (const name of ['api', 'worker']) expect(services[name]?.depends_on?.migrate).toEqual({ condition: 'service_completed_successfully' });
    expect(services.migrate?.command).toEqual(['migrate']);
    expect(services.api?.environment?.QUOTAFLOW_API_HOST).toBe('0.0.0.0');
    expect(services.api?.ports).toEqual(['127.0.0.1:8080:8080']);
  });

  it('offers the stand-in as an optional profile, built from the fleet file', () => {
    const s = load().services.standin;
    expect(s?.profiles).toEqual(['standin']);
    expect(s?.command?.slice(0, 3)).toEqual(['simulate', '--fleet', '/fleet/fleet.json']);
  });
});

describe('Dockerfile', () => {
  const text = read('Dockerfile');
  it('installs dependencies before copying the sources (a cached layer), runs as a non-root user, has a HEALTHCHECK', () => {
    const ci = text.indexOf('RUN npm ci');
    expect(text.indexOf('COPY package.json package-lock.json')).toBeLessThan(ci);
    expect(ci).toBeLessThan(text.indexOf('COPY src src'));
    expect(text).toMatch(/^USER node$/m);
    expect(text).toMatch(/^HEALTHCHECK .*\/healthz/m);
  });
});
