import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { listRoutes } from './http-routes.js';

/**
 * Checks a service's OpenAPI 3.1 document against the service itself: every
 * route the running Nest application registered is documented (and every
 * documented one served), and real responses match the documented schema of
 * their operation and status. JSON Schema validation is ajv's (draft 2020-12,
 * the dialect of OpenAPI 3.1), in strict mode, so that a misspelt keyword or
 * format in the document fails instead of passing everything.
 */

/** The parts of an OpenAPI document these checks read. */
export interface OpenApiDoc {
  paths: Record<string, Record<string, unknown>>;
  components?: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

/** The part of a Nest application the route listing needs (`INestApplication` has it). */
export interface HttpApp {
  getHttpAdapter(): { getInstance(): unknown };
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;

/**
 * The routes the application registered, as `METHOD /path` with OpenAPI's
 * `{param}` for Express's `:param`, sorted (from `listRoutes`, the fuzzer's
 * reading of the Express router stack).
 */
export function registeredRoutes(app: HttpApp): string[] {
  const routes = listRoutes(app).map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`);
  return [...new Set(routes)].sort();
}

/** The operations the document describes, as `METHOD /path`, sorted. */
export function documentedRoutes(document: OpenApiDoc): string[] {
  return Object.entries(document.paths)
    .flatMap(([path, item]) =>
      METHODS.filter((m) => item[m] !== undefined).map((m) => `${m.toUpperCase()} ${path}`),
    )
    .sort();
}

/**
 * Fails, listing them, when the application serves a route the document does
 * not describe (a new endpoint without documentation) or the document
 * describes one the application does not serve. `ignore`: routes that are no
 * part of the HTTP API, e.g. a web app's catch-all `GET /{*path}`.
 */
export function assertRoutesDocumented(
  app: HttpApp,
  document: OpenApiDoc,
  options: { ignore?: readonly string[] } = {},
): void {
  const ignored = new Set(options.ignore ?? []);
  const served = registeredRoutes(app).filter((r) => !ignored.has(r));
  const documented = new Set(documentedRoutes(document));
  const undocumented = served.filter((r) => !documented.has(r));
  const unserved = [...documented].filter((r) => !served.includes(r));
  const problems = [
    ...(undocumented.length
      ? [`served but not in the OpenAPI document:\n  ${undocumented.join('\n  ')}`]
      : []),
    ...(unserved.length ? [`documented but not served:\n  ${unserved.join('\n  ')}`] : []),
  ];
  if (problems.length) throw new Error(problems.join('\n'));
}

const DOC_ID = 'https://openapi.invalid/document.json';
/** OpenAPI's own schema keywords (annotations here), beside JSON Schema's. */
const OPENAPI_KEYWORDS = ['discriminator', 'xml', 'externalDocs', 'example'];

interface Checker {
  ajv: Ajv2020;
  compiled: Map<string, ValidateFunction>;
}
const checkers = new WeakMap<OpenApiDoc, Checker>();

function checkerFor(document: OpenApiDoc): Checker {
  let checker = checkers.get(document);
  if (!checker) {
    const ajv = new Ajv2020({
      strict: true,
      strictTypes: false,
      // `required` beside an allOf that defines the properties is fine; a misspelt one fails on real bodies.
      strictRequired: false,
      strictTuples: false,
      allErrors: true,
    });
    addFormats(ajv);
    // The document as one schema resource, so that "#/components/..." resolves; its
    // non-schema parts are never compiled, only the schemas pointed into.
    for (const keyword of ['components', 'paths', ...OPENAPI_KEYWORDS]) ajv.addKeyword(keyword);
    ajv.addSchema({ $id: DOC_ID, components: document.components ?? {}, paths: document.paths });
    checker = { ajv, compiled: new Map() };
    checkers.set(document, checker);
  }
  return checker;
}

const pointer = (parts: readonly string[]) =>
  parts.map((p) => encodeURIComponent(p.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/');

function validatorAt(document: OpenApiDoc, parts: readonly string[]): ValidateFunction {
  const { ajv, compiled } = checkerFor(document);
  const ref = `${DOC_ID}#/${pointer(parts)}`;
  let validate = compiled.get(ref);
  if (!validate) {
    validate = ajv.compile({ $ref: ref });
    compiled.set(ref, validate);
  }
  return validate;
}

/** Follows a `$ref` to a component (a response, a parameter, a request body), with its location. */
function deref(
  document: OpenApiDoc,
  value: unknown,
  at: string[],
): { value: Record<string, unknown>; at: string[] } {
  let current = value as Record<string, unknown>;
  let location = at;
  for (let hops = 0; typeof current?.$ref === 'string'; hops++) {
    const ref = current.$ref;
    if (!ref.startsWith('#/') || hops > 10) throw new Error(`unsupported $ref ${ref}`);
    location = ref
      .slice(2)
      .split('/')
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    current = location.reduce<unknown>(
      (node, key) => (node as Record<string, unknown> | undefined)?.[key],
      document,
    ) as Record<string, unknown>;
    if (current === undefined) throw new Error(`$ref ${ref} points to nothing`);
  }
  return { value: current, at: location };
}

/** The documented path for a concrete one (`/v1/agents/a-1` -> `/v1/agents/{id}`); literal segments win. */
export function documentedPath(document: OpenApiDoc, path: string): string | undefined {
  const bare = path.split('?')[0]!;
  if (document.paths[bare]) return bare;
  const candidates = Object.keys(document.paths).filter((template) => {
    const pattern = template
      .split(/(\{[^}]+\})/)
      .map((part) =>
        /^\{[^}]+\}$/.test(part) ? '[^/]+' : part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'),
      )
      .join('');
    return new RegExp(`^${pattern}$`).test(bare);
  });
  const params = (t: string) => (t.match(/\{/g) ?? []).length;
  return candidates.sort((a, b) => params(a) - params(b))[0];
}

/**
 * Validates a real response against the document: the operation (method and
 * path, concrete or templated) must be documented, with the status (or its
 * `2XX` range, or `default`), and the body must match that response's schema
 * for the content type. A response documented without content must have no
 * body. Throws an Error naming what does not match.
 */
export function expectMatchesOpenApi(
  document: OpenApiDoc,
  method: string,
  path: string,
  status: number,
  body: unknown,
  contentType = 'application/json',
): void {
  const what = `${method.toUpperCase()} ${path} ${status}`;
  const template = documentedPath(document, path);
  if (!template) throw new Error(`${what}: the path is not in the OpenAPI document`);
  const operation = document.paths[template]![method.toLowerCase()] as
    { responses?: Record<string, unknown> } | undefined;
  if (!operation) throw new Error(`${what}: ${method.toUpperCase()} ${template} is not documented`);
  const responses = operation.responses ?? {};
  const key = [String(status), `${String(status)[0]}XX`, 'default'].find((k) => k in responses);
  if (!key)
    throw new Error(
      `${what}: status ${status} is not documented for ${method.toUpperCase()} ${template} (documented: ${Object.keys(responses).join(', ')})`,
    );
  const response = deref(document, responses[key], [
    'paths',
    template,
    method.toLowerCase(),
    'responses',
    key,
  ]);
  const content = response.value.content as Record<string, { schema?: unknown }> | undefined;
  const empty = body === undefined || body === '' || body === null;
  if (!content) {
    if (!empty) throw new Error(`${what}: documented without a body, but one came`);
    return;
  }
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  const mediaType = [type, `${type.split('/')[0]}/*`, '*/*'].find((t) => t in content);
  if (!mediaType)
    throw new Error(
      `${what}: content type ${type} is not documented (documented: ${Object.keys(content).join(', ')})`,
    );
  if (content[mediaType]!.schema === undefined) return;
  const validate = validatorAt(document, [...response.at, 'content', mediaType, 'schema']);
  if (!validate(body)) {
    const { ajv } = checkerFor(document);
    throw new Error(
      `${what}: the body does not match the document: ${ajv.errorsText(validate.errors, { separator: '; ' })}\nbody: ${JSON.stringify(body).slice(0, 2000)}`,
    );
  }
}

/**
 * Checks the document itself: every schema in it compiles (strict: no unknown
 * keyword or format), every `$ref` resolves, every operation has responses,
 * and every `{param}` of a path is declared as a path parameter.
 */
export function assertValidOpenApiDocument(document: OpenApiDoc): void {
  const problems: string[] = [];
  const attempt = (where: string, check: () => void) => {
    try {
      check();
    } catch (err) {
      problems.push(`${where}: ${(err as Error).message}`);
    }
  };
  for (const name of Object.keys(document.components?.schemas ?? {}))
    attempt(`components.schemas.${name}`, () =>
      validatorAt(document, ['components', 'schemas', name]),
    );
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const op = item[method] as
        | { parameters?: unknown[]; requestBody?: unknown; responses?: Record<string, unknown> }
        | undefined;
      if (!op) continue;
      const where = `${method.toUpperCase()} ${path}`;
      const at = ['paths', path, method];
      if (!op.responses || Object.keys(op.responses).length === 0)
        problems.push(`${where}: no responses`);
      const parameters = [
        ...((item.parameters as unknown[] | undefined) ?? []).map((p, i) =>
          deref(document, p, ['paths', path, 'parameters', String(i)]),
        ),
        ...(op.parameters ?? []).map((p, i) =>
          deref(document, p, [...at, 'parameters', String(i)]),
        ),
      ];
      for (const p of parameters)
        if (p.value.schema !== undefined)
          attempt(`${where} parameter ${String(p.value.name)}`, () =>
            validatorAt(document, [...p.at, 'schema']),
          );
      for (const name of path.match(/\{([^}]+)\}/g) ?? []) {
        const bare = name.slice(1, -1);
        if (
          !parameters.some(
            (p) => p.value.in === 'path' && p.value.name === bare && p.value.required,
          )
        )
          problems.push(
            `${where}: path parameter ${bare} is not declared (in: path, required: true)`,
          );
      }
      const checkContent = (
        label: string,
        target: { value: Record<string, unknown>; at: string[] },
      ) => {
        const content = (target.value.content ?? {}) as Record<string, { schema?: unknown }>;
        for (const [type, media] of Object.entries(content))
          if (media.schema !== undefined)
            attempt(`${where} ${label} ${type}`, () =>
              validatorAt(document, [...target.at, 'content', type, 'schema']),
            );
      };
      if (op.requestBody !== undefined)
        attempt(`${where} requestBody`, () =>
          checkContent('requestBody', deref(document, op.requestBody, [...at, 'requestBody'])),
        );
      for (const [status, response] of Object.entries(op.responses ?? {}))
        attempt(`${where} ${status}`, () =>
          checkContent(status, deref(document, response, [...at, 'responses', status])),
        );
    }
  }
  if (problems.length)
    throw new Error(`the OpenAPI document is not valid:\n  ${problems.join('\n  ')}`);
}

