import { createHash } from 'node:crypto';
import {
  BAD_HEADER_VALUES,
  BAD_PATH_VALUES,
  BAD_QUERIES,
  CONTENT_TYPE_CASES,
  FIELD_NAMES,
  HANDLER_HEADERS,
  JUNK_VALUES,
  QUERY_NAMES,
  RAW_JSON_BODIES,
} from './fuzz-palette.js';
import { fillPath, routeParams, type HttpRoute } from './http-routes.js';

/** One request as the fuzzer sends it. */
export interface FuzzRequest {
  /** What the case tries, for reports, e.g. `path /v1/agents/a%00b (auth: api key)`. */
  label: string;
  method: string;
  /** The request target as sent: path and query, percent-encoded or deliberately raw. */
  target: string;
  /** Header names and values as sent (values are latin1: one byte per character). */
  headers: [string, string][];
  body?: Buffer;
}

/** Credentials a service accepts: an API key, a session cookie. */
export interface FuzzCredentials {
  name: string;
  headers: Record<string, string>;
}

export interface FuzzInputOptions {
  /** The same seed gives the same requests. */
  seed: string | number;
  /** Valid credentials of the service under test; bad input is sent with each. */
  auth: readonly FuzzCredentials[];
  /**
   * Plausible values (raw, percent-encoded) of path parameters by name, so that
   * body, query and header cases get past the parameter's own check. Default:
   * a UUID and a slug that exist nowhere.
   */
  params?: Record<string, readonly string[]>;
  /** Query parameter names to try besides the common ones (QUERY_NAMES). */
  queryNames?: readonly string[];
  /** Body field names to try besides the common ones (FIELD_NAMES). */
  fieldNames?: readonly string[];
  /** At most this many requests for the route. */
  perRoute: number;
}

