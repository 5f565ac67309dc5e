export * from './kafka.js';
export * from './spans.js';
export { startTracing, stopTracing, tracingConfigured } from './start.js';
export { tracer, tracingEnabled } from './state.js';
export { installTestTracing } from './testing.js';
