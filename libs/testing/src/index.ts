export * from './topic-watcher.js';
export * from './wait.js';
export * from './events.js';
export * from './service-rig.js';
export * from './redelivery.js';
export * from './fake-llm-server.js';
export * from './group-lag.js';
export * from './openapi.js';
