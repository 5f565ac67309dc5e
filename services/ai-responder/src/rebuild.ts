import { snapshotRebuildMain } from '@support/service-kit';
import { projectionNamespace, type OfConversation, type Projection } from '@support/stream';
import { SERVICE } from './config.js';
import { learningProjection, responderProjection } from './domain/projection.js';

/**
 * Throws away this service's snapshots (the proposal consumer's and the
 * learning loop's) and recreates them from the log, each up to where its
 * consumer group stands.
 */
snapshotRebuildMain(
  SERVICE,
  [
    {
      group: 'learning',
      namespace: projectionNamespace(SERVICE, learningProjection),
      projection: learningProjection as unknown as Projection<OfConversation>,
    },
  ],
  responderProjection,
);
