/**
 * Running a compiled scenario on a machine, one micro-operation at a time: the engine the
 * headless CLI and the debugger share. A statement's action is a generator; the runner
 * executes each yielded operation, runs background traffic after each CPU step, and
 * records what happened. `snapshot`/`restore` capture the whole state at statement
 * boundaries (the machine copy-on-write, the driver and scenario state by copy).
 */
import { cloneKernelState, DriverError, KernelState, newKernelState } from '../driver/context';
import { executeOp } from '../driver/exec';
import { Action, isStep, MicroOp, OpResult, opText } from '../driver/ops';
import { cdAddress, pteAddress, steAddress } from '../model/locate';
import { Machine, Tagged } from '../model/machine';
import { Diagnostic, Range, ScenarioError } from './diagnostics';
import { Env } from './expr';
import { FUNCTIONS } from './compile-context';
import {
  cloneScenarioState, DmaRecord, ExpectationRecord, HazardRecord, newScenarioState, Program, Recorder, ScenarioState, Step, StepContext, UpdateRecord,
} from './program';

export interface RunLimits {
  /** Micro-operations in the whole run (a runaway scenario stops with a message). */
  readonly maxOps: number;
  /** Physical pages the run may touch. */
  readonly maxPages: number;
}

export const DEFAULT_LIMITS: RunLimits = { maxOps: 20_000_000, maxPages: 1_000_000 };

/** One line of the run's trace. */
export interface TraceEntry {
  readonly step: number;
  /** Sequence number of the micro-operation (0 for statement-level lines). */
  readonly op: number;
  readonly kind: 'op' | 'smmu' | 'note' | 'error';
  readonly text: string;
  /** The driver call stack at the time (innermost last). */
  readonly stack: readonly string[];
}

export interface RunState {
  machine: Machine;
  kernel: KernelState;
  scenario: ScenarioState;
}

/** What a finished (or stopped) run found. */
export interface RunResults {
  readonly updates: UpdateRecord[];
  readonly dmas: DmaRecord[];
  readonly expectations: ExpectationRecord[];
  readonly errors: Diagnostic[];
  readonly trace: TraceEntry[];
}

/** A point to come back to: between statements. */
export interface RunSnapshot {
  readonly state: RunState;
  readonly next: number;
  readonly ops: number;
  readonly lengths: { updates: number; dmas: number; expectations: number; errors: number; trace: number };
}

export type OpEvent =
  | { readonly kind: 'op'; readonly step: Step; readonly op: MicroOp; readonly seq: number; readonly stack: readonly string[] }
  | { readonly kind: 'statement-end'; readonly step: Step }
  | { readonly kind: 'error'; readonly step: Step; readonly error: Diagnostic }
  | { readonly kind: 'end' };

const hex = (n: number | bigint): string => '0x' + n.toString(16);

/**
 * A string kept for the run's whole life, made one piece: V8 keeps a concatenation as a
 * tree of its parts, several times the text's size, and a run keeps a line per operation.
 * Reading a character makes V8 flatten it in place.
 */
function flat(s: string): string {
  s.charCodeAt(0);
  return s;
}

/** How many arguments each function takes (the trailing ones have defaults). */
const ARITY: Readonly<Record<string, readonly [number, number]>> = { ste_addr: [1, 1], cd_addr: [1, 2], pte_addr: [1, 3], cmdq_slot: [1, 1] };

