import { readFileSync } from 'node:fs';
import { Controller, Get, Module, type DynamicModule } from '@nestjs/common';
import { parse as parseYaml } from 'yaml';

/** Where every service serves its OpenAPI document. */
export const OPENAPI_PATH = 'v1/openapi.json';

/** An OpenAPI 3.1 document, as parsed from YAML: only the parts the kit and the tests read are typed. */
export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; [key: string]: unknown };
  paths: Record<string, Record<string, unknown>>;
  components?: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

/**
 * The kit's own routes (OpsController's and this module's), the same in every
 * service: added to each service's document, so that its openapi.yaml
 * describes only the service's API. A service's document may describe one of
 * them itself; its own description wins.
 */
export const KIT_OPENAPI: Pick<OpenApiDocument, 'paths' | 'components'> = {
  paths: {
    '/health': {
      get: {
        summary: 'Whether the service can do its job',
        description:
          'Kafka consumers running, Redis answering, and the checks the service adds (e.g. PostgreSQL). No key needed.',
        tags: ['operations'],
        security: [],
        responses: {
          '200': {
            description: 'Healthy',
            content: {
              'application/json': { schema: { $ref: '#/components/schemas/ServiceHealth' } },
            },
          },
          '503': {
            description: 'A part is down (named in checks or consumers)',
            content: {
              'application/json': { schema: { $ref: '#/components/schemas/ServiceHealth' } },
            },
          },
        },
      },
    },
    '/health/ready': {
      get: {
        summary: 'Whether the service may take traffic (readiness)',
        description:
          'Redis answering, the checks the service adds, and every Kafka consumer joined once: a consumer joining again after a broker died keeps the service ready (HTTP serves; its records wait in Kafka). No key needed.',
        tags: ['operations'],
        security: [],
        responses: {
          '200': {
            description: 'Ready',
            content: {
              'application/json': { schema: { $ref: '#/components/schemas/ServiceHealth' } },
            },
          },
          '503': {
            description: 'Not ready (the part named in checks or consumers)',
            content: {
              'application/json': { schema: { $ref: '#/components/schemas/ServiceHealth' } },
            },
          },
        },
      },
    },
    '/health/live': {
      get: {
        summary: 'Whether the process lives (liveness)',
        description: 'The process answers and no consumer has stopped for good. No key needed.',
        tags: ['operations'],
        security: [],
        responses: {
          '200': {
            description: 'Alive',
            content: {
              'application/json': { schema: { $ref: '#/components/schemas/ServiceLiveness' } },
            },
          },
          '503': {
            description: 'A consumer stopped for good: restart the process',
            content: {
              'application/json': { schema: { $ref: '#/components/schemas/ServiceLiveness' } },
            },
          },
        },
      },
    },
    '/metrics': {
      get: {
        summary: 'Prometheus metrics',
        description: 'The Prometheus text exposition format. No key needed.',
        tags: ['operations'],
        security: [],
        responses: {
          '200': {
            description: 'Metrics',
            content: { 'text/plain': { schema: { type: 'string', minLength: 1 } } },
          },
        },
      },
    },
    [`/${OPENAPI_PATH}`]: {
      get: {
        summary: 'This document (OpenAPI 3.1, JSON)',
        tags: ['operations'],
        security: [],
        responses: {
          '200': {
            description: 'The OpenAPI document',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['openapi', 'info', 'paths'],
                  properties: {
                    openapi: { type: 'string', pattern: '^3\\.1\\.' },
                    info: {
                      type: 'object',
                      required: ['title', 'version'],
                      properties: { title: { type: 'string' }, version: { type: 'string' } },
                    },
                    paths: { type: 'object' },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
  components: {
    schemas: {
      ServiceCheck: { type: 'string', pattern: '^(ok|down(: .*)?)$' },
      ServiceHealth: {
        type: 'object',
        additionalProperties: false,
        required: ['status', 'service', 'checks', 'consumers'],
        properties: {
          status: { enum: ['ok', 'error'] },
          service: { type: 'string', minLength: 1 },
          checks: {
            description:
              '"ok", or "down: <reason>", per part (kafka, redis, and the service\'s own)',
            type: 'object',
            required: ['kafka', 'redis'],
            properties: {
              kafka: { $ref: '#/components/schemas/ServiceCheck' },
              redis: { $ref: '#/components/schemas/ServiceCheck' },
            },
            additionalProperties: { $ref: '#/components/schemas/ServiceCheck' },
          },
          consumers: {
            description: 'Each Kafka consumer group of the process and its state',
            type: 'object',
            additionalProperties: { $ref: '#/components/schemas/ConsumerStatus' },
          },
        },
      },
      ServiceLiveness: {
        type: 'object',
        additionalProperties: false,
        required: ['status', 'service', 'consumers'],
        properties: {
          status: { enum: ['ok', 'error'] },
          service: { type: 'string', minLength: 1 },
          consumers: {
            type: 'object',
            additionalProperties: { $ref: '#/components/schemas/ConsumerStatus' },
          },
        },
      },
      ConsumerStatus: {
        description:
          'starting: joining for the first time; running; rejoining: joining again after its stream failed; stopped; crashed: stopped for good',
        enum: ['starting', 'running', 'rejoining', 'stopped', 'crashed'],
      },
    },
  },
};

/** The service's document with the kit's routes and schemas added (the service's own win). */
export function withKitRoutes(document: OpenApiDocument): OpenApiDocument {
  const components = { ...document.components };
  for (const [section, entries] of Object.entries(KIT_OPENAPI.components ?? {}))
    components[section] = { ...entries, ...components[section] };
  return {
    ...document,
    paths: { ...KIT_OPENAPI.paths, ...document.paths },
    components,
  };
}

/**
 * Reads a service's `openapi.yaml` (YAML, aliases allowed) into JSON, with the kit's
 * routes added (KIT_OPENAPI). Throws when the file is
 * missing, is not YAML, or is not an OpenAPI 3.1 document with paths, so that a broken
 * document stops the service at start-up instead of serving nonsense.
 */
export function loadOpenApiDocument(file: string): OpenApiDocument {
  const doc = parseYaml(readFileSync(file, 'utf8'), { maxAliasCount: -1 }) as unknown;
  const d = doc as Partial<OpenApiDocument> | null;
  if (!d || typeof d !== 'object' || !/^3\.1\./.test(String(d.openapi)))
    throw new Error(`${file}: not an OpenAPI 3.1 document (openapi: 3.1.x)`);
  if (!d.info?.title || !d.info.version)
    throw new Error(`${file}: info.title and info.version are required`);
  if (!d.paths || typeof d.paths !== 'object') throw new Error(`${file}: paths is required`);
  return withKitRoutes(d as OpenApiDocument);
}

@Module({})
export class OpenApiModule {
  /**
   * Serves the service's OpenAPI document, read once here (at start-up), at
   * `GET /v1/openapi.json` and at any further `paths` (e.g. an older address).
   * Reading it needs no key. Import it beside ServiceKitModule:
   * `OpenApiModule.serve(join(__dirname, '..', 'openapi.yaml'))` from `src/app.module.ts`
   * (the same path from `dist/`).
   */
  static serve(file: string, paths: readonly string[] = []): DynamicModule {
    const document = loadOpenApiDocument(file);

    @Controller()
    class OpenApiController {
      @Get([OPENAPI_PATH, ...paths])
      document(): OpenApiDocument {
        return document;
      }
    }

    return { module: OpenApiModule, controllers: [OpenApiController] };
  }
}
