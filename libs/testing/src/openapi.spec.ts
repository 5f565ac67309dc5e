import 'reflect-metadata';
import {
  Controller,
  Get,
  HttpCode,
  Module,
  Param,
  Post,
  type INestApplication,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  assertRoutesDocumented,
  assertValidOpenApiDocument,
  documentedPath,
  expectMatchesOpenApi,
  registeredRoutes,
  type OpenApiDoc,
} from './openapi';

@Controller('v1')
class ThingsController {
  @Get('things/:id')
  thing(@Param('id') id: string) {
    return { id };
  }

  @Post('things')
  @HttpCode(201)
  create() {
    return { id: 'new' };
  }
}

@Module({ controllers: [ThingsController] })
class ThingsModule {}

const thing = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1 } },
};

const document = (): OpenApiDoc => ({
  openapi: '3.1.0',
  paths: {
    '/v1/things/{id}': {
      get: {
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          '200': {
            description: 'A thing',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } },
          },
          '404': { $ref: '#/components/responses/NotFound' },
        },
      },
    },
    '/v1/things/special': {
      get: { responses: { '204': { description: 'Nothing' } } },
    },
    '/v1/things': {
      post: {
        responses: {
          '201': {
            description: 'Created',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } },
          },
        },
      },
    },
  },
  components: {
    schemas: { Thing: thing },
    responses: {
      NotFound: {
        description: 'Unknown',
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['message'],
              properties: { message: { type: 'string' } },
            },
          },
        },
      },
    },
  },
});

describe('OpenAPI checks', () => {
  let app: INestApplication;

  beforeAll(async () => {
    app = await NestFactory.create(ThingsModule, { logger: false });
    await app.init();
  });

  afterAll(async () => {
    await app.close();
  });

  it('lists the routes the application registered, in OpenAPI path syntax', () => {
    expect(registeredRoutes(app)).toEqual(['GET /v1/things/{id}', 'POST /v1/things']);
  });

  it('names a route the document misses, and a documented one nobody serves', () => {
    const doc = document();
    delete doc.paths['/v1/things']!.post;
    expect(() => assertRoutesDocumented(app, doc)).toThrow(
      /served but not in the OpenAPI document:\n {2}POST \/v1\/things\ndocumented but not served:\n {2}GET \/v1\/things\/special/,
    );
    expect(() =>
      assertRoutesDocumented(app, document(), { ignore: ['GET /v1/things/special'] }),
    ).toThrow(/documented but not served:\n {2}GET \/v1\/things\/special/);
    delete doc.paths['/v1/things/special'];
    expect(() => assertRoutesDocumented(app, doc, { ignore: ['POST /v1/things'] })).not.toThrow();
  });

  it('matches a concrete path to its template, literal segments first', () => {
    expect(documentedPath(document(), '/v1/things/a-1?x=1')).toBe('/v1/things/{id}');
    expect(documentedPath(document(), '/v1/things/special')).toBe('/v1/things/special');
    expect(documentedPath(document(), '/v1/other')).toBeUndefined();
  });

  it('accepts a body that matches, following $refs to responses and schemas', () => {
    const doc = document();
    expectMatchesOpenApi(doc, 'GET', '/v1/things/a-1', 200, { id: 'a-1' });
    expectMatchesOpenApi(doc, 'get', '/v1/things/{id}', 404, { message: 'no thing' });
    expectMatchesOpenApi(
      doc,
      'POST',
      '/v1/things',
      201,
      { id: 'new' },
      'application/json; charset=utf-8',
    );
    expectMatchesOpenApi(doc, 'GET', '/v1/things/special', 204, '');
  });

  it('fails on a body, status, operation or content type the document does not describe', () => {
    const doc = document();
    expect(() => expectMatchesOpenApi(doc, 'GET', '/v1/things/a', 200, { id: '' })).toThrow(
      /does not match the document: .*id must NOT have fewer than 1 characters/,
    );
    expect(() => expectMatchesOpenApi(doc, 'GET', '/v1/things/a', 200, { id: 'a', x: 1 })).toThrow(
      /must NOT have additional properties/,
    );
    expect(() => expectMatchesOpenApi(doc, 'GET', '/v1/things/a', 404, {})).toThrow(
      /must have required property 'message'/,
    );
    expect(() => expectMatchesOpenApi(doc, 'GET', '/v1/things/a', 500, {})).toThrow(
      /status 500 is not documented for GET \/v1\/things\/\{id\} \(documented: 200, 404\)/,
    );
    expect(() => expectMatchesOpenApi(doc, 'DELETE', '/v1/things/a', 204, '')).toThrow(
      /DELETE \/v1\/things\/\{id\} is not documented/,
    );
    expect(() => expectMatchesOpenApi(doc, 'GET', '/v1/nothing', 200, {})).toThrow(
      /the path is not in the OpenAPI document/,
    );
    expect(() => expectMatchesOpenApi(doc, 'GET', '/v1/things/a', 200, 'id,a', 'text/csv')).toThrow(
      /content type text\/csv is not documented/,
    );
    expect(() => expectMatchesOpenApi(doc, 'GET', '/v1/things/special', 204, { a: 1 })).toThrow(
      /documented without a body/,
    );
  });

  it('finds mistakes in the document itself', () => {
    expect(() => assertValidOpenApiDocument(document())).not.toThrow();
    const doc = document();
    (doc.components!.schemas as Record<string, unknown>).Thing = { ...thing, requried: ['id'] };
    (doc.paths['/v1/things/{id}']!.get as { parameters: unknown[] }).parameters = [];
    (doc.paths['/v1/things']!.post as { responses: unknown }).responses = {
      '201': { $ref: '#/components/responses/Missing' },
    };
    let message = '';
    try {
      assertValidOpenApiDocument(doc);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/components\.schemas\.Thing: strict mode: unknown keyword: "requried"/);
    expect(message).toMatch(/GET \/v1\/things\/\{id\}: path parameter id is not declared/);
    expect(message).toMatch(
      /POST \/v1\/things 201: \$ref #\/components\/responses\/Missing points to nothing/,
    );
  });
});