export class Runner {
  state: RunState;
  readonly results: RunResults = { updates: [], dmas: [], expectations: [], errors: [], trace: [] };
  /** Index of the next statement to start. */
  next = 0;
  /** Micro-operations executed so far. */
  ops = 0;
  /** The statement running: its generator, the last result, the driver call stack and a copy of it to share. */
  private active?: { step: Step; gen: Action<void>; result: OpResult; stack: string[]; shared?: readonly string[] };
  private stopped = false;
  /** Observers of machine activity (the checker, the debugger). */
  private readonly observers: ((t: Tagged, r: Runner) => void)[] = [];
  private readonly opObservers: ((op: MicroOp) => void)[] = [];
  private readonly endObservers: (() => void)[] = [];
  private readonly statementObservers: ((step: Step) => void)[] = [];
  private ended = false;
  /** Hazards found so far, when a checker follows the run (for `expect hazard`). */
  hazardSource: () => readonly HazardRecord[] = () => [];
  /** Indices of hazards an `expect hazard` accounted for. */
  readonly acceptedHazards = new Set<number>();

  constructor(readonly program: Program, readonly limits: RunLimits = DEFAULT_LIMITS) {
    this.state = {
      machine: Machine.create(program.platform, (t) => this.onActivity(t)),
      kernel: newKernelState(),
      scenario: newScenarioState(),
    };
    program.setup?.(this.state);
  }

  observe(f: (t: Tagged, r: Runner) => void): void {
    this.observers.push(f);
  }

  /** Called after each micro-operation has been performed (and background traffic has run). */
  afterOp(f: (op: MicroOp) => void): void {
    this.opObservers.push(f);
  }

  /** Called after each statement has finished. */
  afterStatement(f: (step: Step) => void): void {
    this.statementObservers.push(f);
  }

