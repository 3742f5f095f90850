import { isIP } from 'node:net';
import { z } from 'zod';
import { createKeyring, type Keyring } from './adapters/crypto/keyring.js';
import { ConfigError } from './errors.js';

/**
 * The only reader of process.env. Everything else receives a frozen Config
 * (or a lookup function) explicitly.
 */
const hex64 = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex characters (32 bytes), e.g. `openssl rand -hex 32`');

/** Comma-separated 64-hex keys; a bad entry is named by its position, never echoed. */
const hex64List = z.string().transform((raw, ctx): Buffer[] => {
  const entries = raw.split(',').map((p) => p.trim()).filter((p) => p !== '');
  entries.forEach((entry, i) => {
    if (!/^[0-9a-fA-F]{64}$/.test(entry)) ctx.addIssue({ code: 'custom', message: `entry ${i + 1} must be 64 hex characters (32 bytes), like QUOTAFLOW_SECRET` });
  });
  return entries.map((entry) => Buffer.from(entry, 'hex'));
});

const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

const flag = z.enum(['true', 'false', '1', '0'], 'must be true or false').transform((v) => v === 'true' || v === '1');

const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$/;

/** `host:port,host:port` (an IPv6 host in brackets), every bad entry named. */
const hostPortList = z.string().transform((raw, ctx): RedisNode[] => {
  const nodes: RedisNode[] = [];
  for (const entry of raw.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const m = HOST_PORT.exec(entry);
    const port = Number(m?.[2]);
    if (m?.[1] === undefined || port < 1 || port > 65_535) ctx.addIssue({ code: 'custom', message: `"${entry}" is not host:port (e.g. 10.0.0.5:6379)` });
    else nodes.push(Object.freeze({ host: m[1].replace(/^\[|\]$/g, ''), port }));
  }
  if (nodes.length === 0 && !raw.split(',').some((p) => p.trim() !== '')) ctx.addIssue({ code: 'custom', message: 'lists no host:port' });
  return nodes;
});

// proxies whose x-forwarded-* headers are believed: addresses, CIDR ranges or proxy-addr's names
const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);
const proxyEntry = (entry: string): boolean => {
  if (PROXY_NAMES.has(entry)) return true;
  const [addr = '', bits, ...rest] = entry.split('/');
  const family = isIP(addr);
  if (family === 0 || rest.length > 0) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
};
const trustedProxies = z
  .string()
  .transform((v) => v.split(',').map((e) => e.trim()).filter((e) => e !== ''))
  .refine((list) => list.length > 0 && list.every(proxyEntry), 'a comma-separated list of proxy addresses or CIDR ranges (or loopback, linklocal, uniquelocal)');