/** A small, fast, seeded generator (mulberry32): the same seed, the same sequence. */
export function seededRandom(seed: string): () => number {
  let a = createHash('sha256').update(seed).digest().readUInt32LE(0);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** A body that each handler reading one refuses, sent where the case is about something else. */
const NEUTRAL_BODY = Buffer.from('[]');
/** The first entries of each palette are tried on every route; the rest are drawn at random. */
const ALWAYS = 3;

type Make = () => FuzzRequest;

/** The bad requests of one route, kind by kind, drawn with a generator of its own. */
class RouteCases {
  private readonly rng: () => number;
  private readonly params: string[];
  readonly hasBody: boolean;
  private readonly credentials: (FuzzCredentials | undefined)[];

  constructor(
    private readonly route: HttpRoute,
    private readonly opts: FuzzInputOptions,
  ) {
    this.rng = seededRandom(`${opts.seed}:${route.method} ${route.path}`);
    this.params = routeParams(route.path);
    this.hasBody = BODY_METHODS.has(route.method);
    this.credentials = opts.auth.length ? [...opts.auth] : [undefined];
  }

  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.rng() * list.length)];
  }

  /** The list with its first `ALWAYS` entries in place and the rest shuffled. */
  order<T>(list: readonly T[]): T[] {
    const rest = list.slice(ALWAYS);
    for (let i = rest.length - 1; i > 0; i--) {
      const j = Math.floor(this.rng() * (i + 1));
      [rest[i], rest[j]] = [rest[j], rest[i]];
    }
    return [...list.slice(0, ALWAYS), ...rest];
  }

  /** The route's path with plausible parameters, or the given raw ones. */
  private fill(override: Record<string, string> = {}): string {
    const plausible = (name: string) =>
      this.opts.params?.[name] ?? ['00000000-0000-4000-8000-00000000f022', 'fuzz-none'];
    return fillPath(
      this.route.path,
      Object.fromEntries(this.params.map((p) => [p, override[p] ?? this.pick(plausible(p))])),
    );
  }

  private request(
    label: string,
    target: string,
    headers: [string, string][],
    body?: string | Buffer,
    /** null: no Content-Type header at all. */
    contentType: string | null = 'application/json',
  ): FuzzRequest {
    const all = [...headers];
    if (body !== undefined && contentType && !all.some(([k]) => k.toLowerCase() === 'content-type'))
      all.push(['content-type', contentType]);
    return {
      label,
      method: this.route.method,
      target,
      headers: all,
      body: body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body),
    };
  }

  /** Valid credentials (in turn, or drawn), as headers and a name for the label. */
  private auth(turn?: number): [[string, string][], string] {
    const c =
      turn === undefined
        ? this.pick(this.credentials)
        : this.credentials[turn % this.credentials.length];
    return [c ? Object.entries(c.headers) : [], c?.name ?? 'none'];
  }

  private neutralBody(): Buffer | undefined {
    return this.hasBody && this.rng() < 0.5 ? NEUTRAL_BODY : undefined;
  }

  /** Bad path parameters (for a route without any: a bad last segment). */
  path(): Make[] {
    return this.order(BAD_PATH_VALUES).map((value) => () => {
      const [headers, who] = this.auth();
      const target = this.params.length
        ? this.fill({ [this.pick(this.params)]: value })
        : `${this.fill().replace(/\/$/, '')}/${value}`;
      return this.request(
        `path ${target.slice(0, 80)} (auth: ${who})`,
        target,
        headers,
        this.neutralBody(),
      );
    });
  }

  /**
   * Bad query strings: first the palette's leading values under each name the
   * service is known to read (`queryNames`: a strict schema refuses unknown
   * names before a value gets far), then the rest under names drawn from all.
   */
  query(): Make[] {
    const known = this.opts.queryNames ?? [];
    const names = [...known, ...QUERY_NAMES];
    const make = (query: string, name?: string) => () => {
      const [headers, who] = this.auth();
      const q = query.replace(/\{n\}/g, () => name ?? this.pick(names));
      const target = `${this.fill()}?${q}`;
      return this.request(
        `query ${q.slice(0, 80)} (auth: ${who})`,
        target,
        headers,
        this.neutralBody(),
      );
    };
    const targeted = BAD_QUERIES.slice(0, ALWAYS).flatMap((q) => known.map((n) => make(q, n)));
    return [...targeted, ...this.order(BAD_QUERIES).map((q) => make(q))];
  }

  /** JSON objects of junk values under likely field names, with each valid credential in turn. */
  jsonBodies(count = 40): Make[] {
    if (!this.hasBody) return [];
    const names = [...(this.opts.fieldNames ?? []), ...FIELD_NAMES];
    return Array.from({ length: count }, (_, i) => () => {
      const [headers, who] = this.auth(i);
      const body: Record<string, unknown> = {};
      const fields = 1 + Math.floor(this.rng() * 4);
      for (let f = 0; f < fields; f++) body[this.pick(names)] = this.pick(JUNK_VALUES)();
      const text = JSON.stringify(body);
      return this.request(
        `json body ${text.slice(0, 100)} (auth: ${who})`,
        this.fill(),
        headers,
        text,
      );
    });
  }

  rawBodies(): Make[] {
    if (!this.hasBody) return [];
    return this.order(RAW_JSON_BODIES).map((make) => () => {
      const [headers, who] = this.auth();
      const body = make();
      const shown = JSON.stringify(body.toString().slice(0, 40));
      return this.request(`raw body ${shown} (auth: ${who})`, this.fill(), headers, body);
    });
  }

  contentTypes(): Make[] {
    if (!this.hasBody) return [];
    return this.order(CONTENT_TYPE_CASES).map((make) => () => {
      const [headers, who] = this.auth();
      const [type, body, extra] = make();
      const shown = [type ?? '(none)', ...extra.map((h) => h.join(': '))].join(', ');
      return this.request(
        `content type ${shown} (auth: ${who})`,
        this.fill(),
        [...headers, ...extra],
        body,
        type ?? null,
      );
    });
  }

  credentialCases(): Make[] {
    const names = [...(this.opts.fieldNames ?? []), ...FIELD_NAMES];
    return this.order(wrongCredentials(this.opts.auth)).map((headers) => () => {
      const body = this.hasBody
        ? JSON.stringify({ [this.pick(names)]: this.pick(JUNK_VALUES)() })
        : undefined;
      return this.request(
        `credentials ${JSON.stringify(headers).slice(0, 100)}`,
        this.fill(),
        headers,
        body,
      );
    });
  }

  headers(): Make[] {
    const pairs = HANDLER_HEADERS.flatMap((name) =>
      BAD_HEADER_VALUES.map((value) => [name, value] as const),
    );
    return this.order(pairs).map(([name, value]) => () => {
      const [headers, who] = this.auth();
      const shown = JSON.stringify(value.slice(0, 30));
      return this.request(
        `header ${name}: ${shown} (auth: ${who})`,
        this.fill(),
        [...headers, [name, value]],
        this.neutralBody(),
      );
    });
  }
}

