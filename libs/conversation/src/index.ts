export * from './state.js';
export * from './evolve.js';
export * from './events.js';
export * from './desk-rules.js';
export * from './review.js';
export * from './projection.js';
