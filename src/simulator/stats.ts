/**
 * What the stand-in saw: a capped call log (ring buffer, oldest dropped first)
 * and per-(project, model) totals of counted calls that never drop anything.
 * Keys appear by label only; a secret never reaches the stats. With
 * `recordBodies`, generation calls also keep their parsed request body, so
 * tests can assert exactly what reached the upstream.
 */

export type SimMethod = 'generateContent' | 'streamGenerateContent' | 'countTokens' | 'models.get' | 'models.list';

export interface SimCall {
  seq: number;
  /** Epoch ms by the simulator clock. */
  at: number;
  /** Label of the key; "(none)" without key, "(unknown)" for a key not in the config. */
  keyLabel: string;
  project: string | null;
  model: string | null;
  method: SimMethod;
  status: number;
  promptTokens: number;
  candidatesTokens: number;
  /** True when the call was spent against RPM/TPM/RPD. */
  counted: boolean;
  /** Set when a streamed answer was cut by an injected mid-stream failure (status is then that failure's). */
  midStream?: true;
  /** The parsed request body (generation calls, with `recordBodies` only). */
  body?: unknown;
}

export interface ScopeTotals {
  project: string;
  model: string;
  requests: number;
  promptTokens: number;
  candidatesTokens: number;
}

export interface SimulatorStats {
  /** Calls seen since start or the last reset, including those dropped from the log. */
  totalCalls: number;
  droppedCalls: number;
  /** Oldest first, at most maxCallLog entries. */
  calls: SimCall[];
  /** Counted calls and their tokens per (project, model). */
  totals: ScopeTotals[];
  /** Calls per HTTP status. */
  byStatus: Record<string, number>;
}

export class CallRecorder {
  private ring: SimCall[] = [];
  private next = 0;
  private seq = 0;
  private totals = new Map<string, ScopeTotals>();
  private byStatus = new Map<number, number>();

  constructor(private readonly cap: number) {}

  record(call: Omit<SimCall, 'seq'>): void {
    this.seq += 1;
    const entry: SimCall = { seq: this.seq, ...call };
    this.byStatus.set(call.status, (this.byStatus.get(call.status) ?? 0) + 1);
    if (call.counted && call.project !== null && call.model !== null) this.addTotals(entry);
    if (this.cap === 0) return;
    if (this.ring.length < this.cap) this.ring.push(entry);
    else this.ring[this.next] = entry;
    this.next = (this.next + 1) % this.cap;
  }

  /** The logged calls, oldest first; the last `last` only when given; bodies only when asked for. */
  calls(opts: { withBodies?: boolean; last?: number } = {}): SimCall[] {
    const ordered = this.ring.length < this.cap ? this.ring : [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
    const last = opts.last ?? ordered.length;
    const picked = last <= 0 ? [] : ordered.slice(-last);
    return picked.map((c) => {
      if (opts.withBodies || !('body' in c)) return { ...c };
      const { body: _body, ...rest } = c;
      return rest;
    });
  }

  snapshot(): SimulatorStats {
    const calls = this.calls();
    return {
      totalCalls: this.seq,
      droppedCalls: this.seq - calls.length,
      calls,
      totals: [...this.totals.values()].map((t) => ({ ...t })),
      byStatus: Object.fromEntries([...this.byStatus].map(([s, n]) => [String(s), n])),
    };
  }

  reset(): void {
    this.ring = [];
    this.next = 0;
    this.seq = 0;
    this.totals.clear();
    this.byStatus.clear();
  }

  private addTotals(call: SimCall): void {
    const project = call.project ?? '';
    const model = call.model ?? '';
    const id = `${project}\u0000${model}`;
    let t = this.totals.get(id);
    if (!t) {
      t = { project, model, requests: 0, promptTokens: 0, candidatesTokens: 0 };
      this.totals.set(id, t);
    }
    t.requests += 1;
    t.promptTokens += call.promptTokens;
    t.candidatesTokens += call.candidatesTokens;
  }
}
