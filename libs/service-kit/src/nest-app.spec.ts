import 'reflect-metadata';
import {
  Body,
  Controller,
  Get,
  Headers,
  Module,
  Param,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Request, Response } from 'express';
import { JsonLogger } from './logger';
import { createServiceApp } from './nest';
import { overrideSecurityHeaders } from './security-headers';

/** What reached a handler: the guard must stop bad input before. */
const reached: unknown[] = [];

@Controller()
class ProbeController {
  @Get('things/:id')
  thing(@Param('id') id: string, @Query() query: unknown, @Headers('x-correlation-id') c?: string) {
    reached.push({ id, query, c });
    return { id };
  }

  @Post('things')
  create(@Body() body: unknown) {
    reached.push(body);
    return { ok: true };
  }

  @Get('widget')
  widget(@Req() req: Request, @Res() res: Response) {
    overrideSecurityHeaders(req, res, {
      csp: {
        frameAncestors: ['https://shop.example'],
        scriptSrc: ["'self'", 'https://cdn.example'],
      },
      crossOriginResourcePolicy: 'cross-origin',
    });
    res.type('html').send('<!doctype html><title>widget</title>');
  }
}

@Module({ controllers: [ProbeController] })
class ProbeModule {}

describe('createServiceApp: security headers and the shared input check', () => {
  let app: NestExpressApplication;
  let url: string;

  beforeAll(async () => {
    app = await createServiceApp(ProbeModule, new JsonLogger('probe', 'error'));
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  });

  afterAll(async () => {
    await app?.close();
  });

  beforeEach(() => {
    reached.length = 0;
  });

  const csp = (res: globalThis.Response) =>
    Object.fromEntries(
      (res.headers.get('content-security-policy') ?? '')
        .split(';')
        .map((d: string) => d.trim().split(/\s+/))
        .map(([name, ...sources]: string[]) => [name, sources.join(' ')]),
    );
  const json = async (res: globalThis.Response) =>
    (await res.json()) as { error: string; issues: unknown[] };

  const post = (body: string, type = 'application/json', headers: Record<string, string> = {}) =>
    fetch(`${url}/things`, { method: 'POST', headers: { 'content-type': type, ...headers }, body });

  it('sends the security headers on every answer, and no X-Powered-By', async () => {
    for (const res of [
      await fetch(`${url}/things/a`),
      await fetch(`${url}/nowhere`),
      await fetch(`${url}/things/a%00`),
    ]) {
      expect(csp(res)).toMatchObject({
        'default-src': "'self'",
        'frame-ancestors': "'none'",
        'object-src': "'none'",
        'base-uri': "'self'",
        'script-src': "'self'",
      });
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('x-powered-by')).toBeNull();
    }
  });

  it("lets a route override its page's policy, the other directives staying", async () => {
    const res = await fetch(`${url}/widget`);
    expect(csp(res)).toMatchObject({
      'default-src': "'self'",
      'frame-ancestors': 'https://shop.example',
      'script-src': "'self' https://cdn.example",
      'object-src': "'none'",
    });
    expect(res.headers.get('x-frame-options')).toBeNull();
    expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
  });

  it('lets ordinary input through', async () => {
    const res = await fetch(`${url}/things/caf%C3%A9?q=a+b%0Ac`, {
      headers: { 'x-correlation-id': 'c-1' },
    });
    expect(res.status).toBe(200);
    expect(
      (await post(JSON.stringify({ text: 'line\nnext\ttab 😀', n: [1, { a: null }] }))).status,
    ).toBe(201);
    expect(reached).toHaveLength(2);
  });

  it.each([
    ['a NUL in the path', '/things/a%00b', 'path', 'control_character'],
    ['invalid percent-encoding in the path', '/things/%E0%A4%A', 'path', 'encoding'],
    ['an encoded lone surrogate in the path', '/things/%ED%A0%80', 'path', 'encoding'],
    ['a NUL in a query parameter', '/things/a?q=x%00', 'query.q', 'control_character'],
    [
      'invalid percent-encoding in a query parameter',
      '/things/a?limit=%zz',
      'query.limit',
      'encoding',
    ],
  ])('answers %s with a 400 naming the field, before the handler', async (_, path, field, rule) => {
    const res = await fetch(`${url}${path}`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: 'validation_failed',
      issues: [{ field, rule, message: expect.any(String) }],
    });
    expect(reached).toEqual([]);
  });

  it('answers an over-long header value with a 400 naming the header', async () => {
    const res = await fetch(`${url}/things/a`, {
      headers: { 'x-correlation-id': 'x'.repeat(9000) },
    });
    expect(res.status).toBe(400);
    expect((await json(res)).issues).toEqual([
      { field: 'header.x-correlation-id', rule: 'max_length', message: expect.any(String) },
    ]);
    expect(reached).toEqual([]);
  });

  it.each([
    [
      'a NUL in a nested string',
      '{"a":{"b":["ok","x\\u0000"]}}',
      'body.a.b[1]',
      'control_character',
    ],
    ['a lone surrogate', '{"s":"\\ud800"}', 'body.s', 'unicode'],
    ['a control character in a key', '{"k\\u0007":1}', 'body.k\\u0007', 'control_character'],
    ['JSON that does not parse', '{"a":', 'body', 'json'],
    [
      'nesting too deep',
      `${'['.repeat(100)}${']'.repeat(100)}`,
      `body${'[0]'.repeat(32)}`,
      'max_depth',
    ],
  ])('answers a JSON body with %s with a 400 naming the field', async (_, body, field, rule) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: 'validation_failed',
      issues: [{ field, rule, message: expect.any(String) }],
    });
    expect(reached).toEqual([]);
  });

  it('checks text and form bodies too', async () => {
    const text = await post('# Title\n\u0000', 'text/markdown');
    expect((await json(text)).issues).toEqual([
      { field: 'body', rule: 'control_character', message: expect.any(String) },
    ]);
    const form = await post('name=a%00b', 'application/x-www-form-urlencoded');
    expect((await json(form)).issues).toEqual([
      { field: 'body.name', rule: 'control_character', message: expect.any(String) },
    ]);
    expect(reached).toEqual([]);
  });

  it('answers bodies it cannot read with the matching 4xx in the same shape', async () => {
    const latin1 = await post('{"a":1}', 'application/json; charset=latin1');
    expect(latin1.status).toBe(415);
    expect(await latin1.json()).toEqual({
      error: 'unsupported_media_type',
      issues: [{ field: 'header.content-type', rule: 'charset', message: expect.any(String) }],
    });
    const gzip = await post('not gzip', 'application/json', { 'content-encoding': 'gzip' });
    expect(gzip.status).toBe(400);
    expect((await json(gzip)).issues).toEqual([
      { field: 'body', rule: 'unreadable', message: expect.any(String) },
    ]);
    const large = await post(`"${'x'.repeat(5 * 1024 * 1024)}"`);
    expect(large.status).toBe(413);
    expect((await json(large)).error).toBe('payload_too_large');
    expect(reached).toEqual([]);
  });
});
