/**
 * A compiled scenario: the platform it runs on and its steps, one per statement, each a
 * driver action (a generator of micro-operations) keeping its source range. And what a run
 * records: the entry updates, the DMA results, the expectations.
 */
import type { DriverContext } from '../driver/context';
import type { Action } from '../driver/ops';
import type { DriverContext as SetupState } from '../driver/context';
import type { PlatformConfig } from '../model/machine';
import type { Transaction } from '../model/smmu/types';
import type { Diagnostic, Range } from './diagnostics';
import type { Env } from './expr';

export interface Step {
  readonly index: number;
  readonly range: Range;
  /** The statement as written. */
  readonly text: string;
  readonly keyword: string;
  /** The driver function the statement performs, for function breakpoints and the call stack. */
  readonly action: string;
  readonly run: (cx: StepContext) => Action<void>;
}

export interface Program {
  readonly file: string;
  readonly platform: PlatformConfig;
  readonly memoryModel: 'weak' | 'ordered';
  readonly steps: readonly Step[];
  readonly diagnostics: readonly Diagnostic[];
  /** Every file read (the scenario and its includes), by path. */
  readonly sources: ReadonlyMap<string, string>;
  /** Applied to the machine and kernel state before the first statement (e.g. a dump the debugger opens). */
  readonly setup?: (state: SetupState) => void;
}

export interface UpdateRecord {
  readonly range: Range;
  readonly target: 'ste' | 'cd';
  readonly sid: number;
  readonly ssid?: number;
  /** The kernel writer's path, or `raw` for stores made in place without it. */
  readonly path: 'hitless' | 'breaking' | 'unchanged' | 'raw';
  readonly critical: readonly number[];
  readonly syncs: number;
  readonly writes: number;
}

export interface DmaRecord {
  readonly range: Range;
  readonly sid: number;
  readonly ssid?: number;
  readonly iova: bigint;
  readonly access: Transaction['access'];
  readonly result: 'ok' | 'fault' | 'abort' | 'bypass';
  readonly pa?: number;
  readonly event?: string;
  readonly reason: string;
  /** Background traffic rather than a one-off `dma`. */
  readonly traffic?: string;
}

export interface ExpectationRecord {
  readonly range: Range;
  readonly ok: boolean;
  readonly message: string;
}

/** Background traffic: a device issuing DMA to a set of addresses while later statements run. */
export interface TrafficSource {
  readonly name: string;
  readonly sid: number;
  readonly ssid?: number;
  readonly access: Transaction['access'];
  readonly priv: boolean;
  readonly iovas: readonly bigint[];
  readonly range: Range;
}

/** The scenario's own state while it runs (snapshotted with the machine and the driver state). */
export interface ScenarioState {
  readonly constants: Map<string, bigint>;
  readonly traffic: Map<string, TrafficSource>;
  /** Last outcome per traffic address, to report only changes. */
  readonly trafficLast: Map<string, string>;
  /** How many hazards had been found at the last hazard expectation. */
  hazardMark: number;
  /**
   * Where that expectation's window began, and its statement: hazard expectations written one
   * after another share one window, so each can name one of the rules a statement broke.
   */
  hazardWindow: { readonly start: number; readonly step: number };
}

export function newScenarioState(): ScenarioState {
  return { constants: new Map(), traffic: new Map(), trafficLast: new Map(), hazardMark: 0, hazardWindow: { start: 0, step: -2 } };
}

export function cloneScenarioState(s: ScenarioState): ScenarioState {
  return { constants: new Map(s.constants), traffic: new Map(s.traffic), trafficLast: new Map(s.trafficLast), hazardMark: s.hazardMark, hazardWindow: s.hazardWindow };
}

/** A hazard as the scenario layer sees it (the checker, in src/check, finds them). */
export interface HazardRecord {
  readonly rule: string;
  readonly severity: 'error' | 'warning';
  /** The statement it was found in (-1 outside any). */
  readonly step: number;
  readonly message: string;
}

/** Where a run's results go. */
export interface Recorder {
  update(u: UpdateRecord): void;
  dma(d: DmaRecord): void;
  expectation(e: ExpectationRecord): void;
  readonly updates: readonly UpdateRecord[];
  readonly dmas: readonly DmaRecord[];
  /** Hazards found so far (empty when no checker follows the run). */
  hazards(): readonly HazardRecord[];
  /** Mark hazards (by index) as expected by the scenario: they do not fail the run. */
  acceptHazards(indices: readonly number[]): void;
}

export interface StepContext extends DriverContext {
  readonly env: Env;
  readonly scenario: ScenarioState;
  readonly record: Recorder;
  readonly step: Step;
}