/** A response as `fetchChecked` returns it: the body parsed when it is JSON, the text otherwise. */
export interface CheckedResponse<T = unknown> {
  status: number;
  headers: Headers;
  contentType: string;
  body: T;
  text: string;
}

/**
 * Sends a request to the service and checks the response against the document
 * (expectMatchesOpenApi) before returning it, so that every call a spec makes
 * also tests the documentation. A `body` that is not a string is sent as JSON.
 */
export async function fetchChecked<T = any>( // eslint-disable-line @typescript-eslint/no-explicit-any -- specs read fields freely
  document: OpenApiDoc,
  baseUrl: string,
  method: string,
  path: string,
  init: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<CheckedResponse<T>> {
  const json = init.body !== undefined && typeof init.body !== 'string';
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { ...(json ? { 'content-type': 'application/json' } : {}), ...init.headers },
    body: json ? JSON.stringify(init.body) : (init.body as string | undefined),
  });
  const text = await res.text();
  const contentType = res.headers.get('content-type') ?? '';
  const body: unknown = /json/.test(contentType) && text ? JSON.parse(text) : text;
  expectMatchesOpenApi(document, method, path, res.status, body, contentType || undefined);
  return { status: res.status, headers: res.headers, contentType, body: body as T, text };
}

/**
 * Reads the document the service serves at GET /v1/openapi.json (no key), and
 * checks it: a valid document (assertValidOpenApiDocument) that describes
 * exactly the routes the application registered (assertRoutesDocumented), and
 * whose own answer, the health routes' and /metrics' match it.
 */
export async function checkServedOpenApi(
  app: HttpApp,
  baseUrl: string,
  options: { ignore?: readonly string[] } = {},
): Promise<OpenApiDoc> {
  const res = await fetch(`${baseUrl}/v1/openapi.json`);
  if (res.status !== 200) throw new Error(`GET /v1/openapi.json answered ${res.status}`);
  const document = (await res.json()) as OpenApiDoc;
  assertValidOpenApiDocument(document);
  assertRoutesDocumented(app, document, options);
  for (const path of ['/v1/openapi.json', '/health', '/health/ready', '/health/live', '/metrics'])
    await fetchChecked(document, baseUrl, 'GET', path);
  return document;
}
