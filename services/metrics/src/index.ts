/**
 * What benchmarks and other tools use from the metrics service without starting it: the read
 * model's fold (the rebuild's), writing its rows, and the analysts' queries.
 */
export {
  foldEvents,
  ReadModelFold,
  applyConversationEvent,
  type FoldedReadModel,
  type ConversationRow,
  type HandoffRow,
  type ArticleRow,
} from './domain/read-model.js';
export { parseQuery, type MetricsQuery } from './domain/query.js';
export type * from './domain/api.js';
export {
  queryOverview,
  queryTimeseries,
  queryBreakdown,
  queryHandoffs,
  queryRules,
  queryTopics,
  queryChurnRisk,
} from './adapters/db/queries.js';
export { openMetricsDatabase, replaceAll, type MetricsDatabase } from './adapters/db/store.js';
export { rebuildReadModel } from './adapters/rebuild.js';
