export * from './config.js';
export * from './logger.js';
export * from './once.js';
export * from './snapshots.js';
export * from './nest.js';
export * from './db.js';
export * from './log-consumer.js';
export * from './main.js';