const schema = z.object({
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  REDIS_CLUSTER_NODES: hostPortList.optional(),
  REDIS_SENTINELS: hostPortList.optional(),
  REDIS_SENTINEL_NAME: z.string().min(1).optional(),
  REDIS_TLS: flag.optional(),
  REDIS_TLS_CA_FILE: z.string().min(1).optional(),
  REDIS_TLS_INSECURE: flag.optional(),
  REDIS_USERNAME: z.string().min(1).optional(),
  REDIS_PASSWORD: z.string().min(1).optional(),
  DATABASE_URL: z.string().min(1).optional(),
  GEMINI_BASE_URL: z.string().url().default('https://generativelanguage.googleapis.com'),
  QUOTAFLOW_SECRET: hex64.optional(),
  QUOTAFLOW_SECRET_PREVIOUS: hex64List.optional(),
  QUOTAFLOW_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - only (1-64 characters)')
    .default('quotaflow'),
  QUOTAFLOW_DATA_DIR: z.string().min(1).default('.quotaflow'),
  QUOTAFLOW_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  QUOTAFLOW_ADMIN_SESSION_TTL_MS: z.coerce.number().int().min(1000).default(12 * 3_600_000),
  QUOTAFLOW_BULL_BOARD_ACTIONS: flag.default(false),
  QUOTAFLOW_TRUST_PROXY: trustedProxies.optional(),
  QUOTAFLOW_AUTH_FAILURE_LIMIT: z.coerce.number().int().min(1).default(10),
  QUOTAFLOW_AUTH_FAILURE_WINDOW_MS: z.coerce.number().int().min(1000).default(60_000),
  QUOTAFLOW_ADMIN_AUTH_FAILURE_LIMIT_ALL: z.coerce.number().int().min(1).default(50),
  QUOTAFLOW_ALERT_WEBHOOK_URL: z.string().url().optional(),
  QUOTAFLOW_ALERT_WEBHOOK_SECRET: z.string().min(1).optional(),
  QUOTAFLOW_DAY_LENGTH_MS: z.coerce.number().int().min(1000).optional(),
  QUOTAFLOW_BREAKER_THRESHOLD: z.coerce.number().int().min(1).default(3),
  QUOTAFLOW_BREAKER_OPEN_MS: z.coerce.number().int().min(100).default(300_000),
  QUOTAFLOW_API_PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  QUOTAFLOW_HEALTH_CHECK_MS: z.coerce.number().int().min(1000).default(300_000),
  QUOTAFLOW_USAGE_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(14),
  GEMINI_TIMEOUT_MS: z.coerce.number().int().positive().default(60_000),
  LOG_LEVEL: logLevel.default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  QUOTAFLOW_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  QUOTAFLOW_API_HOST: z.string().min(1).default('127.0.0.1'),
  // producer-side caps per tenant (a fleet's tenants[].limits.queuedJobs / queuedBytes override them)
  QUOTAFLOW_TENANT_MAX_JOBS: z.coerce.number().int().min(1).default(10_000),
  QUOTAFLOW_TENANT_MAX_BYTES: z.coerce.number().int().min(1024).default(64 * 1024 * 1024),
  // size caps of one request, in bytes after parsing
  QUOTAFLOW_MAX_REQUEST_BYTES: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(8 * 1024 * 1024),
  QUOTAFLOW_MAX_INLINE_BYTES: z.coerce.number().int().min(0).max(64 * 1024 * 1024).default(4 * 1024 * 1024),
  QUOTAFLOW_CATALOG: z.string().min(1).optional(),
  // how long a discovered or learned limit goes without a 429 before discovery probes above it again
  QUOTAFLOW_DISCOVERY_QUIET_MS: z.coerce.number().int().min(1000).default(24 * 3_600_000),
  // the sliding window of RPM/TPM: Gemini's minute; shorter only to simulate time in tests and benchmarks
  QUOTAFLOW_WINDOW_MS: z.coerce.number().int().min(1000).max(3_600_000).default(60_000),
});

export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

/**
 * How every process reaches Redis: one server, a Redis Cluster or a Sentinel
 * group, plus TLS and credentials. `auth.password` is not enumerable, so
 * logging or serializing the settings never prints it.
 */
export type RedisSettings = Readonly<
  (
    | { mode: 'single'; url: string }
    | { mode: 'cluster'; nodes: readonly RedisNode[] }
    | { mode: 'sentinel'; sentinels: readonly RedisNode[]; name: string }
  ) & {
    /** undefined => plain TCP; caFile is read by the adapter when it connects */
    tls: Readonly<{ caFile: string | undefined; insecure: boolean }> | undefined;
    /** REDIS_USERNAME / REDIS_PASSWORD (a single server may carry them in its URL instead) */
    auth: Readonly<{ username: string | undefined; password: string | undefined }> | undefined;
    /** where Redis is, without credentials: for logs and error messages */
    display: string;
  }
>;

