/**
 * The Gemini stand-in: a fast HTTP imitation of the Gemini v1beta REST API
 * (as @google/genai 2.x calls it) that enforces per-(project, model) RPM, TPM
 * and RPD like Google and injects faults on demand. quotaflow's test double,
 * demo upstream and benchmark upstream.
 */
export { startSimulator, type SimulatorHandle, type StartOptions } from './start.js';
export {
  parseSimulatorConfig,
  loadSimulatorConfigFile,
  parseOverlay,
  type SimulatorConfig,
  type Overlay,
  type ModelLimits,
  type LimitOverride,
} from './config.js';
export { simulatorConfigFromFleet, type EnvLookup } from './fleet-source.js';
export { parseFaultConfig, type FaultConfig, type FaultConfigInput, type FaultRule, type FaultKind, type MidStreamFault } from './faults-schema.js';
export { demoSimulatorConfig } from './demo-config.js';
export { runSimulateCommand, loadSimulateConfig, describeServed, type SimulateArgs } from './cli.js';
export type { SimulatorStats, SimCall, ScopeTotals, SimMethod } from './stats.js';