  /** Called once when the run reaches its end (not when it stops on an error). */
  atEnd(f: () => void): void {
    this.endObservers.push(f);
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const f of this.endObservers) f();
  }

  get done(): boolean {
    return this.stopped || (this.next >= this.program.steps.length && !this.active);
  }

  /** The statement being executed, or the next one. */
  get current(): Step | undefined {
    return this.active?.step ?? this.program.steps[this.next];
  }

  /** The driver call stack inside the active statement. */
  get stack(): readonly string[] {
    return this.active?.stack ?? [];
  }

  get inStatement(): boolean {
    return this.active !== undefined;
  }

  private onActivity(t: Tagged): void {
    const a = t.activity;
    let text: string | undefined;
    switch (a.kind) {
      case 'command': text = `SMMU: ${a.name} (entry ${a.index}): ${a.effect}`; break;
      case 'command-error': text = `SMMU: command queue stopped at entry ${a.index}: CERROR_${a.cerror}: ${a.reason}`; break;
      case 'event': text = `SMMU: event ${a.name}${a.recorded ? ` recorded at ${hex(a.addr!)}` : ` not recorded: ${a.why}`}`; break;
      case 'register': if (a.ignored) text = `SMMU: write of ${hex(a.value)} to ${a.name} ignored: ${a.ignored}`; break;
      case 'cmo': if (a.result.lost.length) text = `lost dirty data: ${a.result.lost.map((l) => `${l.cpu.length} bytes at ${hex(l.addr)}`).join(', ')}`; break;
      default: break;
    }
    if (text) this.results.trace.push({ step: this.active?.step.index ?? this.next, op: this.ops, kind: 'smmu', text, stack: this.stack });
    for (const o of this.observers) o(t, this);
  }

  private recorder(): Recorder {
    const r = this.results;
    return {
      update: (u) => r.updates.push(u),
      dma: (d) => r.dmas.push(d),
      expectation: (e) => r.expectations.push(e),
      updates: r.updates,
      dmas: r.dmas,
      hazards: () => this.hazardSource(),
      acceptHazards: (indices) => indices.forEach((i) => this.acceptedHazards.add(i)),
    };
  }

  env(): Env {
    const s = this.state;
    const m = s.machine;
    const located = (l: { addr: number } | { error: string }, range: Range): bigint => {
      if ('error' in l) throw new ScenarioError(range, l.error);
      return BigInt(l.addr);
    };
    const fns: Record<string, (args: bigint[], range: Range) => bigint> = {
      ste_addr: ([sid], range) => located(steAddress(m, Number(sid)), range),
      cd_addr: ([sid, ssid], range) => located(cdAddress(m, Number(sid), Number(ssid ?? 0n)), range),
      pte_addr: ([pgd, iova, level], range) => {
        const d = [...s.kernel.domains.values(), ...(s.kernel.previous?.values() ?? [])].find((x) => BigInt(x.pgd) === pgd);
        if (!d) throw new ScenarioError(range, `${hex(pgd ?? 0n)} is not the top-level table of a domain: pass a domain name`);
        return located(pteAddress(m, d.pgd, d.granule, d.ias, d.stage, Number(iova ?? 0n), Number(level ?? 3n), 'cpu', d.startLevel), range);
      },
      cmdq_slot: ([n], range) => {
        if (!s.kernel.cmdq) throw new ScenarioError(range, 'the command queue is not set up');
        return BigInt(s.kernel.cmdq.base + (Number(n) % 2 ** s.kernel.cmdq.log2size) * 16);
      },
    };
    return {
      constant: (n) => s.scenario.constants.get(n),
      region: (n) => m.region(n),
      domain: (n) => s.kernel.domains.get(n) ?? s.kernel.previous?.get(n),
      fn: (n) => {
        const f = fns[n];
        if (!f) return undefined;
        return (args, range) => {
          // A missing argument would otherwise be NaN deep inside the address calculation.
          const [min, max] = ARITY[n];
          if (args.length < min || args.length > max) {
            throw new ScenarioError(range, `${n} takes ${min === max ? min : `${min} to ${max}`} argument${max === 1 ? '' : 's'}, not ${args.length}: ${FUNCTIONS[n]}`);
          }
          return f(args, range);
        };
      },
      names: () => [...s.scenario.constants.keys(), ...m.mem.regions.live.map((r) => r.name), ...s.kernel.domains.keys(), ...Object.keys(FUNCTIONS)],
    };
  }

  private context(step: Step): StepContext {
    return { machine: this.state.machine, kernel: this.state.kernel, scenario: this.state.scenario, env: this.env(), record: this.recorder(), step };
  }

  private fail(step: Step, e: unknown): OpEvent {
    const known = e instanceof ScenarioError || e instanceof DriverError || (e instanceof Error && /Error$/.test(e.name) && e.name !== 'TypeError' && e.name !== 'ReferenceError');
    if (!known) throw e;
    const range = e instanceof ScenarioError ? e.range : step.range;
    const error: Diagnostic = { range, severity: 'error', message: (e as Error).message };
    this.results.errors.push(error);
    this.results.trace.push({ step: step.index, op: this.ops, kind: 'error', text: `error: ${error.message}`, stack: this.stack });
    this.active = undefined;
    this.stopped = true;
    return { kind: 'error', step, error };
  }

  /** Advance by one micro-operation (or frame marker/note); starts the next statement when needed. */
  stepOp(): OpEvent {
    if (this.stopped) return { kind: 'end' };
    if (!this.active) {
      const step = this.program.steps[this.next];
      if (!step) {
        this.end();
        return { kind: 'end' };
      }
      this.next++;
      try {
        this.active = { step, gen: step.run(this.context(step)), result: undefined, stack: [] };
      } catch (e) {
        return this.fail(step, e);
      }
    }
    const a = this.active;
    let n: IteratorResult<MicroOp, void>;
    try {
      n = a.gen.next(a.result);
    } catch (e) {
      return this.fail(a.step, e);
    }
    if (n.done) {
      try {
        // The checker judges the statement here, probing with the statement's values: their errors are the statement's.
        for (const f of this.statementObservers) f(a.step);
      } catch (e) {
        return this.fail(a.step, e);
      }
      this.active = undefined;
      return { kind: 'statement-end', step: a.step };
    }
    const op = n.value;
    // The operation past the limit is not performed, nor counted.
    if (this.ops >= this.limits.maxOps) {
      return this.fail(a.step, new ScenarioError(a.step.range, `the run exceeded ${this.limits.maxOps} micro-operations (limit maxOps); ` +
        'raise it with --max-ops or the launch option "maxOps"'));
    }
    if (op.op === 'enter') {
      a.stack.push(op.fn);
      a.shared = undefined;
    }
    this.ops++;
    // Operations in the same driver frame share one copy of the stack.
    const stack = a.shared ?? (a.shared = [...a.stack]);
    if (op.op === 'leave') {
      a.stack.pop();
      a.shared = undefined;
    }
    // The operation's line comes before what the SMMU does in response to it.
    if (op.op !== 'enter' && op.op !== 'leave') {
      this.results.trace.push({ step: a.step.index, op: this.ops, kind: op.op === 'note' ? 'note' : 'op', text: flat(opText(op)), stack });
    }
    try {
      this.state.machine.origin = this.ops;
      a.result = executeOp(this.state.machine, op);
      if (this.state.machine.mem.poc.pageCount > this.limits.maxPages) {
        throw new ScenarioError(a.step.range, `the run touched more than ${this.limits.maxPages} pages of memory (limit maxPages); raise it with --max-pages or the launch option "maxPages"`);
      }
    } catch (e) {
      return this.fail(a.step, e);
    }
    if (isStep(op) && op.op !== 'dma') this.runTraffic(a.step);
    for (const f of this.opObservers) f(op);
    return { kind: 'op', step: a.step, op, seq: this.ops, stack };
  }

  /** Background traffic after a CPU step: each source accesses each of its addresses. */
  private runTraffic(step: Step): void {
    const s = this.state.scenario;
    if (s.traffic.size === 0) return;
    for (const src of s.traffic.values()) {
      for (const iova of src.iovas) {
        const r = this.state.machine.dma({ sid: src.sid, ssid: src.ssid, iova, access: src.access, priv: src.priv });
        const key = `${src.name}:${iova}`;
        const outcome = r.outcome === 'fault' ? `fault ${r.event?.name}` : `${r.outcome} ${r.pa}`;
        if (s.trafficLast.get(key) === outcome) continue;
        s.trafficLast.set(key, outcome);
        this.results.dmas.push({
          range: step.range, sid: src.sid, ssid: src.ssid, iova, access: src.access, result: r.outcome, pa: r.pa,
          event: r.event?.name, reason: r.reason, traffic: src.name,
        });
      }
    }
  }

  /** Run the rest of the current statement (or the next one) to its end. */
  runStatement(): OpEvent {
    for (;;) {
      const e = this.stepOp();
      if (e.kind !== 'op') return e;
    }
  }

  runToEnd(): RunResults {
    while (!this.done) this.runStatement();
    if (!this.stopped) this.end();
    return this.results;
  }

  /** Capture the state between statements (not in the middle of one). */
  snapshot(): RunSnapshot {
    if (this.active) throw new Error('snapshots are taken between statements');
    const r = this.results;
    return {
      state: { machine: this.state.machine.snapshot(() => undefined), kernel: cloneKernelState(this.state.kernel), scenario: cloneScenarioState(this.state.scenario) },
      next: this.next,
      ops: this.ops,
      lengths: { updates: r.updates.length, dmas: r.dmas.length, expectations: r.expectations.length, errors: r.errors.length, trace: r.trace.length },
    };
  }

  restore(s: RunSnapshot): void {
    const machine = s.state.machine.snapshot((t) => this.onActivity(t));
    this.state = { machine, kernel: cloneKernelState(s.state.kernel), scenario: cloneScenarioState(s.state.scenario) };
    this.next = s.next;
    this.ops = s.ops;
    this.active = undefined;
    this.stopped = false;
    this.ended = false;
    const r = this.results;
    r.updates.length = s.lengths.updates;
    r.dmas.length = s.lengths.dmas;
    r.expectations.length = s.lengths.expectations;
    r.errors.length = s.lengths.errors;
    r.trace.length = s.lengths.trace;
  }
}
