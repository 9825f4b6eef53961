// src/demo: `ferry demo`, the air-gap round trip on one machine with nothing
// but ferry. May import every library layer; prints nothing (the CLI does).
export { runDemo, type DemoOptions, type DemoReport } from './run-demo.js';
export { DEMO_STEPS, type DemoEvent, type DemoEventSink, type DemoStep, type StepRecord } from './demo-steps.js';
export type { ImageCheck } from './graph-check.js';
export { buildSampleImages, type SampleImage, type SampleSet } from './sample-images.js';