export type Config = Readonly<{
  /** the single server's URL; in cluster and sentinel modes redis.display (not connectable) */
  redisUrl: string;
  redis: RedisSettings;
  /** undefined => embedded PGlite under dataDir (single process only). */
  databaseUrl: string | undefined;
  geminiBaseUrl: string;
  /** 32-byte AES-256-GCM key for stored API keys, or undefined when not configured: the current key, which encrypts. */
  secretKey: Buffer | undefined;
  /** secretKey plus QUOTAFLOW_SECRET_PREVIOUS (decrypt only, during a rotation); undefined when QUOTAFLOW_SECRET is not set */
  keyring: Keyring | undefined;
  prefix: string;
  dataDir: string;
  adminToken: string | undefined;
  /** how long an admin browser session lives (server-side; the cookie only names it) */
  adminSessionTtlMs: number;
  /** whether Bull Board may change jobs and queues (retry, promote, clean, edit data); off: read-only */
  bullBoardActions: boolean;
  /** proxies whose x-forwarded-for/-proto are believed, as Fastify's `trustProxy` takes them; false: none, the socket decides */
  trustProxy: string | false;
  /** failed authentication attempts a client address may make per window (producer and admin), and the admin surface's for all addresses together */
  authThrottle: Readonly<{ limit: number; windowMs: number; adminLimitAll: number }>;
  alertWebhookUrl: string | undefined;
  alertWebhookSecret: string | undefined;
  geminiTimeoutMs: number;
  /** consecutive 5xx that open a model's breaker, and how long it stays open */
  breaker: Readonly<{ threshold: number; openMs: number }>;
  apiPort: number;
  /** how often keys are health-checked (models.get, no generation quota) */
  healthCheckMs: number;
  usageRetentionDays: number;
  /** a simulated day of this length instead of the Pacific day (tests, benchmarks) */
  dayLengthMs: number | undefined;
  logLevel: z.infer<typeof logLevel>;
  /** undefined => pretty on a terminal and for one-off commands, JSON otherwise */
  logFormat: 'json' | 'pretty' | undefined;
  /** when set, /metrics requires `Authorization: Bearer <token>` */
  metricsToken: string | undefined;
  /** address `quotaflow api` listens on; loopback unless widened */
  apiHost: string;
  /** caps on a tenant's queued jobs and bytes, unless the fleet sets the tenant's own */
  producerCaps: Readonly<{ maxQueuedJobs: number; maxQueuedBytes: number }>;
  /** caps on one request: its size and its inline data, in bytes */
  requestCaps: Readonly<{ maxRequestBytes: number; maxInlineBytes: number }>;
  /** a catalog override file (QUOTAFLOW_CATALOG): docs/catalog.md */
  catalogFile: string | undefined;
  /** a limit discovery settled on is probed upward again after this long without a 429 */
  discoveryQuietMs: number;
  /** the RPM/TPM sliding window (60 s; shorter only for tests and benchmarks) */
  windowMs: number;
}>;

export { ConfigError };

