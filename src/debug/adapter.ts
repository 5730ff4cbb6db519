/**
 * The Debug Adapter: DAP requests in, runtime calls out, runtime stops back as events.
 * Runs inline in the extension host (desktop and web) and as a standalone program over
 * stdio (debugAdapter.ts) for other DAP clients.
 */
import {
  Breakpoint, BreakpointEvent, DebugSession, ErrorDestination, InitializedEvent, InvalidatedEvent, OutputEvent, Response, Scope as DapScope, Source, StackFrame,
  StoppedEvent, TerminatedEvent, Thread,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { findField, hex, requireField, setField } from '../arch/codec';
import { CD, L1CD } from '../arch/cd';
import { registerByName, REGISTERS } from '../arch/registers';
import { L1STD, STE } from '../arch/ste';
import { RULES } from '../check/rules';
import type { Transaction } from '../model/smmu/types';
import { hasErrors, SourceHost } from '../scenario/compiler';
import { formatDiagnostic } from '../scenario/diagnostics';
import { evaluate } from '../scenario/expr';
import { parseExpression } from '../scenario/parser';
import { Dump, dumpPlatform, dumpSetup, openDump } from '../dump/load';
import { registerMap } from '../dump/registers';
import { rawSpecFile } from '../dump/raw';
import { DumpError } from '../dump/source';
import { COMPLETIONS, conditionError, evaluateCondition, evaluateDebug } from './evaluate';
import { DataBreakpoint, EVENT_FILTERS, FunctionBreakpoint, HAZARD_PREFIX, Runtime, StopInfo, TranslateView } from './runtime';
import { cacheLines, walkPictures } from './pictures';
import { DEFAULT_REQUEST_TIMEOUT, launchOptionError } from './launchOptions';
import { compileForSession } from './session';
import { scopes, Var } from './variables';

export interface LaunchArguments extends DebugProtocol.LaunchRequestArguments {
  /** The scenario file (optional with a dump: it then runs on top of the dump's state). */
  program?: string;
  /** A memory dump to start from: an ELF core, and/or raw images as FILE@BASE, with the SMMU's registers. */
  core?: string | string[];
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
  /** Seconds a reverse-continue searches before giving up (default 30). */
  requestTimeout?: number;
  /** Print every micro-operation to the debug console (default: commands, events and hazards only). */
  trace?: boolean;
}

const CPU_THREAD = 1;
const SMMU_THREAD = 2;
const MAX_READ = 1 << 20;
/** Instructions and variables one request may ask for: a client's count of 2^53 must not build that many. */
const MAX_INSTRUCTIONS = 10_000;
const MAX_CHILDREN = 10_000;
/** Children decoded at most to find one by name that the client was not shown. */
const MAX_LOOKUP = 4096;

/** Requests that need a scenario to be running: before launch they are answered with an error. */
const NEEDS_RUN = new Set([
  'continue', 'next', 'stepIn', 'stepOut', 'stepBack', 'reverseContinue', 'pause', 'restart', 'stackTrace', 'scopes', 'variables',
  'setVariable', 'evaluate', 'readMemory', 'writeMemory', 'disassemble',
]);

/** Requests whose arguments the protocol requires: without an object there, the answer says so (not a TypeError). */
const NEEDS_ARGUMENTS = new Set([
  'setBreakpoints', 'setFunctionBreakpoints', 'setExceptionBreakpoints', 'setDataBreakpoints', 'dataBreakpointInfo',
  'continue', 'next', 'stepIn', 'stepOut', 'stepBack', 'reverseContinue', 'pause', 'stackTrace', 'scopes', 'variables',
  'setVariable', 'evaluate', 'readMemory', 'writeMemory', 'disassemble', 'completions', 'breakpointLocations',
]);

/** A line breakpoint as the client asked for it (kept across launches and restarts). */
interface SourceBreakpoint {
  readonly id: number;
  readonly line: number;
  readonly condition?: string;
  readonly hitCondition?: string;
}

/** A launch attribute naming one file or a list of them. */
function files(name: string, v: unknown): string[] {
  if (v === undefined) return [];
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) {
    throw new DumpError(`"${name}" must be a file path or a list of them, not ${JSON.stringify(v)?.slice(0, 60)}`);
  }
  return list;
}

