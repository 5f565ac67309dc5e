import { snapshotRebuildMain } from '@support/service-kit';
import { SERVICE } from './config.js';
import { scorerProjection } from './domain/projection.js';

/** Throws away this service's snapshots and recreates them from the log. */
snapshotRebuildMain(SERVICE, [], scorerProjection);
