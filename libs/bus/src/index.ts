export * from './topics.js';
export * from './headers.js';
export * from './bus.js';
export * from './ids.js';
export * from './batching.js';