export class SmmuDebugSession extends DebugSession {
  private runtime?: Runtime;
  private configured!: Promise<void>;
  private markConfigured!: () => void;
  private vars = new Map<number, Var>();
  /** The children handed out for each reference, by name (dataBreakpointInfo and setVariable look them up). */
  private shown = new Map<number, Map<string, Var>>();
  private nextVar = 1;
  private nextBreakpoint = 1;
  /** Stack frames handed out since the last stop: which thread each belongs to. */
  private frames = new Map<number, number>();
  private traceShown = 0;
  private showOps = false;
  /** Exception filters: the hazard rules until the client says otherwise (hazards are on by default). */
  private filters: string[] = RULES.map((r) => HAZARD_PREFIX + r.id);
  private sourceBreakpoints = new Map<string, SourceBreakpoint[]>();
  private functionBreakpoints: FunctionBreakpoint[] = [];
  private dataBreakpoints: DataBreakpoint[] = [];
  private running = false;
  /** The launch configuration, for a restart that does not give one. */
  private launchArgs?: LaunchArguments;

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
    // The initialized event follows the launch, once the scenario is compiled: breakpoints
    // that come after it are checked against its statements at once.
    this.sendResponse(response);
  }

  /** Requests before launch are answered with an error; an exception in a handler with its message. */
  protected override dispatchRequest(request: DebugProtocol.Request): void {
    const args: unknown = request.arguments;
    if (NEEDS_ARGUMENTS.has(request.command) && (typeof args !== 'object' || args === null || Array.isArray(args))) {
      this.sendErrorResponse(new Response(request), 3098, `'${request.command}' needs its arguments as an object (the Debug Adapter Protocol's ${request.command} arguments), not ${JSON.stringify(args) ?? 'nothing'}`);
      return;
    }
    if (!this.runtime && NEEDS_RUN.has(request.command)) {
      this.sendErrorResponse(new Response(request), 3000, `no scenario is running: '${request.command}' needs a running scenario: launch one first`);
      return;
    }
    super.dispatchRequest(request);
  }

  protected override sendErrorResponse(response: DebugProtocol.Response, codeOrMessage: number | DebugProtocol.Message, format?: string,
    variables?: Record<string, string>, dest?: number): void {
    // The base class reports an exception thrown by a handler as its stack trace; say what failed instead.
    if (codeOrMessage === 1104 && variables?._exception !== undefined) {
      super.sendErrorResponse(response, 3099, `${response.command} failed: ${variables._exception.replace(/[{}]/g, '')}`);
      return;
    }
    // The base class reads "{name}" in a message as a placeholder to look up in `variables`, and
    // throws when there are none; messages here quote what the client sent (JSON, expressions),
    // braces and all. With an empty table every brace is kept as written.
    const message = typeof codeOrMessage === 'object' ? { ...codeOrMessage, variables: codeOrMessage.variables ?? {} } : codeOrMessage;
    super.sendErrorResponse(response, message, format, variables ?? {}, dest);
  }

  protected override configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): void {
    this.sendResponse(response);
    this.markConfigured();
  }

  protected override async launchRequest(response: DebugProtocol.LaunchResponse, args: LaunchArguments): Promise<void> {
    if (this.runtime) {
      this.sendErrorResponse(response, 3004, 'a scenario is already running: restart it, or disconnect first');
      return;
    }
    let rt: Runtime | undefined;
    try {
      rt = this.load(response, args);
    } catch (e) {
      // An async handler: the base class would not catch this, and the launch would go unanswered.
      this.sendErrorResponse(response, 3099, `launch failed: ${(e as Error)?.message ?? String(e)}`);
      return;
    }
    if (!rt) return;
    this.sendEvent(new InitializedEvent());
    this.sendResponse(response);
    await this.configured;
    // Through drive: a run to the first stop goes in slices, so pause gets in and a slice is not a stop.
    this.drive(() => rt.start(this.stopsOnEntry(args)));
  }

  /** A dump without a scenario has nothing to run: it stops at once so its tables can be browsed. */
  private stopsOnEntry(args: LaunchArguments): boolean {
    return args.stopOnEntry === true || !args.program;
  }

  /** The dump a launch configuration names, if any (paths relative to the program when it has one). */
  // (core: several files are the parts of a makedumpfile --split dump.)
  private launchDump(args: LaunchArguments): Dump | undefined {
    if (args.core === undefined && args.raw === undefined) return undefined;
    const host = this.host;
    if (!host.readBinary) throw new DumpError('this debugger cannot read files: a dump cannot be opened here');
    const at = (p: string): string => (args.program ? host.resolve(args.program, p) : p);
    // Of FILE@BASE only the file is a path (resolving the whole may encode the @ in a URI).
    const atRaw = (r: string): string => {
      const file = rawSpecFile(r);
      return at(file) + r.slice(file.length);
    };
    return openDump({
      core: files('core', args.core).map(at),
      raw: files('raw', args.raw).map(atRaw),
      registers: registerMap(args.registers),
    }, (path) => {
      const src = host.readBinary!(path);
      if (!src) throw new DumpError(`cannot open the dump ${path}`);
      return src;
    });
  }

  /**
   * Compile the scenario (on a dump, if one is named) and make a runtime for it with the
   * breakpoints set so far; on a problem, answer `response` with an error that says where
   * (file:line:col) and what.
   */
  private load(response: DebugProtocol.Response, args: LaunchArguments | undefined): Runtime | undefined {
    const needProgram = 'launch needs "program": the path of a .smmu scenario (or a dump: "core" or "raw", with "registers")';
    if (!args) {
      this.sendErrorResponse(response, 3001, needProgram);
      return undefined;
    }
    const badOption = launchOptionError(args);
    if (badOption) {
      this.sendErrorResponse(response, 3006, `the launch configuration is wrong: ${badOption}`);
      return undefined;
    }
    let dump: Dump | undefined;
    try {
      dump = this.launchDump(args);
    } catch (e) {
      if (!(e instanceof DumpError)) throw e;
      this.sendErrorResponse(response, 3005, `cannot open the dump: ${e.message}`);
      return undefined;
    }
    if ((typeof args.program !== 'string' || args.program === '') && !dump) {
      this.sendErrorResponse(response, 3001, needProgram);
      return undefined;
    }
    const text = args.program ? this.host.read(args.program) : '';
    if (text === undefined) {
      this.sendErrorResponse(response, 3002, `cannot read the scenario ${args.program}: no such file, or it cannot be read`);
      return undefined;
    }
    const compiled = compileForSession(args.program ?? '', text, this.host, dump ? { platform: dumpPlatform(dump) } : {});
    const program = dump ? { ...compiled, setup: dumpSetup(dump) } : compiled;
    for (const d of program.diagnostics) this.sendEvent(new OutputEvent(formatDiagnostic(d) + '\n', 'stderr'));
    if (hasErrors(program)) {
      const errors = program.diagnostics.filter((d) => d.severity === 'error');
      const more = errors.length > 1 ? ` (and ${errors.length - 1} more error${errors.length > 2 ? 's' : ''}, in the debug console)` : '';
      this.sendErrorResponse(response, 3003, `the scenario has errors: ${formatDiagnostic(errors[0])}${more}`);
      return undefined;
    }
    const memory = { ...program.platform.memory };
    if (typeof args.coherent === 'boolean') memory.coherent = args.coherent;
    if (typeof args.lineSize === 'number') memory.lineSize = args.lineSize;
    if (args.wbGranule !== undefined) memory.writebackGranule = args.wbGranule;
    const platformed = { ...program, platform: { ...program.platform, memory } };
    const rt = new Runtime(platformed, {
      check: args.check !== false,
      limits: { maxOps: args.maxOps ?? 20_000_000, maxPages: args.maxPages ?? 1_000_000 },
      checkOptions: args.observableBound ? { bound: args.observableBound } : {},
    });
    rt.sliceOps = 20_000;
    rt.requestTimeout = args.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT;
    rt.filters = new Set(this.filters);
    // Hits are positions in a run: a new run starts counting afresh.
    for (const b of [...this.functionBreakpoints, ...this.dataBreakpoints]) b.hits.clear();
    rt.functions = this.functionBreakpoints;
    rt.data = this.dataBreakpoints;
    rt.condition = (expr) => this.conditionHolds(expr);
    this.runtime = rt;
    this.launchArgs = args;
    this.showOps = args.trace === true;
    this.traceShown = 0;
    // Line breakpoints set before the launch are checked against the statements now.
    for (const [file, bps] of this.sourceBreakpoints) {
      for (const bp of this.installLines(file, bps)) this.sendEvent(new BreakpointEvent('changed', bp));
    }
    return rt;
  }

  private get rt(): Runtime {
    if (!this.runtime) throw new Error('no scenario is running: launch one first');
    return this.runtime;
  }

  /** A breakpoint condition (see evaluateCondition). One that cannot be evaluated stops, and says why. */
  private conditionHolds(expr: string): boolean {
    const c = evaluateCondition(expr, this.evalContext());
    if (!('error' in c)) return c.value;
    this.sendEvent(new OutputEvent(`breakpoint condition '${expr}' cannot be evaluated (${c.error}): stopping\n`, 'important'));
    return true;
  }

  // ---- running ------------------------------------------------------------------------------------

  /** Run a stepping function in slices, so requests (pause) get in between; then report the stop. */
  private drive(step: () => StopInfo): void {
    this.running = true;
    const owner = this.runtime;
    const slice = (): void => {
      const rt = this.runtime;
      // Disconnected, or restarted with a new runtime (which drives its own run): this run is over.
      if (!rt || rt !== owner) return;
      if (rt.takePause()) {
        this.running = false;
        this.report({ reason: 'pause', description: 'paused' });
        return;
      }
      let stop: StopInfo;
      try {
        stop = step();
      } catch (e) {
        // A fault of the engine itself (not of the scenario): show it and stop where the run is, do not take the adapter down.
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
    this.shown.clear();
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
    // A hazard or event is also told in the debug console, with its explanation: hazards and errors in red
    // ('important' would also raise a notification each time, and the exception widget already shows it).
    if (stop.exception) {
      const bad = stop.exception.filter === 'error' || stop.exception.filter.startsWith(HAZARD_PREFIX);
      this.sendEvent(new OutputEvent(`stopped: ${stop.description}: ${stop.exception.details}\n`, bad ? 'stderr' : 'console'));
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

  protected override continueRequest(response: DebugProtocol.ContinueResponse): void {
    response.body = { allThreadsContinued: true };
    this.sendResponse(response);
    this.drive(() => this.rt.continue());
  }

  protected override nextRequest(response: DebugProtocol.NextResponse, args: DebugProtocol.NextArguments): void {
    this.sendResponse(response);
    this.drive(() => (args.granularity === 'instruction' ? this.rt.stepIn() : this.rt.next()));
  }

  protected override stepInRequest(response: DebugProtocol.StepInResponse): void {
    this.sendResponse(response);
    this.drive(() => this.rt.stepIn());
  }

  protected override stepOutRequest(response: DebugProtocol.StepOutResponse): void {
    this.sendResponse(response);
    // The depth to leave is the one now, not where a later slice of the run resumes.
    const depth = this.rt.runner.stack.length;
    this.drive(() => this.rt.stepOut(depth));
  }

  protected override stepBackRequest(response: DebugProtocol.StepBackResponse, args: DebugProtocol.StepBackArguments): void {
    this.sendResponse(response);
    this.report(this.rt.stepBack(args.granularity === 'instruction' ? 'op' : 'statement'));
  }

  protected override reverseContinueRequest(response: DebugProtocol.ReverseContinueResponse): void {
    this.sendResponse(response);
    this.report(this.rt.reverseContinue());
  }

  protected override pauseRequest(response: DebugProtocol.PauseResponse): void {
    this.sendResponse(response);
    if (this.running) this.rt.requestPause();
    else this.report({ reason: 'pause', description: 'paused' });
  }

  /** Start again: the scenario is read and compiled again (it may have been edited); breakpoints stay. */
  protected override restartRequest(response: DebugProtocol.RestartResponse, args: DebugProtocol.RestartArguments): void {
    const launch = (args?.arguments ?? this.launchArgs) as LaunchArguments | undefined;
    const rt = this.load(response, launch);
    if (!rt) return;
    this.sendResponse(response);
    this.sendEvent(new OutputEvent('restarted\n', 'console'));
    this.drive(() => rt.start(this.stopsOnEntry(launch!)));
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
    const file = args.source?.path;
    if (!file) {
      this.sendErrorResponse(response, 3011, 'setBreakpoints needs source.path: the scenario file');
      return;
    }
    const requested: DebugProtocol.SourceBreakpoint[] = args.breakpoints ?? (args.lines ?? []).map((line) => ({ line }));
    const bps = requested.map((b) => ({ id: this.nextBreakpoint++, line: b.line, condition: b.condition, hitCondition: b.hitCondition }));
    this.sourceBreakpoints.set(file, bps);
    response.body = { breakpoints: this.installLines(file, bps) };
    this.sendResponse(response);
  }

  /**
   * Line breakpoints of a file in the runtime: each moved to the next line that holds a
   * statement (as a compiler's line table would), unverified when there is none or when its
   * condition is not one (rather than silently "always true").
   */
  private installLines(file: string, bps: readonly SourceBreakpoint[]): DebugProtocol.Breakpoint[] {
    const rt = this.runtime;
    if (!rt) return bps.map((b) => ({ id: b.id, verified: false, line: b.line, message: 'set when the scenario starts' }));
    const lines = this.statementLines(file);
    rt.lines = rt.lines.filter((b) => b.file !== file);
    return bps.map((b) => {
      const line = lines.find((l) => l >= b.line);
      const bp = new Breakpoint(line !== undefined, line ?? b.line) as DebugProtocol.Breakpoint;
      bp.id = b.id;
      const bad = b.condition?.trim() ? conditionError(b.condition) : undefined;
      if (line === undefined) {
        bp.message = lines.length ? 'no statement on or after this line' : 'this file holds no statement of the scenario';
      } else if (bad) {
        bp.verified = false;
        bp.message = `the condition is not a scenario expression or comparison: ${bad} (it stops where it is true, or not zero)`;
      } else rt.lines.push({ id: b.id, file, line, condition: b.condition, hitCondition: b.hitCondition, hits: new Set() });
      return bp;
    });
  }

  protected override breakpointLocationsRequest(response: DebugProtocol.BreakpointLocationsResponse, args: DebugProtocol.BreakpointLocationsArguments): void {
    const end = args.endLine ?? args.line;
    response.body = { breakpoints: this.statementLines(args.source.path ?? '').filter((l) => l >= args.line && l <= end).map((line) => ({ line })) };
    this.sendResponse(response);
  }

  protected override setFunctionBreakPointsRequest(response: DebugProtocol.SetFunctionBreakpointsResponse, args: DebugProtocol.SetFunctionBreakpointsArguments): void {
    const out: DebugProtocol.Breakpoint[] = [];
    const list = (args.breakpoints ?? []).map((b) => {
      const id = this.nextBreakpoint++;
      out.push({ id, verified: true, message: `stops when the driver enters ${b.name}` });
      return { id, name: b.name.trim(), condition: b.condition, hitCondition: b.hitCondition, hits: new Set<number>() };
    });
    this.functionBreakpoints = list;
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
    this.filters = ids;
    if (this.runtime) this.runtime.filters = new Set(ids);
    response.body = { breakpoints: ids.map(() => ({ verified: true })) };
    this.sendResponse(response);
  }

  protected override dataBreakpointInfoRequest(response: DebugProtocol.DataBreakpointInfoResponse, args: DebugProtocol.DataBreakpointInfoArguments): void {
    let ref: string | undefined;
    let type: string | undefined;
    if (args.variablesReference !== undefined && args.variablesReference !== 0) {
      // A child the client was shown; or, when it asks without having listed them, one of the first children.
      const children = this.vars.get(args.variablesReference)?.children;
      const v = this.shown.get(args.variablesReference)?.get(args.name) ??
        children?.get(0, Math.min(children.indexed ?? MAX_LOOKUP, MAX_LOOKUP)).find((c) => c.name === args.name);
      ref = v?.memoryReference;
      type = v?.type;
    } else {
      const r = this.runtime ? evaluateDebug(args.name, this.evalContext()) : undefined;
      ref = r && 'memoryReference' in r ? r.memoryReference : undefined;
      type = r && 'var' in r ? r.var?.type : undefined;
      // A plain expression (a number, a region, `ste_addr(5) + 8`) is an address.
      if (!ref && r && !('error' in r) && !r.var) ref = this.addressOf(args.name);
    }
    // A whole STE or CD is watched (any qword); anything else is one qword.
    const len = type === STE.title || type === CD.title ? 64 : 8;
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

  private addressOf(expr: string): string | undefined {
    const p = parseExpression(expr);
    if ('error' in p) return undefined;
    try {
      const v = evaluate(p.expr, this.rt.runner.env());
      return v >= 0n && v < 2n ** 52n ? `cpu:${hex(v)}` : undefined;
    } catch {
      return undefined;
    }
  }

  protected override setDataBreakpointsRequest(response: DebugProtocol.SetDataBreakpointsResponse, args: DebugProtocol.SetDataBreakpointsArguments): void {
    const out: DebugProtocol.Breakpoint[] = [];
    const list: DataBreakpoint[] = [];
    for (const b of args.breakpoints ?? []) {
      const m = /^(0x[0-9a-f]+|\d+):(\d+)$/i.exec(b.dataId ?? '');
      const id = this.nextBreakpoint++;
      if (!m) {
        out.push({ id, verified: false, message: `bad data breakpoint id '${b.dataId}': expected ADDRESS:LENGTH from dataBreakpointInfo` });
        continue;
      }
      out.push({ id, verified: true });
      list.push({ id, addr: Number(m[1]), len: Number(m[2]), access: b.accessType ?? 'write', condition: b.condition, hitCondition: b.hitCondition, hits: new Set() });
    }
    this.dataBreakpoints = list;
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

  /**
   * Integer arguments (indices, counts, offsets) checked before use: another client may send a
   * fraction or a negative count, which is refused by name rather than tripping the handler.
   * `counts` must be ≥ 0; `offsets` may be negative.
   */
  private integers(response: DebugProtocol.Response, args: object, counts: readonly string[], offsets: readonly string[] = []): boolean {
    for (const name of [...counts, ...offsets]) {
      const v = (args as Record<string, unknown>)[name];
      if (v === undefined) continue;
      const count = counts.includes(name);
      if (typeof v !== 'number' || !Number.isInteger(v) || (count && v < 0)) {
        this.sendErrorResponse(response, 3032, `${response.command}: ${name} must be ${count ? 'a whole number ≥ 0' : 'a whole number'}, not ${JSON.stringify(v)}`);
        return false;
      }
    }
    return true;
  }

  protected override stackTraceRequest(response: DebugProtocol.StackTraceResponse, args: DebugProtocol.StackTraceArguments): void {
    if (args.threadId !== CPU_THREAD && args.threadId !== SMMU_THREAD) {
      this.sendErrorResponse(response, 3021, `unknown thread ${args.threadId}: the threads are ${CPU_THREAD} (CPU) and ${SMMU_THREAD} (SMMU)`);
      return;
    }
    if (!this.integers(response, args, ['startFrame', 'levels'])) return;
    const frames = args.threadId === SMMU_THREAD ? this.smmuFrames() : this.cpuFrames();
    const start = args.startFrame ?? 0;
    const count = args.levels && args.levels > 0 ? args.levels : frames.length;
    response.body = { stackFrames: frames.slice(start, start + count), totalFrames: frames.length };
    this.sendResponse(response);
  }

  private frame(thread: number, name: string, file: string | undefined, line: number, col: number, ip?: string): DebugProtocol.StackFrame {
    const id = this.frames.size + 1;
    this.frames.set(id, thread);
    const f = new StackFrame(id, name, file ? this.source(file) : undefined, line, col) as DebugProtocol.StackFrame;
    if (ip) f.instructionPointerReference = ip;
    if (thread === SMMU_THREAD) f.presentationHint = 'subtle';
    return f;
  }

  /**
   * The CPU thread, innermost first: the micro-operation just performed, the driver
   * functions it is in, the scenario statement. Between statements: the statement about to
   * run — or, for a hazard found as a statement ended, that statement. At the end: the end,
   * shown at the last statement when a hazard found then stopped the run.
   */
  private cpuFrames(): DebugProtocol.StackFrame[] {
    const rt = this.rt;
    const r = rt.runner;
    const out: DebugProtocol.StackFrame[] = [];
    const last = rt.lastStop;
    const about = !r.inStatement && last?.step !== undefined ? rt.program.steps[last.step] : undefined;
    const step = last?.atEnd ? undefined : about ?? rt.current;
    if (!step) {
      const name = rt.program.file ? 'end of scenario' : 'dump (no scenario)';
      return [this.frame(CPU_THREAD, name, about?.range.file ?? rt.program.file, about?.range.start.line ?? 1, about?.range.start.col ?? 1)];
    }
    const { file, start } = step.range;
    if (r.inStatement && rt.lastOp && rt.lastOpText !== undefined) {
      out.push(this.frame(CPU_THREAD, rt.lastOpText, file, start.line, start.col, hex(rt.lastOp.seq)));
    }
    if (r.inStatement) for (const fn of [...r.stack].reverse()) out.push(this.frame(CPU_THREAD, fn, file, start.line, start.col));
    const text = step.text.length > 60 ? step.text.slice(0, 57) + '…' : step.text;
    out.push(this.frame(CPU_THREAD, about ? `${text} (finished)` : text, file, start.line, start.col, hex(r.ops)));
    return out;
  }

  /** The SMMU thread: its last translation (the walk, innermost first, then what it fetched), or its last fetches. */
  private smmuFrames(): DebugProtocol.StackFrame[] {
    const v = this.rt.smmu;
    const f = (name: string): DebugProtocol.StackFrame => this.frame(SMMU_THREAD, name, undefined, 0, 0);
    if (!v) return [f('idle: no fetch or transaction yet')];
    if (v.kind === 'fetch') {
      return [...v.fetches].reverse().map((x) => f(`fetch ${x.what.toUpperCase()}${x.sid !== undefined ? ` of StreamID ${hex(x.sid)}` : ''}` +
        `${x.ssid !== undefined ? `:${x.ssid}` : ''} at ${hex(x.addr)} (no transaction: a command or prefetch)`));
    }
    const r = v.result;
    return [
      ...[...r.walk].reverse().map((w) => f(`stage ${w.stage} level ${w.level}: ${hex(w.desc, 16)} at ${hex(w.descAddr)} (${w.type}${w.source === 'walk-cache' ? ', walk cache' : ''})`)),
      ...[...r.config].reverse().map((c) => f(`${c.what.toUpperCase()} ${c.source === 'cache' ? '(cached)' : 'fetched'} at ${hex(c.addr)}`)),
      f(`${txText(v)}: ${r.outcome}${r.pa !== undefined ? ' → ' + hex(r.pa) : ''}${r.event ? ` (${r.event.name})` : ''}${r.tlbHit ? ', TLB hit' : ''}`),
    ];
  }

  private handle(v: Var): number {
    if (!v.children) return 0;
    const id = this.nextVar++;
    this.vars.set(id, v);
    return id;
  }

  private scope(): ReturnType<typeof scopes> {
    const v = this.rt.lastWalk;
    return scopes({ machine: this.rt.runner.state.machine, hazards: this.rt.hazards, lastTranslation: v ? { tx: txText(v), result: v.result } : undefined });
  }

  /** A frame id from this stop, or an error answered. */
  private checkFrame(response: DebugProtocol.Response, frameId: number | undefined): boolean {
    if (frameId === undefined || this.frames.has(frameId)) return true;
    // VS Code may still ask with a frame of the previous stop while it catches up: an answer, not a notification.
    this.sendErrorResponse(response, 3022, `unknown frame id ${frameId}: frame ids are valid until the run moves (ask for the stack trace again)`,
      undefined, ErrorDestination.Telemetry);
    return false;
  }

  protected override scopesRequest(response: DebugProtocol.ScopesResponse, args: DebugProtocol.ScopesArguments): void {
    if (!this.checkFrame(response, args.frameId)) return;
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
      // Like a stale frame id: VS Code may still expand a variable of the previous stop. An answer, not a notification.
      this.sendErrorResponse(response, 3030, `unknown variablesReference ${args.variablesReference} (variables are valid until the next step)`,
        undefined, ErrorDestination.Telemetry);
      return;
    }
    if (!this.integers(response, args, ['start', 'count'])) return;
    const indexed = v.children.indexed !== undefined;
    const start = args.start ?? 0;
    const count = Math.min(args.count && args.count > 0 ? args.count : indexed ? Math.min(v.children.indexed!, 1000) : 100_000, MAX_CHILDREN);
    const children = v.children.get(start, count);
    let names = this.shown.get(args.variablesReference);
    if (!names) this.shown.set(args.variablesReference, (names = new Map()));
    for (const c of children) names.set(c.name, c);
    response.body = { variables: children.map((c) => this.toDap(c)) };
    this.sendResponse(response);
  }

  /**
   * Edit a field of a decoded entry, or a raw word: a CPU store of the changed qword,
   * recorded at this position of the run (stepping back before it undoes it).
   */
  protected override setVariableRequest(response: DebugProtocol.SetVariableResponse, args: DebugProtocol.SetVariableArguments): void {
    const parent = this.vars.get(args.variablesReference);
    if (!parent) {
      this.sendErrorResponse(response, 3030, `cannot set ${args.name}: unknown variablesReference ${args.variablesReference} (variables are valid until the next step)`,
        undefined, ErrorDestination.Telemetry);
      return;
    }
    // A field of an entry (its words give the address), or a qword of its words.
    const words = this.shown.get(args.variablesReference)?.get('words');
    const addrText = words?.memoryReference ?? parent.memoryReference;
    const layoutTitle = parent.type;
    try {
      if (!addrText || !addrText.startsWith('cpu:')) throw new Error('only the fields and qwords of a decoded entry (as the CPU sees it) can be set');
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
    if (!this.checkFrame(response, args.frameId)) return;
    const r = evaluateDebug(args.expression ?? '', this.evalContext());
    if ('error' in r) {
      // The console and watch show the message; a hover over a word that is not an expression must not raise a notification.
      this.sendErrorResponse(response, 3051, r.error, undefined, ErrorDestination.Telemetry);
      return;
    }
    response.body = {
      result: r.value, variablesReference: r.var ? this.handle(r.var) : 0, memoryReference: r.memoryReference,
      indexedVariables: r.var?.children?.indexed,
    };
    this.sendResponse(response);
  }

  protected override completionsRequest(response: DebugProtocol.CompletionsResponse, args: DebugProtocol.CompletionsArguments): void {
    // Columns as the debugger counts them (from 1); the cursor is before column `col`.
    const col = args.column !== undefined ? this.convertClientColumnToDebugger(args.column) : args.text.length + 1;
    const before = args.text.slice(0, col - 1);
    let prefix: string;
    let items: { label: string; detail: string }[];
    // After `ste[…].`, `cd[…][…].` or `REGISTER.`: the fields of that structure.
    const field = /(?:(ste)\s*\[[^\]]*\]|(cd)\s*\[[^\]]*\]\s*\[[^\]]*\]|\b(\w+))\s*\.(\w*)$/i.exec(before);
    const layout = field && (field[1] ? STE : field[2] ? CD : field[3] ? registerByName(field[3]) : undefined);
    if (field && layout) {
      prefix = field[4];
      items = layout.fields.filter((f) => f.kind !== 'reserved').map((f) => ({ label: f.name, detail: f.meaning ?? '' }));
    } else {
      prefix = before.split(/[\s(,[]/).pop() ?? '';
      const names = this.runtime ? this.rt.runner.env().names() : [];
      items = [...COMPLETIONS.map((c) => ({ label: c.label, detail: c.detail })), ...names.map((n) => ({ label: n, detail: 'name' })),
        ...LAYOUT_REGS.map((n) => ({ label: n, detail: 'register' }))];
    }
    // The word's offset in `text`, counted from 0 whatever columnsStartAt1 says: VS Code reads `start` that way
    // (text.substring(start, start + length) prefixes its filter text), and a start one too far hides every item.
    const start = col - 1 - prefix.length;
    const matching = items.filter((c) => c.label.toLowerCase().startsWith(prefix.toLowerCase()));
    response.body = { targets: matching.map((c) => ({ label: c.label, detail: c.detail, start, length: prefix.length })) };
    this.sendResponse(response);
  }

  // ---- memory and disassembly ------------------------------------------------------------------------

  private parseRef(ref: string): { view: 'cpu' | 'poc' | 'smmu'; addr: number } | undefined {
    const m = /^(cpu|poc|smmu):(0x[0-9a-f]+|\d+)$/i.exec(ref.trim());
    if (!m) return undefined;
    return { view: m[1].toLowerCase() as 'cpu' | 'poc' | 'smmu', addr: Number(m[2]) };
  }

  protected override readMemoryRequest(response: DebugProtocol.ReadMemoryResponse, args: DebugProtocol.ReadMemoryArguments): void {
    const ref = this.parseRef(args.memoryReference ?? '');
    if (!ref) {
      this.sendErrorResponse(response, 3060, `bad memory reference '${args.memoryReference}': expected cpu:ADDR, poc:ADDR or smmu:ADDR`);
      return;
    }
    if (!this.integers(response, args, ['count'], ['offset'])) return;
    const addr = ref.addr + (args.offset ?? 0);
    const count = Math.min(args.count ?? 0, MAX_READ);
    if (addr < 0 || addr + count > 2 ** 52) {
      response.body = { address: hex(Math.max(addr, 0)), unreadableBytes: count };
      this.sendResponse(response);
      return;
    }
    const mem = this.rt.runner.state.machine.mem;
    const bytes = ref.view === 'cpu' ? mem.cpuRead(addr, count) : ref.view === 'poc' ? mem.pocRead(addr, count) : mem.smmuRead(addr, count);
    response.body = { address: hex(addr), data: bytesToBase64(bytes), unreadableBytes: (args.count ?? 0) - count };
    this.sendResponse(response);
  }

  protected override writeMemoryRequest(response: DebugProtocol.WriteMemoryResponse, args: DebugProtocol.WriteMemoryArguments): void {
    const ref = this.parseRef(args.memoryReference ?? '');
    if (!ref) {
      this.sendErrorResponse(response, 3061, `bad memory reference '${args.memoryReference}': expected cpu:ADDR, poc:ADDR or smmu:ADDR`);
      return;
    }
    if (ref.view === 'smmu') {
      this.sendErrorResponse(response, 3063, 'the SMMU view is what the SMMU would read: write the CPU view (a CPU store) or PoC instead');
      return;
    }
    const data = base64ToBytes(args.data);
    if (!data) {
      this.sendErrorResponse(response, 3065, `writeMemory data '${String(args.data).slice(0, 40)}' is not base64`);
      return;
    }
    if (!this.integers(response, args, [], ['offset'])) return;
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
    const rt = this.rt;
    // Micro-operations are the instructions; an instruction's address is its sequence number in the run.
    if (!/^(0x[0-9a-f]+|\d+)$/i.test(args.memoryReference?.trim() ?? '')) {
      this.sendErrorResponse(response, 3064, `bad memory reference '${args.memoryReference}' for disassembly: expected a micro-operation number (a frame's instructionPointerReference)`);
      return;
    }
    if (!(Number.isSafeInteger(args.instructionCount) && args.instructionCount >= 0 && args.instructionCount <= MAX_INSTRUCTIONS)) {
      this.sendErrorResponse(response, 3066, `disassemble asks for ${args.instructionCount} instructions: at most ${MAX_INSTRUCTIONS} at a time`);
      return;
    }
    if (!this.integers(response, args, [], ['offset', 'instructionOffset'])) return;
    const trace = rt.runner.results.trace.filter((t) => t.kind === 'op' || t.kind === 'note');
    const at = Number(args.memoryReference) + (args.offset ?? 0);
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
        // A page of the dirty lines (start, count ≤ 256) and their total.
        if (!this.integers(response, args, ['start', 'count'])) return;
        response.body = cacheLines(this.rt.runner.state.machine, args.start, args.count);
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
  /** smmu/cacheLines: the first line and how many (at most 256). */
  start?: number;
  count?: number;
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

/** A transaction as the SMMU thread and the Last walk scope name it. */
function txText(v: TranslateView): string {
  const tx = v.tx;
  return `DMA ${tx.access} SID ${hex(tx.sid)}${tx.ssid !== undefined ? ':' + hex(tx.ssid) : ''} IOVA ${hex(tx.iova)}${tx.priv ? ' priv' : ''}`;
}
const LAYOUT_REGS = REGISTERS.map((r) => r.name);

function bytesToBase64(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
}

/** The bytes of base64 text, or undefined when it is not base64 (any client may send anything). */
function base64ToBytes(s: string): Uint8Array | undefined {
  let bin: string;
  try {
    bin = atob(s);
  } catch {
    return undefined;
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
