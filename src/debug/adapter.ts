/**
 * The Debug Adapter: DAP requests in, runtime calls out, runtime stops back as events.
 * Runs inline in the extension host (desktop and web) and as a standalone program over
 * stdio (debugAdapter.ts) for other DAP clients.
 */
import {
  Breakpoint, BreakpointEvent, DebugSession, ErrorDestination, InitializedEvent, InvalidatedEvent, OutputEvent, Scope as DapScope, Source, StackFrame, StoppedEvent, TerminatedEvent, Thread,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { findField, hex, requireField, setField } from '../arch/codec';
import { CD, L1CD } from '../arch/cd';
import { REGISTERS } from '../arch/registers';
import { L1STD, STE } from '../arch/ste';
import { RULES } from '../check/rules';
import type { TranslateResult } from '../model/smmu/smmu';
import type { Transaction } from '../model/smmu/types';
import { hasErrors, SourceHost } from '../scenario/compiler';
import { formatDiagnostic } from '../scenario/diagnostics';
import { evaluate } from '../scenario/expr';
import { parseExpression } from '../scenario/parser';
import { Dump, dumpPlatform, dumpSetup, openDump } from '../dump/load';
import { registerMap } from '../dump/registers';
import { DumpError } from '../dump/source';
import { COMPLETIONS, evaluateDebug } from './evaluate';
import { DataBreakpoint, EVENT_FILTERS, FunctionBreakpoint, HAZARD_PREFIX, Runtime, StopInfo } from './runtime';
import { cacheLines, walkPictures } from './pictures';
import { compileForSession } from './session';
import { scopes, Var } from './variables';

export interface LaunchArguments extends DebugProtocol.LaunchRequestArguments {
  /** The scenario file (optional with a dump: it then runs on top of the dump's state). */
  program?: string;
  /** A memory dump to start from: an ELF core, and/or raw images as FILE@BASE, with the SMMU's registers. */
  core?: string;
  raw?: string | string[];
  registers?: Record<string, string | number> | string[];
  stopOnEntry?: boolean;
  /** Run the hazard checker (default true). */
  check?: boolean;
  /** Platform overrides: SMMU coherency, cache line, write-back granule. */
  coherent?: boolean;
  lineSize?: number;
  wbGranule?: 1 | 2 | 4 | 8;
  /** Limits: micro-operations, pages, values judged per entry. */
  maxOps?: number;
  maxPages?: number;
  observableBound?: number;
  /** Print every micro-operation to the debug console (default: commands, events and hazards only). */
  trace?: boolean;
}

const CPU_THREAD = 1;
const SMMU_THREAD = 2;
const MAX_READ = 1 << 20;

export class SmmuDebugSession extends DebugSession {
  private runtime?: Runtime;
  private configured!: Promise<void>;
  private markConfigured!: () => void;
  private vars = new Map<number, Var>();
  private nextVar = 1;
  private frames = new Map<number, { kind: string }>();
  private traceShown = 0;
  private showOps = false;
  /**
   * The last translation of each micro-operation, by its number. The run is deterministic, so after
   * a step back the last walk is the one at or before the current micro-operation, not one from the
   * part of the run that was undone.
   */
  private translations = new Map<number, { tx: string; result: TranslateResult }>();
  private pendingFilters: string[] = [];
  /** Breakpoints set before launch (the client may configure first): applied when the scenario starts. */
  private pendingLines = new Map<string, { id: number; bp: DebugProtocol.SourceBreakpoint }[]>();
  private functionBps: FunctionBreakpoint[] = [];
  private dataBps: DataBreakpoint[] = [];
  private running = false;

  constructor(private readonly host: SourceHost) {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
    this.configured = new Promise((resolve) => (this.markConfigured = resolve));
  }

  // ---- setup ----------------------------------------------------------------------------------

  protected override initializeRequest(response: DebugProtocol.InitializeResponse): void {
    response.body = {
      supportsConfigurationDoneRequest: true,
      supportsEvaluateForHovers: true,
      supportsStepBack: true,
      supportsDataBreakpoints: true,
      supportsCompletionsRequest: true,
      completionTriggerCharacters: ['[', '(', '.'],
      supportsConditionalBreakpoints: true,
      supportsHitConditionalBreakpoints: true,
      supportsFunctionBreakpoints: true,
      supportsExceptionInfoRequest: true,
      supportsSetVariable: true,
      supportsReadMemoryRequest: true,
      supportsWriteMemoryRequest: true,
      supportsDisassembleRequest: true,
      supportsSteppingGranularity: true,
      supportsBreakpointLocationsRequest: true,
      supportsRestartRequest: true,
      supportsTerminateRequest: true,
      supportsDelayedStackTraceLoading: false,
      supportsValueFormattingOptions: false,
      exceptionBreakpointFilters: [
        ...EVENT_FILTERS.map((f) => ({ filter: f.id, label: f.label, description: f.description, default: f.default ?? false })),
        ...RULES.map((r) => ({ filter: HAZARD_PREFIX + r.id, label: `Hazard: ${r.title}`, description: r.description, default: true })),
      ],
    };
    this.sendResponse(response);
    this.sendEvent(new InitializedEvent());
  }

  protected override configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): void {
    this.sendResponse(response);
    this.markConfigured();
  }

  /** The dump a launch configuration names, if any (paths relative to the program when it has one). */
  private launchDump(args: LaunchArguments): Dump | undefined {
    if (args.core === undefined && args.raw === undefined) return undefined;
    const host = this.host;
    if (!host.readBinary) throw new DumpError('this debugger cannot read files: a dump cannot be opened here');
    const at = (p: string): string => (args.program ? host.resolve(args.program, p) : p);
    return openDump({
      core: args.core !== undefined ? [at(args.core)] : [],
      raw: (typeof args.raw === 'string' ? [args.raw] : args.raw ?? []).map((r) => at(r)),
      registers: registerMap(args.registers),
    }, (path) => {
      const src = host.readBinary!(path);
      if (!src) throw new DumpError(`cannot open the dump ${path}`);
      return src;
    });
  }

  protected override async launchRequest(response: DebugProtocol.LaunchResponse, args: LaunchArguments): Promise<void> {
    if (this.runtime) {
      this.sendErrorResponse(response, 3004, 'a scenario is already running: restart it, or disconnect first');
      return;
    }
    if (!args) {
      this.sendErrorResponse(response, 3001, 'launch needs "program": the path of a .smmu scenario (or a dump: "core" or "raw", with "registers")');
      return;
    }
    let dump: Dump | undefined;
    try {
      dump = this.launchDump(args);
    } catch (e) {
      if (!(e instanceof DumpError)) throw e;
      this.sendErrorResponse(response, 3005, `cannot open the dump: ${e.message}`);
      return;
    }
    if ((typeof args.program !== 'string' || args.program === '') && !dump) {
      this.sendErrorResponse(response, 3001, 'launch needs "program": the path of a .smmu scenario (or a dump: "core" or "raw", with "registers")');
      return;
    }
    const text = args.program ? this.host.read(args.program) : '';
    if (text === undefined) {
      this.sendErrorResponse(response, 3002, `cannot read the scenario ${args.program}`);
      return;
    }
    const compiled = compileForSession(args.program ?? '', text, this.host, dump ? { platform: dumpPlatform(dump) } : {});
    const program = dump ? { ...compiled, setup: dumpSetup(dump) } : compiled;
    for (const d of program.diagnostics) this.sendEvent(new OutputEvent(formatDiagnostic(d) + '\n', 'stderr'));
    if (hasErrors(program)) {
      const first = program.diagnostics.find((d) => d.severity === 'error')!;
      this.sendErrorResponse(response, 3003, `the scenario has errors: ${formatDiagnostic(first)}`);
      return;
    }
    const memory = { ...program.platform.memory };
    if (typeof args.coherent === 'boolean') memory.coherent = args.coherent;
    if (typeof args.lineSize === 'number') memory.lineSize = args.lineSize;
    if (args.wbGranule !== undefined) memory.writebackGranule = args.wbGranule;
    const platformed = { ...program, platform: { ...program.platform, memory } };
    this.runtime = new Runtime(platformed, {
      check: args.check !== false,
      limits: { maxOps: args.maxOps ?? 20_000_000, maxPages: args.maxPages ?? 1_000_000 },
      checkOptions: args.observableBound ? { bound: args.observableBound } : {},
    });
    this.runtime.sliceOps = 20_000;
    this.runtime.filters = new Set(this.pendingFilters);
    this.runtime.functions = this.functionBps;
    this.runtime.data = this.dataBps;
    this.runtime.condition = (expr) => this.conditionHolds(expr);
    this.applyPendingLines();
    this.showOps = args.trace === true;
    this.watchTranslations();
    this.sendResponse(response);
    await this.configured;
    // A dump without a scenario has nothing to run: stop at once so its tables can be browsed.
    const stopOnEntry = args.stopOnEntry === true || !args.program;
    // Through drive: a run to the first stop goes in slices, so pause gets in and a slice is not a stop.
    this.drive(() => this.rt.start(stopOnEntry));
  }

  /** Line breakpoints set before launch, now that the statements are known: verified (or not) by 'breakpoint' events. */
  private applyPendingLines(): void {
    const rt = this.rt;
    for (const [file, list] of this.pendingLines) {
      const lines = this.statementLines(file);
      for (const { id, bp } of list) {
        const out = this.lineBreakpoint(rt, file, lines, bp, id);
        this.sendEvent(new BreakpointEvent('changed', out));
      }
    }
    this.pendingLines.clear();
  }

  /** Verify one line breakpoint (moved to the next statement line) and register it with the runtime. */
  private lineBreakpoint(rt: Runtime | undefined, file: string, lines: number[], b: DebugProtocol.SourceBreakpoint, id: number): DebugProtocol.Breakpoint {
    // Moved to the next line that holds a statement, as a compiler's line table would.
    const line = lines.find((l) => l >= b.line);
    const bp = new Breakpoint(line !== undefined, line ?? b.line) as DebugProtocol.Breakpoint;
    bp.id = id;
    if (line === undefined) bp.message = rt ? 'no statement on or after this line' : 'set when the scenario starts';
    const condition = b.condition?.trim() ? parseExpression(b.condition) : undefined;
    if (condition && 'error' in condition) {
      // Not silently "always true": the language has no comparisons, a condition is an expression (non-zero stops).
      bp.verified = false;
      bp.message = `the condition is not a scenario expression: ${condition.error} (a condition stops when it is non-zero)`;
      return bp;
    }
    if (rt && line !== undefined) rt.lines.push({ id, file, line, condition: b.condition, hitCondition: b.hitCondition, hits: 0 });
    return bp;
  }

  private watchTranslations(): void {
    this.translations = new Map();
    const runner = this.runtime?.runner;
    runner?.observe((t) => {
      if (t.activity.kind === 'translate') {
        const tx = t.activity.tx;
        this.translations.set(runner.ops, {
          tx: `${tx.access} SID ${hex(tx.sid)}${tx.ssid !== undefined ? ':' + hex(tx.ssid) : ''} IOVA ${hex(tx.iova)}${tx.priv ? ' priv' : ''}`, result: t.activity.result,
        });
      }
    });
  }

  /** The last translation up to the current position. */
  private get lastTranslation(): { tx: string; result: TranslateResult } | undefined {
    const now = this.runtime?.runner.ops ?? -1;
    let best = -1;
    for (const ops of this.translations.keys()) if (ops <= now && ops > best) best = ops;
    return best < 0 ? undefined : this.translations.get(best);
  }

  private get rt(): Runtime {
    if (!this.runtime) throw new Error('no scenario is running: launch one first');
    return this.runtime;
  }

  private conditionHolds(expr: string): boolean {
    const p = parseExpression(expr);
    if ('error' in p) return true;
    try {
      return evaluate(p.expr, this.rt.runner.env()) !== 0n;
    } catch {
      return true;
    }
  }

  // ---- running ------------------------------------------------------------------------------------

  /** Run a stepping function in slices, so requests (pause) get in between; then report the stop. */
  private drive(step: () => StopInfo): void {
    this.running = true;
    const slice = (): void => {
      const rt = this.runtime;
      if (!rt) return;
      if (rt.takePause()) {
        this.running = false;
        this.report({ reason: 'pause', description: 'paused' });
        return;
      }
      let stop: StopInfo;
      try {
        stop = step();
      } catch (e) {
        // A fault of the engine itself (not of the scenario): show it and stop, do not take the adapter down.
        const message = (e as Error)?.message ?? String(e);
        this.sendEvent(new OutputEvent(`internal error: ${message}\n`, 'important'));
        stop = rt.lastStop = {
          reason: 'exception', description: `internal error: ${message}`,
          exception: { filter: 'error', id: 'internal', description: 'internal error of the debugger', details: message },
        };
      }
      if (stop.yielded) {
        setTimeout(slice, 0);
        return;
      }
      this.running = false;
      this.report(stop);
    };
    slice();
  }

  private report(stop: StopInfo): void {
    this.flushTrace();
    this.vars.clear();
    this.frames.clear();
    if (this.rt.done && stop.reason === 'step' && !stop.exception) {
      const r = this.rt.runner.results;
      const failed = r.expectations.filter((e) => !e.ok);
      this.sendEvent(new OutputEvent(`scenario finished: ${r.expectations.length - failed.length} expectation(s) passed, ${failed.length} failed, ` +
        `${this.rt.hazards.length} hazard(s)\n`, 'console'));
      for (const f of failed) this.sendEvent(new OutputEvent(`${f.range.file}:${f.range.start.line}: ${f.message}\n`, 'stderr'));
      this.sendEvent(new TerminatedEvent());
      return;
    }
    const e = new StoppedEvent(stop.reason, CPU_THREAD, stop.exception?.details) as DebugProtocol.StoppedEvent;
    e.body.description = stop.description;
    e.body.allThreadsStopped = true;
    if (stop.hitBreakpointIds?.length) e.body.hitBreakpointIds = [...stop.hitBreakpointIds];
    this.sendEvent(e);
  }

  private flushTrace(): void {
    if (!this.runtime) return;
    const trace = this.runtime.runner.results.trace;
    if (this.traceShown > trace.length) this.traceShown = trace.length;
    for (; this.traceShown < trace.length; this.traceShown++) {
      const t = trace[this.traceShown];
      if (t.kind === 'op' && !this.showOps) continue;
      // Hazards and errors in red in the Debug Console ('important' would also raise a notification per hazard).
      const category = t.kind === 'error' ? 'stderr' : t.kind === 'smmu' ? 'console' : 'stdout';
      this.sendEvent(new OutputEvent(`${'  '.repeat(t.stack.length)}${t.text}\n`, category));
    }
  }

  /** Run control needs a scenario: answer with an error (not a success that does nothing) before launch. */
  private noScenario(response: DebugProtocol.Response): boolean {
    if (this.runtime) return false;
    this.sendErrorResponse(response, 3005, 'no scenario is running: launch one first');
    return true;
  }

  protected override continueRequest(response: DebugProtocol.ContinueResponse): void {
    if (this.noScenario(response)) return;
    response.body = { allThreadsContinued: true };
    this.sendResponse(response);
    this.drive(() => this.rt.continue());
  }

  protected override nextRequest(response: DebugProtocol.NextResponse, args: DebugProtocol.NextArguments): void {
    if (this.noScenario(response)) return;
    this.sendResponse(response);
    this.drive(() => (args.granularity === 'instruction' ? this.rt.stepIn() : this.rt.next()));
  }

  protected override stepInRequest(response: DebugProtocol.StepInResponse): void {
    if (this.noScenario(response)) return;
    this.sendResponse(response);
    this.drive(() => this.rt.stepIn());
  }

  protected override stepOutRequest(response: DebugProtocol.StepOutResponse): void {
    if (this.noScenario(response)) return;
    this.sendResponse(response);
    this.drive(() => this.rt.stepOut());
  }

  protected override stepBackRequest(response: DebugProtocol.StepBackResponse, args: DebugProtocol.StepBackArguments): void {
    if (this.noScenario(response)) return;
    this.sendResponse(response);
    this.report(this.rt.stepBack(args.granularity === 'instruction' ? 'op' : 'statement'));
  }

  protected override reverseContinueRequest(response: DebugProtocol.ReverseContinueResponse): void {
    if (this.noScenario(response)) return;
    this.sendResponse(response);
    this.report(this.rt.reverseContinue());
  }

  protected override pauseRequest(response: DebugProtocol.PauseResponse): void {
    if (this.noScenario(response)) return;
    this.sendResponse(response);
    if (this.running) this.rt.requestPause();
    else this.report({ reason: 'pause', description: 'paused' });
  }

  protected override restartRequest(response: DebugProtocol.RestartResponse, args: DebugProtocol.RestartArguments): void {
    if (this.noScenario(response)) return;
    this.rt.restart();
    this.traceShown = 0;
    this.watchTranslations();
    this.sendResponse(response);
    const stopOnEntry = (args?.arguments as LaunchArguments | undefined)?.stopOnEntry === true;
    this.drive(() => this.rt.start(stopOnEntry));
  }

  protected override terminateRequest(response: DebugProtocol.TerminateResponse): void {
    this.sendResponse(response);
    this.sendEvent(new TerminatedEvent());
  }

  protected override disconnectRequest(response: DebugProtocol.DisconnectResponse): void {
    this.runtime = undefined;
    this.sendResponse(response);
  }

  // ---- breakpoints -------------------------------------------------------------------------------

  private statementLines(file: string): number[] {
    if (!this.runtime) return [];
    return [...new Set(this.rt.program.steps.filter((s) => s.range.file === file).map((s) => s.range.start.line))].sort((a, b) => a - b);
  }

  protected override setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, args: DebugProtocol.SetBreakpointsArguments): void {
    const file = args.source.path ?? '';
    const lines = this.statementLines(file);
    const rt = this.runtime;
    if (rt) rt.lines = rt.lines.filter((b) => b.file !== file);
    const out: DebugProtocol.Breakpoint[] = [];
    const pending: { id: number; bp: DebugProtocol.SourceBreakpoint }[] = [];
    for (const b of args.breakpoints ?? []) {
      const id = this.nextVar++;
      out.push(this.lineBreakpoint(rt, file, lines, b, id));
      if (!rt) pending.push({ id, bp: b });
    }
    if (!rt) this.pendingLines.set(file, pending);
    response.body = { breakpoints: out };
    this.sendResponse(response);
  }

  protected override breakpointLocationsRequest(response: DebugProtocol.BreakpointLocationsResponse, args: DebugProtocol.BreakpointLocationsArguments): void {
    const end = args.endLine ?? args.line;
    response.body = { breakpoints: this.statementLines(args.source.path ?? '').filter((l) => l >= args.line && l <= end).map((line) => ({ line })) };
    this.sendResponse(response);
  }

  protected override setFunctionBreakPointsRequest(response: DebugProtocol.SetFunctionBreakpointsResponse, args: DebugProtocol.SetFunctionBreakpointsArguments): void {
    const out: DebugProtocol.Breakpoint[] = [];
    const list = args.breakpoints.map((b) => {
      const id = this.nextVar++;
      out.push({ id, verified: true, message: `stops when the driver enters ${b.name}` });
      return { id, name: b.name, condition: b.condition, hitCondition: b.hitCondition, hits: 0 };
    });
    this.functionBps = list;
    if (this.runtime) this.runtime.functions = list;
    response.body = { breakpoints: out };
    this.sendResponse(response);
  }

  protected override setExceptionBreakPointsRequest(response: DebugProtocol.SetExceptionBreakpointsResponse, args: DebugProtocol.SetExceptionBreakpointsArguments): void {
    const ids = [...args.filters, ...(args.filterOptions ?? []).map((o) => o.filterId)];
    const known = new Set([...EVENT_FILTERS.map((f) => f.id), ...RULES.map((r) => HAZARD_PREFIX + r.id)]);
    const unknown = ids.filter((i) => !known.has(i));
    if (unknown.length) {
      this.sendErrorResponse(response, 3010, `unknown exception filter ${unknown.join(', ')}`);
      return;
    }
    this.pendingFilters = ids;
    if (this.runtime) this.runtime.filters = new Set(ids);
    response.body = { breakpoints: ids.map(() => ({ verified: true })) };
    this.sendResponse(response);
  }

  protected override dataBreakpointInfoRequest(response: DebugProtocol.DataBreakpointInfoResponse, args: DebugProtocol.DataBreakpointInfoArguments): void {
    let ref: string | undefined;
    let len = 8;
    if (args.variablesReference !== undefined) {
      const parent = this.vars.get(args.variablesReference);
      const v = parent?.children?.get(0, 100_000).find((c) => c.name === args.name);
      ref = v?.memoryReference;
      len = v?.type === 'Stream Table Entry' || v?.type === 'Context Descriptor' ? 64 : 8;
    } else {
      const r = this.runtime ? evaluateDebug(args.name, this.evalContext()) : undefined;
      ref = r && 'memoryReference' in r ? r.memoryReference : undefined;
    }
    const addr = ref ? Number(ref.split(':')[1]) : NaN;
    if (!ref || !Number.isFinite(addr)) {
      response.body = { dataId: null, description: `'${args.name}' has no address to watch` };
    } else {
      response.body = {
        dataId: `${hex(addr)}:${len}`, description: `${args.name}: CPU stores to / SMMU fetches of ${hex(addr)}..${hex(addr + len)}`,
        accessTypes: ['read', 'write', 'readWrite'], canPersist: true,
      };
    }
    this.sendResponse(response);
  }

  protected override setDataBreakpointsRequest(response: DebugProtocol.SetDataBreakpointsResponse, args: DebugProtocol.SetDataBreakpointsArguments): void {
    const out: DebugProtocol.Breakpoint[] = [];
    const list: DataBreakpoint[] = [];
    for (const b of args.breakpoints) {
      const [a, l] = b.dataId.split(':');
      const addr = Number(a);
      const len = Number(l);
      const id = this.nextVar++;
      if (!Number.isFinite(addr) || !Number.isFinite(len)) {
        out.push({ id, verified: false, message: `bad data breakpoint id '${b.dataId}'` });
        continue;
      }
      out.push({ id, verified: true });
      list.push({ id, addr, len, access: b.accessType ?? 'write', condition: b.condition, hitCondition: b.hitCondition, hits: 0 });
    }
    this.dataBps = list;
    if (this.runtime) this.runtime.data = list;
    response.body = { breakpoints: out };
    this.sendResponse(response);
  }

  protected override exceptionInfoRequest(response: DebugProtocol.ExceptionInfoResponse): void {
    const x = this.runtime?.lastStop?.exception;
    if (!x) {
      this.sendErrorResponse(response, 3020, 'the run is not stopped on an event or hazard');
      return;
    }
    // VS Code's exception widget shows the description only: it carries the whole explanation.
    response.body = { exceptionId: x.id, description: x.details ? `${x.description}. ${x.details}` : x.description, breakMode: 'always', details: { message: x.details, typeName: x.filter } };
    this.sendResponse(response);
  }

  // ---- threads, stacks, scopes, variables ------------------------------------------------------------

  protected override threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    response.body = { threads: [new Thread(CPU_THREAD, 'CPU (driver)'), new Thread(SMMU_THREAD, 'SMMU')] };
    this.sendResponse(response);
  }

  private source(file: string): Source {
    return new Source(file.split(/[\\/]/).pop() ?? file, file);
  }

  protected override stackTraceRequest(response: DebugProtocol.StackTraceResponse, args: DebugProtocol.StackTraceArguments): void {
    const rt = this.rt;
    const frames: DebugProtocol.StackFrame[] = [];
    const add = (name: string, file: string | undefined, line: number, col: number, kind: string, ip?: string): void => {
      const id = this.frames.size + 1;
      this.frames.set(id, { kind });
      const f = new StackFrame(id, name, file ? this.source(file) : undefined, line, col) as DebugProtocol.StackFrame;
      if (ip) f.instructionPointerReference = ip;
      if (kind === 'smmu') f.presentationHint = 'subtle';
      frames.push(f);
    };
    if (args.threadId === SMMU_THREAD) {
      const t = this.lastTranslation;
      if (t) {
        for (const w of [...t.result.walk].reverse()) add(`stage ${w.stage} level ${w.level}: ${hex(w.desc, 16)} at ${hex(w.descAddr)} (${w.type})`, undefined, 0, 0, 'smmu');
        for (const c of [...t.result.config].reverse()) add(`${c.what.toUpperCase()} ${c.source === 'cache' ? '(cached)' : 'fetched'} at ${hex(c.addr)}`, undefined, 0, 0, 'smmu');
        add(`${t.tx}: ${t.result.outcome}${t.result.pa !== undefined ? ' → ' + hex(t.result.pa) : ''}`, undefined, 0, 0, 'smmu');
      } else {
        add('no transaction yet', undefined, 0, 0, 'smmu');
      }
    } else {
      const step = rt.current;
      if (step) {
        const { file, start } = step.range;
        if (rt.runner.inStatement) {
          if (rt.lastOpText !== undefined) add(rt.lastOpText, file, start.line, start.col, 'op', hex(rt.runner.ops));
          for (const fn of [...rt.runner.stack].reverse()) add(fn, file, start.line, start.col, 'driver');
        }
        add(step.text.length > 60 ? step.text.slice(0, 57) + '…' : step.text, file, start.line, start.col, 'statement', hex(rt.runner.ops));
      } else {
        add(this.rt.program.file ? 'end of scenario' : 'dump (no scenario)', this.rt.program.file, 1, 1, 'statement');
      }
    }
    const start = args.startFrame ?? 0;
    const count = args.levels && args.levels > 0 ? args.levels : frames.length;
    response.body = { stackFrames: frames.slice(start, start + count), totalFrames: frames.length };
    this.sendResponse(response);
  }

  private handle(v: Var): number {
    if (!v.children) return 0;
    const id = this.nextVar++;
    this.vars.set(id, v);
    return id;
  }

  private scope(): ReturnType<typeof scopes> {
    return scopes({ machine: this.rt.runner.state.machine, hazards: this.rt.hazards, lastTranslation: this.lastTranslation });
  }

  /** A frame id from the last stackTrace of this stop; an error response when it is not one. */
  private badFrame(response: DebugProtocol.Response, frameId: number | undefined): boolean {
    if (frameId === undefined || this.frames.has(frameId)) return false;
    // VS Code may still ask with a frame of the previous stop while it catches up: an answer, not a notification.
    this.sendErrorResponse(response, 3031, `unknown frameId ${frameId} (frames are valid until the next step)`, undefined, ErrorDestination.Telemetry);
    return true;
  }

  protected override scopesRequest(response: DebugProtocol.ScopesResponse, args: DebugProtocol.ScopesArguments): void {
    if (this.noScenario(response) || this.badFrame(response, args.frameId)) return;
    response.body = {
      scopes: this.scope().map((v) => {
        const s = new DapScope(v.name, this.handle(v), v.name !== 'Registers') as DebugProtocol.Scope;
        if (v.children?.indexed !== undefined) s.indexedVariables = v.children.indexed;
        return s;
      }),
    };
    this.sendResponse(response);
  }

  private toDap(v: Var): DebugProtocol.Variable {
    const ref = this.handle(v);
    const out: DebugProtocol.Variable = { name: v.name, value: v.value, type: v.type, variablesReference: ref, evaluateName: v.evaluateName, memoryReference: v.memoryReference };
    if (v.children?.indexed !== undefined) out.indexedVariables = v.children.indexed;
    if (v.hint) out.presentationHint = { kind: v.hint === 'readOnly' ? undefined : v.hint, attributes: v.hint === 'readOnly' ? ['readOnly'] : undefined };
    return out;
  }

  protected override variablesRequest(response: DebugProtocol.VariablesResponse, args: DebugProtocol.VariablesArguments): void {
    const v = this.vars.get(args.variablesReference);
    if (!v?.children) {
      this.sendErrorResponse(response, 3030, `unknown variablesReference ${args.variablesReference} (variables are valid until the next step)`);
      return;
    }
    const indexed = v.children.indexed !== undefined;
    const start = args.start ?? 0;
    const count = args.count && args.count > 0 ? args.count : indexed ? Math.min(v.children.indexed!, 1000) : 100_000;
    const children = v.children.get(start, count);
    response.body = { variables: children.map((c) => this.toDap(c)) };
    this.sendResponse(response);
  }

  /**
   * Edit a field of a decoded entry, or a raw word: a CPU store of the changed qword,
   * recorded at this position of the run (stepping back before it undoes it).
   */
  protected override setVariableRequest(response: DebugProtocol.SetVariableResponse, args: DebugProtocol.SetVariableArguments): void {
    const parent = this.vars.get(args.variablesReference);
    const words = parent?.children?.get(0, 1000).find((c) => c.name === 'words');
    const addrText = words?.memoryReference ?? parent?.memoryReference;
    const layoutTitle = parent?.type;
    try {
      if (!parent || !addrText) throw new Error('only fields and words of entries with an address can be set');
      const addr = Number(addrText.split(':')[1]);
      const m = this.rt.runner.state.machine;
      const value = evaluate((() => {
        const p = parseExpression(args.value);
        if ('error' in p) throw new Error(p.error);
        return p.expr;
      })(), this.rt.runner.env());
      let store: { addr: number; value: bigint };
      const qm = /^qword (\d+)$/.exec(args.name);
      if (qm) {
        store = { addr: addr + 8 * Number(qm[1]), value: BigInt.asUintN(64, value) };
      } else {
        const layout = LAYOUTS.find((l) => l.title === layoutTitle);
        if (!layout || !findField(layout, args.name)) throw new Error(`'${args.name}' is not a field that can be set here`);
        const f = requireField(layout, args.name);
        const q = Math.floor(f.lo / 64);
        const cur = Array.from({ length: layout.words }, (_, i) => m.load(addr + 8 * i, 8));
        const next = setField(layout, cur, args.name, value);
        store = { addr: addr + 8 * q, value: next[q] };
      }
      this.rt.edit((r) => r.runner.state.machine.store(store.addr, 8, store.value, 8));
      response.body = { value: hex(store.value, 16) };
      this.sendResponse(response);
      this.sendEvent(new InvalidatedEvent(['variables']));
    } catch (e) {
      this.sendErrorResponse(response, 3040, `cannot set ${args.name}: ${(e as Error).message}`);
    }
  }

  // ---- evaluate, completions -------------------------------------------------------------------------

  private evalContext(): Parameters<typeof evaluateDebug>[1] {
    return { machine: this.rt.runner.state.machine, env: this.rt.runner.env(), hazards: this.rt.hazards };
  }

  protected override evaluateRequest(response: DebugProtocol.EvaluateResponse, args: DebugProtocol.EvaluateArguments): void {
    if (!this.runtime) {
      this.sendErrorResponse(response, 3050, 'no scenario is running');
      return;
    }
    if (this.badFrame(response, args.frameId)) return;
    const r = evaluateDebug(args.expression, this.evalContext());
    if ('error' in r) {
      this.sendErrorResponse(response, 3051, r.error);
      return;
    }
    response.body = {
      result: r.value, variablesReference: r.var ? this.handle(r.var) : 0, memoryReference: r.memoryReference,
      indexedVariables: r.var?.children?.indexed,
    };
    this.sendResponse(response);
  }

  protected override completionsRequest(response: DebugProtocol.CompletionsResponse, args: DebugProtocol.CompletionsArguments): void {
    const prefix = args.text.slice(0, (args.column ?? args.text.length + 1) - 1).split(/[\s(,[]/).pop() ?? '';
    const names = this.runtime ? this.rt.runner.env().names() : [];
    const items = [...COMPLETIONS.map((c) => ({ label: c.label, detail: c.detail })), ...names.map((n) => ({ label: n, detail: 'name' })),
      ...LAYOUT_REGS.map((n) => ({ label: n, detail: 'register' }))].filter((c) => c.label.toLowerCase().startsWith(prefix.toLowerCase()));
    response.body = { targets: items.map((c) => ({ label: c.label, detail: c.detail, start: (args.column ?? 1) - 1 - prefix.length, length: prefix.length })) };
    this.sendResponse(response);
  }

  // ---- memory and disassembly ------------------------------------------------------------------------

  private parseRef(ref: string): { view: 'cpu' | 'poc' | 'smmu'; addr: number } | undefined {
    const m = /^(cpu|poc|smmu):(0x[0-9a-f]+|\d+)$/i.exec(ref.trim());
    if (!m) return undefined;
    return { view: m[1].toLowerCase() as 'cpu' | 'poc' | 'smmu', addr: Number(m[2]) };
  }

  protected override readMemoryRequest(response: DebugProtocol.ReadMemoryResponse, args: DebugProtocol.ReadMemoryArguments): void {
    const ref = this.parseRef(args.memoryReference);
    if (!ref || !this.runtime) {
      this.sendErrorResponse(response, 3060, `bad memory reference '${args.memoryReference}': expected cpu:ADDR, poc:ADDR or smmu:ADDR`);
      return;
    }
    const addr = ref.addr + (args.offset ?? 0);
    const count = Math.max(0, Math.min(args.count, MAX_READ));
    if (addr < 0 || addr + count > 2 ** 52) {
      response.body = { address: hex(Math.max(addr, 0)), unreadableBytes: count };
      this.sendResponse(response);
      return;
    }
    const mem = this.rt.runner.state.machine.mem;
    const bytes = ref.view === 'cpu' ? mem.cpuRead(addr, count) : ref.view === 'poc' ? mem.pocRead(addr, count) : mem.smmuRead(addr, count);
    response.body = { address: hex(addr), data: bytesToBase64(bytes), unreadableBytes: args.count - count };
    this.sendResponse(response);
  }

  protected override writeMemoryRequest(response: DebugProtocol.WriteMemoryResponse, args: DebugProtocol.WriteMemoryArguments): void {
    const ref = this.parseRef(args.memoryReference);
    if (!ref || !this.runtime) {
      this.sendErrorResponse(response, 3061, `bad memory reference '${args.memoryReference}'`);
      return;
    }
    const data = base64ToBytes(args.data);
    const addr = ref.addr + (args.offset ?? 0);
    if (addr < 0 || addr + data.length > 2 ** 52) {
      this.sendErrorResponse(response, 3062, 'the range is outside the 52-bit physical address space');
      return;
    }
    this.rt.edit((r) => {
      const m = r.runner.state.machine;
      // The CPU view takes CPU stores (through its cache); PoC and SMMU views are written at PoC.
      if (ref.view === 'cpu') m.write(addr, data);
      else m.mem.poc.write(addr, data);
    });
    response.body = { bytesWritten: data.length };
    this.sendResponse(response);
    this.sendEvent(new InvalidatedEvent(['variables']));
  }

  protected override disassembleRequest(response: DebugProtocol.DisassembleResponse, args: DebugProtocol.DisassembleArguments): void {
    if (this.noScenario(response)) return;
    const rt = this.rt;
    const trace = rt.runner.results.trace.filter((t) => t.kind === 'op' || t.kind === 'note');
    const at = Number(args.memoryReference) + (args.offset ?? 0);
    if (!Number.isFinite(at)) {
      this.sendErrorResponse(response, 3063, `bad memory reference '${args.memoryReference}': expected a micro-operation number (an instructionPointerReference)`);
      return;
    }
    let idx = trace.findIndex((t) => t.op >= at);
    if (idx < 0) idx = trace.length;
    const first = idx + (args.instructionOffset ?? 0);
    const steps = rt.program.steps;
    const out: DebugProtocol.DisassembledInstruction[] = [];
    for (let i = first; i < first + args.instructionCount; i++) {
      const t = trace[i];
      if (!t) {
        out.push({ address: hex(i < 0 ? 0 : (trace[trace.length - 1]?.op ?? 0) + (i - trace.length) + 1), instruction: '', presentationHint: 'invalid' });
        continue;
      }
      const step = steps[t.step];
      out.push({
        address: hex(t.op), instruction: t.text, symbol: t.stack[t.stack.length - 1],
        location: step ? this.source(step.range.file) : undefined, line: step?.range.start.line,
      });
    }
    response.body = { instructions: out };
    this.sendResponse(response);
  }

  // ---- requests for the extension's views ------------------------------------------------------------

  protected override customRequest(command: string, response: DebugProtocol.Response, args: CustomArgs = {}): void {
    // The views ask on their own (also while a session ends): their errors are theirs to show, not notifications.
    const fail = (id: number, message: string): void => this.sendErrorResponse(response, id, message, undefined, ErrorDestination.Telemetry);
    if (!this.runtime) {
      fail(3070, 'no scenario is running');
      return;
    }
    switch (command) {
      case 'smmu/hazards':
        response.body = {
          hazards: this.rt.hazards.map((h) => {
            const step = this.rt.program.steps[h.step];
            return { rule: h.rule, severity: h.severity, title: h.title, message: h.message, file: step?.range.file, line: step?.range.start.line };
          }),
        };
        break;
      case 'smmu/scope': {
        // A scope by name, as a variablesReference the views expand with 'variables' requests.
        const v = this.scope().find((x) => x.name === args.name);
        if (!v) {
          fail(3072, `no scope '${args.name}'`);
          return;
        }
        response.body = { variablesReference: this.handle(v), value: v.value };
        break;
      }
      case 'smmu/walk': {
        const tx = walkTransaction(args);
        if (typeof tx === 'string') {
          fail(3073, tx);
          return;
        }
        response.body = walkPictures(this.rt.runner.state.machine, tx);
        break;
      }
      case 'smmu/cacheLines':
        response.body = { lines: cacheLines(this.rt.runner.state.machine) };
        break;
      case 'smmu/position':
        response.body = { statement: this.rt.current?.index, ops: this.rt.runner.ops, done: this.rt.done };
        break;
      default:
        fail(3071, `unknown request '${command}'`);
        return;
    }
    this.sendResponse(response);
  }
}

/** Arguments of the extension's custom requests. */
interface CustomArgs {
  /** smmu/scope: the scope's name. */
  name?: string;
  /** smmu/walk: the transaction. Numbers may be given as text ("0x1000"). */
  sid?: number | string;
  ssid?: number | string;
  iova?: number | string;
  access?: string;
}

const ACCESSES = ['read', 'write', 'exec'];

function walkTransaction(a: CustomArgs): Transaction | string {
  const num = (v: number | string | undefined, what: string): bigint | string => {
    if (v === undefined || v === '') return `smmu/walk needs '${what}'`;
    try {
      const n = BigInt(typeof v === 'number' ? Math.trunc(v) : v.replace(/_/g, '').trim());
      return n < 0n ? `${what} ${v} is negative` : n;
    } catch {
      return `${what} '${v}' is not a number (decimal or 0x hex)`;
    }
  };
  const sid = num(a.sid, 'sid');
  if (typeof sid === 'string') return sid;
  const ssid = a.ssid === undefined || a.ssid === '' ? undefined : num(a.ssid, 'ssid');
  if (typeof ssid === 'string') return ssid;
  const iova = num(a.iova, 'iova');
  if (typeof iova === 'string') return iova;
  if (sid >= 1n << 32n) return `sid ${a.sid} is wider than 32 bits`;
  if (ssid !== undefined && ssid >= 1n << 20n) return `ssid ${a.ssid} is wider than 20 bits`;
  if (iova >= 1n << 64n) return `iova ${a.iova} is wider than 64 bits`;
  const access = a.access ?? 'read';
  if (!ACCESSES.includes(access)) return `access '${access}' must be one of ${ACCESSES.join(', ')}`;
  return { sid: Number(sid), ssid: ssid === undefined ? undefined : Number(ssid), iova, access: access as Transaction['access'], priv: false };
}

const LAYOUTS = [STE, CD, L1STD, L1CD, ...REGISTERS];
const LAYOUT_REGS = REGISTERS.map((r) => r.name);

function bytesToBase64(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
}

function base64ToBytes(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
