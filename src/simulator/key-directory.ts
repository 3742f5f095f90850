/**
 * Who a key is: the project it belongs to (its quota group) and the label the
 * stats show instead of the secret. Invalid/forbidden lists can change at
 * runtime (POST /_sim/keys) to imitate a key being revoked or reported leaked.
 */
import type { SimulatorConfig, Tier } from './config.js';

export type KeyLookup =
  | { kind: 'ok'; label: string; project: string; tier: Tier }
  | { kind: 'missing'; label: string }
  | { kind: 'invalid'; label: string; project: string | null }
  | { kind: 'forbidden'; label: string; project: string | null };

interface KnownKey {
  label: string;
  project: string;
  tier: Tier;
}

export interface KeyLists {
  invalidKeys?: readonly string[];
  forbiddenKeys?: readonly string[];
}

export class KeyDirectory {
  private readonly known = new Map<string, KnownKey>();
  private invalid = new Map<string, number>();
  private forbidden = new Map<string, number>();

  constructor(config: SimulatorConfig) {
    for (const p of config.projects) {
      p.keys.forEach((k, i) => this.known.set(k.secret, { label: k.label ?? `${p.id}#${i}`, project: p.id, tier: p.tier }));
    }
    this.setLists(config);
  }

  /** Replaces the lists that are given; an omitted list stays as it was. */
  setLists(lists: KeyLists): void {
    if (lists.invalidKeys) this.invalid = new Map(lists.invalidKeys.map((s, i) => [s, i]));
    if (lists.forbiddenKeys) this.forbidden = new Map(lists.forbiddenKeys.map((s, i) => [s, i]));
  }

  lookup(secret: string | undefined): KeyLookup {
    if (secret === undefined || secret === '') return { kind: 'missing', label: '(none)' };
    const known = this.known.get(secret);
    // Forbidden wins over invalid: a leaked key is still a syntactically valid key.
    const forbiddenIndex = this.forbidden.get(secret);
    if (forbiddenIndex !== undefined) {
      return { kind: 'forbidden', label: known?.label ?? `forbidden#${forbiddenIndex}`, project: known?.project ?? null };
    }
    const invalidIndex = this.invalid.get(secret);
    if (invalidIndex !== undefined) {
      return { kind: 'invalid', label: known?.label ?? `invalid#${invalidIndex}`, project: known?.project ?? null };
    }
    if (!known) return { kind: 'invalid', label: '(unknown)', project: null };
    return { kind: 'ok', ...known };
  }
}