export function parseConfig(env: Record<string, string | undefined>): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  const crossProblems = [...redisModeProblems(cleaned), ...keyringProblems(cleaned)];
  if (!parsed.success || crossProblems.length) {
    const issues = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    const lines = [...issues, ...crossProblems].map((l) => `  ${l}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const redis = redisSettings(e);
  const secretKey = e.QUOTAFLOW_SECRET ? Buffer.from(e.QUOTAFLOW_SECRET, 'hex') : undefined;
  return Object.freeze({
    redisUrl: redis.mode === 'single' ? redis.url : redis.display,
    redis,
    databaseUrl: e.DATABASE_URL,
    geminiBaseUrl: e.GEMINI_BASE_URL,
    secretKey,
    keyring: secretKey ? createKeyring(secretKey, e.QUOTAFLOW_SECRET_PREVIOUS ?? []) : undefined,
    prefix: e.QUOTAFLOW_PREFIX,
    dataDir: e.QUOTAFLOW_DATA_DIR,
    adminToken: e.QUOTAFLOW_ADMIN_TOKEN,
    adminSessionTtlMs: e.QUOTAFLOW_ADMIN_SESSION_TTL_MS,
    bullBoardActions: e.QUOTAFLOW_BULL_BOARD_ACTIONS,
    trustProxy: e.QUOTAFLOW_TRUST_PROXY ? e.QUOTAFLOW_TRUST_PROXY.join(',') : false,
    authThrottle: Object.freeze({ limit: e.QUOTAFLOW_AUTH_FAILURE_LIMIT, windowMs: e.QUOTAFLOW_AUTH_FAILURE_WINDOW_MS, adminLimitAll: e.QUOTAFLOW_ADMIN_AUTH_FAILURE_LIMIT_ALL }),
    alertWebhookUrl: e.QUOTAFLOW_ALERT_WEBHOOK_URL,
    alertWebhookSecret: e.QUOTAFLOW_ALERT_WEBHOOK_SECRET,
    geminiTimeoutMs: e.GEMINI_TIMEOUT_MS,
    dayLengthMs: e.QUOTAFLOW_DAY_LENGTH_MS,
    apiPort: e.QUOTAFLOW_API_PORT,
    healthCheckMs: e.QUOTAFLOW_HEALTH_CHECK_MS,
    usageRetentionDays: e.QUOTAFLOW_USAGE_RETENTION_DAYS,
    breaker: Object.freeze({ threshold: e.QUOTAFLOW_BREAKER_THRESHOLD, openMs: e.QUOTAFLOW_BREAKER_OPEN_MS }),
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    metricsToken: e.QUOTAFLOW_METRICS_TOKEN,
    apiHost: e.QUOTAFLOW_API_HOST,
    producerCaps: Object.freeze({ maxQueuedJobs: e.QUOTAFLOW_TENANT_MAX_JOBS, maxQueuedBytes: e.QUOTAFLOW_TENANT_MAX_BYTES }),
    requestCaps: Object.freeze({ maxRequestBytes: e.QUOTAFLOW_MAX_REQUEST_BYTES, maxInlineBytes: e.QUOTAFLOW_MAX_INLINE_BYTES }),
    catalogFile: e.QUOTAFLOW_CATALOG?.trim() || undefined,
    discoveryQuietMs: e.QUOTAFLOW_DISCOVERY_QUIET_MS,
    windowMs: e.QUOTAFLOW_WINDOW_MS,
  });
}

export function loadConfig(overrides: Record<string, string | undefined> = {}): Config {
  return parseConfig({ ...process.env, ...overrides });
}

/** Looks up `secretEnv` references of a fleet file (the process environment). */
export function environmentLookup(name: string): string | undefined {
  return process.env[name];
}

/** The current process environment, for spawning child processes with additions. */
export function processEnvironment(): Record<string, string | undefined> {
  return { ...process.env };
}

const SINGLE = 'REDIS_URL (one server)';
const CLUSTER = 'REDIS_CLUSTER_NODES (a Redis Cluster)';
const SENTINEL = 'REDIS_SENTINELS/REDIS_SENTINEL_NAME (a Sentinel group)';

/** Contradictions between Redis variables, each naming the variables involved. */
function redisModeProblems(env: Record<string, string | undefined>): string[] {
  const has = (name: string): boolean => env[name] !== undefined;
  const modes = [has('REDIS_URL') && SINGLE, has('REDIS_CLUSTER_NODES') && CLUSTER, (has('REDIS_SENTINELS') || has('REDIS_SENTINEL_NAME')) && SENTINEL].filter((m) => m !== false);
  const problems: string[] = [];
  if (modes.length > 1) problems.push(`${modes.join(' and ')}: only one connection mode may be set; remove the others`);
  if (has('REDIS_SENTINELS') !== has('REDIS_SENTINEL_NAME')) {
    problems.push(has('REDIS_SENTINELS') ? 'REDIS_SENTINEL_NAME: required with REDIS_SENTINELS (the master group name the sentinels monitor, e.g. mymaster)' : 'REDIS_SENTINELS: required with REDIS_SENTINEL_NAME (comma-separated host:port of the sentinels)');
  }
  const url = env.REDIS_URL ?? '';
  const tlsOff = env.REDIS_TLS === 'false' || env.REDIS_TLS === '0';
  if (url.startsWith('rediss://') && tlsOff) problems.push('REDIS_TLS: false contradicts the rediss:// scheme of REDIS_URL');
  const tlsOn = url.startsWith('rediss://') || env.REDIS_TLS === 'true' || env.REDIS_TLS === '1';
  for (const name of ['REDIS_TLS_CA_FILE', 'REDIS_TLS_INSECURE']) {
    if (has(name) && !tlsOn) problems.push(`${name}: applies only with TLS (set REDIS_TLS=true, or use a rediss:// REDIS_URL)`);
  }
  if (URL.canParse(url)) {
    const u = new URL(url);
    for (const [name, inUrl] of [['REDIS_USERNAME', u.username], ['REDIS_PASSWORD', u.password]] as const) {
      if (has(name) && inUrl !== '') problems.push(`${name}: REDIS_URL already carries one; set credentials in one place`);
    }
  }
  return problems;
}

/** QUOTAFLOW_SECRET_PREVIOUS without a current key, or naming it: positions only, never a key. */
function keyringProblems(env: Record<string, string | undefined>): string[] {
  const previous = env.QUOTAFLOW_SECRET_PREVIOUS;
  if (previous === undefined) return [];
  const current = env.QUOTAFLOW_SECRET;
  if (current === undefined) return ['QUOTAFLOW_SECRET_PREVIOUS: needs QUOTAFLOW_SECRET (the current key, which encrypts; the previous keys only decrypt)'];
  const entries = previous.split(',').map((p) => p.trim().toLowerCase()).filter((p) => p !== '');
  const problems: string[] = [];
  entries.forEach((entry, i) => {
    if (entry === current.toLowerCase()) problems.push(`QUOTAFLOW_SECRET_PREVIOUS: entry ${i + 1} is QUOTAFLOW_SECRET itself; list only the keys being retired`);
    else if (entries.indexOf(entry) < i) problems.push(`QUOTAFLOW_SECRET_PREVIOUS: entry ${i + 1} repeats entry ${entries.indexOf(entry) + 1}`);
  });
  return problems;
}

const hostPort = (n: RedisNode): string => `${n.host.includes(':') ? `[${n.host}]` : n.host}:${n.port}`;

/** The Redis settings of consistent variables (redisModeProblems found none). */
function redisSettings(e: z.infer<typeof schema>): RedisSettings {
  const url = new URL(e.REDIS_URL);
  const tlsOn = e.REDIS_TLS === true || url.protocol === 'rediss:';
  const tls = tlsOn ? Object.freeze({ caFile: e.REDIS_TLS_CA_FILE, insecure: e.REDIS_TLS_INSECURE === true }) : undefined;
  let auth: { username: string | undefined; password: string | undefined } | undefined;
  if (e.REDIS_USERNAME !== undefined || e.REDIS_PASSWORD !== undefined) {
    auth = { username: e.REDIS_USERNAME, password: undefined };
    Object.defineProperty(auth, 'password', { value: e.REDIS_PASSWORD, enumerable: false });
    Object.freeze(auth);
  }
  const scheme = tlsOn ? 'rediss' : 'redis';
  if (e.REDIS_CLUSTER_NODES) {
    const nodes = Object.freeze(e.REDIS_CLUSTER_NODES);
    return Object.freeze({ mode: 'cluster', nodes, tls, auth, display: `${scheme}+cluster://${nodes.map(hostPort).join(',')}` });
  }
  if (e.REDIS_SENTINELS && e.REDIS_SENTINEL_NAME) {
    const sentinels = Object.freeze(e.REDIS_SENTINELS);
    const name = e.REDIS_SENTINEL_NAME;
    return Object.freeze({ mode: 'sentinel', sentinels, name, tls, auth, display: `${scheme}+sentinel://${sentinels.map(hostPort).join(',')}/${name}` });
  }
  url.username = '';
  url.password = '';
  return Object.freeze({ mode: 'single', url: e.REDIS_URL, tls, auth, display: url.toString() });
}
