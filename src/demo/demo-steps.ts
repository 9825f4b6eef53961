import { performance } from 'node:perf_hooks';
import type { FerryEvent } from '../core/progress-events.js';

// The demo's steps, in order, and the timer that runs each one: it emits a
// start and a done event (the CLI draws its table from these) and keeps the
// record that ends up in the report. The library never prints.

export const DEMO_STEPS = ['samples', 'source-registry', 'push', 'keygen', 'export', 'verify', 'target-registry', 'import', 'check', 'cleanup'] as const;
export type DemoStep = (typeof DEMO_STEPS)[number];

export interface StepRecord {
  step: DemoStep;
  /** One line: what the step did, with the numbers that matter. */
  what: string;
  /** Wall-clock milliseconds (informational only). */
  ms: number;
}

export type DemoEvent =
  | { type: 'step-start'; step: DemoStep }
  | { type: 'step-done'; record: StepRecord }
  /** Transfer progress of the push, export and import steps. */
  | { type: 'transfer'; step: DemoStep; event: FerryEvent };

export type DemoEventSink = (event: DemoEvent) => void;

export class StepTimer {
  readonly records: StepRecord[] = [];
  private readonly emit: DemoEventSink;

  constructor(emit: DemoEventSink) {
    this.emit = emit;
  }

  /** Runs one step; `work` returns its result and the line saying what it did. */
  async run<T>(step: DemoStep, work: () => Promise<{ result: T; what: string }>): Promise<T> {
    this.emit({ type: 'step-start', step });
    const started = performance.now();
    const { result, what } = await work();
    const record: StepRecord = { step, what, ms: Math.round(performance.now() - started) };
    this.records.push(record);
    this.emit({ type: 'step-done', record });
    return result;
  }

  /** A sink for one step's transfer events. */
  transfers(step: DemoStep): (event: FerryEvent) => void {
    return (event) => this.emit({ type: 'transfer', step, event });
  }
}

