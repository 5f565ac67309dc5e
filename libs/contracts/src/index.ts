export * from './gen/support/v1/accounts_pb.js';
export * from './gen/support/v1/common_pb.js';
export * from './gen/support/v1/inbound_pb.js';
export * from './gen/support/v1/events_pb.js';
export * from './gen/support/v1/outbound_pb.js';
export * from './gen/support/v1/handoff_pb.js';
export * from './gen/support/v1/dead_letter_pb.js';
export * from './gen/support/v1/desk_pb.js';
export * from './gen/support/v1/knowledge_pb.js';
export * from './gen/support/v1/insights_pb.js';
export * from './gen/support/v1/directory_pb.js';
export * from './gen/support/v1/audit_pb.js';
export * from './gen/support/v1/policy_pb.js';
export * from './validation.js';
export * from './zod-issues.js';
export * from './events.js';
export { create, toBinary, fromBinary, toJson, fromJson } from '@bufbuild/protobuf';
export type { DescMessage, MessageShape, MessageInitShape, JsonValue } from '@bufbuild/protobuf';

/** The schema version every record carries in its `schema-version` header. */
export const SCHEMA_VERSION = 'support.v1';
