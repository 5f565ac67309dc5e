export * from './once.js';
export * from './snapshots.js';
export * from './replay.js';
export * from './restore.js';
export * from './catch-up.js';
export * from './log-consumer.js';
export * from './restorable.js';
export * from './projection.js';
