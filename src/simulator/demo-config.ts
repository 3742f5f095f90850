/**
 * The stand-in setup of `quotaflow demo`: two free-tier tenant projects and two
 * tier1 central projects, with gemini-2.5-pro tight enough that the demo shows
 * keys filling up and jobs moving down the model chain.
 */
import { parseSimulatorConfig, type SimulatorConfig } from './config.js';

const TIER1_LIMITS = {
  'gemini-2.5-pro': { rpm: 8, tpm: 2_000_000, rpd: 10_000 },
  'gemini-2.5-flash': { rpm: 30, tpm: 1_000_000, rpd: 10_000 },
  'gemini-2.5-flash-lite': { rpm: 100, tpm: 4_000_000, rpd: 10_000 },
};

const key = (label: string): { secret: string; label: string } => ({ secret: `demo-${label}-secret`, label });

export function demoSimulatorConfig(): SimulatorConfig {
  // Parsed like a file so the demo cannot drift from what the schema accepts.
  return parseSimulatorConfig({
    projects: [
      { id: 'proj-acme', tier: 'free', keys: [key('acme-1'), key('acme-2')] },
      { id: 'proj-globex', tier: 'free', keys: [key('globex-1')] },
      { id: 'proj-central-1', tier: 'tier1', keys: [key('central-1'), key('central-2')], limits: TIER1_LIMITS },
      { id: 'proj-central-2', tier: 'tier1', keys: [key('central-3')], limits: TIER1_LIMITS },
    ],
    // Defaults are the free-tier limits; tier1 projects override them above.
    models: {
      'gemini-2.5-pro': { rpm: 2, tpm: 125_000, rpd: 50 },
      'gemini-2.5-flash': { rpm: 6, tpm: 250_000, rpd: 250 },
      'gemini-2.5-flash-lite': { rpm: 30, tpm: 250_000, rpd: 1_000 },
    },
    latencyMs: { min: 20, max: 80 },
    faults: { rules: [{ model: 'gemini-2.5-pro', p503: 0.02 }] },
    seed: 42,
  });
}
