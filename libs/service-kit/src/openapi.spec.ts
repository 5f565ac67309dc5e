import 'reflect-metadata';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { KIT_OPENAPI, loadOpenApiDocument, OpenApiModule } from './openapi';

const dir = mkdtempSync(join(tmpdir(), 'openapi-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

const SERVICE_DOC = `openapi: 3.1.0
info: { title: Things, version: 1.0.0 }
paths:
  /v1/things: &list
    get:
      responses: { '200': { description: Things } }
  /v1/more-things: *list
components:
  schemas:
    Thing: { type: object }
`;

describe('OpenApiModule', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    @Module({
      imports: [OpenApiModule.serve(file('openapi.yaml', SERVICE_DOC), ['v1/things/openapi.json'])],
    })
    class AppModule {}
    app = await NestFactory.create(AppModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  });

  afterAll(async () => {
    await app.close();
  });

  it("serves the document, with the kit's routes added, at /v1/openapi.json and the extra paths", async () => {
    const res = await fetch(`${url}/v1/openapi.json`);
    expect(res.status).toBe(200);
    const served = (await res.json()) as ReturnType<typeof loadOpenApiDocument>;
    expect(Object.keys(served.paths).sort()).toEqual([
      '/health',
      '/health/live',
      '/health/ready',
      '/metrics',
      '/v1/more-things',
      '/v1/openapi.json',
      '/v1/things',
    ]);
    expect(served.paths['/v1/more-things']).toEqual(served.paths['/v1/things']);
    expect(Object.keys(served.components!.schemas!).sort()).toEqual(
      ['Thing', ...Object.keys(KIT_OPENAPI.components!.schemas!)].sort(),
    );
    expect(await (await fetch(`${url}/v1/things/openapi.json`)).json()).toEqual(served);
  });

  it("keeps a service's own description of a kit route", () => {
    const own = SERVICE_DOC.replace(
      'paths:\n',
      "paths:\n  /health:\n    get:\n      responses: { '200': { description: Mine } }\n",
    );
    const doc = loadOpenApiDocument(file('own.yaml', own));
    expect(doc.paths['/health']).toEqual({
      get: { responses: { '200': { description: 'Mine' } } },
    });
    expect(doc.paths['/metrics']).toEqual(KIT_OPENAPI.paths['/metrics']);
  });

  it('refuses, at start-up, a file that is not an OpenAPI 3.1 document', () => {
    expect(() => loadOpenApiDocument(join(dir, 'missing.yaml'))).toThrow(/ENOENT/);
    expect(() =>
      loadOpenApiDocument(file('old.yaml', SERVICE_DOC.replace('3.1.0', '3.0.3'))),
    ).toThrow(/not an OpenAPI 3\.1 document/);
    expect(() =>
      loadOpenApiDocument(
        file('nopaths.yaml', 'openapi: 3.1.0\ninfo: { title: T, version: "1" }\n'),
      ),
    ).toThrow(/paths is required/);
    expect(() => OpenApiModule.serve(file('bad.yaml', 'openapi: [3.1.0'))).toThrow();
  });
});