/**
 * The bad requests for one route, drawn from the palettes (fuzz-palette.ts)
 * with a generator seeded by the seed and the route, so that the same route
 * gets the same requests and adding a route changes no other's. The kinds
 * (path parameters, query strings, JSON bodies, raw bodies, content types,
 * credentials, headers) take turns, each palette's first entries (NUL, bad
 * encodings) first, until `perRoute` requests are chosen.
 */
export function fuzzRequests(route: HttpRoute, opts: FuzzInputOptions): FuzzRequest[] {
  const cases = new RouteCases(route, opts);
  const queues = [
    cases.path(),
    cases.query(),
    cases.jsonBodies(),
    cases.rawBodies(),
    cases.contentTypes(),
    cases.credentialCases(),
    cases.headers(),
  ].filter((q) => q.length);
  const chosen: FuzzRequest[] = [];
  while (chosen.length < opts.perRoute && queues.some((q) => q.length)) {
    for (const q of queues) {
      const next = q.shift();
      if (next && chosen.length < opts.perRoute) chosen.push(next());
    }
  }
  return chosen;
}

/** Requests without, with wrong, and with malformed credentials, derived from the valid ones. */
function wrongCredentials(valid: readonly FuzzCredentials[]): [string, string][][] {
  const cases: [string, string][][] = [
    [],
    [['authorization', 'Bearer %00']],
    [['authorization', `Bearer ${'k'.repeat(9000)}`]],
    [['authorization', 'Bearer wrong-key']],
    [['authorization', 'Basic Zm9vOmJhcg==']],
    [['authorization', 'Bearer']],
    [['authorization', 'Bearer \u00ff\u00fe']],
    [['authorization', 'Bearer a\u007fb']],
    [['cookie', 'a=b; c']],
    [['cookie', `${'c'.repeat(100)}=${'v'.repeat(4000)}`]],
  ];
  for (const { headers } of valid) {
    for (const [name, value] of Object.entries(headers)) {
      if (name.toLowerCase() === 'cookie') {
        const cookie = value.split(';')[0].split('=')[0];
        cases.push(
          [['cookie', `${cookie}=junk`]],
          // An unsigned token ("alg": "none") claiming to be someone.
          [
            [
              'cookie',
              `${cookie}=eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhZG1pbiIsImFnZW50SWQiOiJhZG1pbiJ9.`,
            ],
          ],
          [['cookie', `${cookie}=%00`]],
          [['cookie', `${value}; ${value}x`]],
        );
      } else {
        const flipped = value.toUpperCase() === value ? value.toLowerCase() : value.toUpperCase();
        cases.push([[name, `${value}x`]], [[name, flipped]], [[name, value.slice(0, -1)]]);
      }
    }
  }
  return cases;
}
