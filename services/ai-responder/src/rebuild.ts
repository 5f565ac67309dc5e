import { snapshotRebuildMain } from '@support/service-kit';
import { SERVICE } from './config.js';
import { responderProjection } from './domain/projection.js';

/**
 * Throws away this service's snapshots (the proposal consumer's and the
 * learning loop's) and recreates them from the log, each up to where its
 * consumer group stands.
 */
snapshotRebuildMain(
  SERVICE,
  [{ group: 'learning', namespace: `${SERVICE}.learning` }],
  responderProjection,
);
