/** An HTTP endpoint of an application: its method and its path as registered, e.g. `/v1/agents/:id`. */
export interface HttpRoute {
  method: string;
  path: string;
}

/** The part of a Nest application (`INestApplication`) the route listing reads. */
export interface HasHttpAdapter {
  getHttpAdapter(): { getInstance(): unknown };
}

interface Layer {
  route?: { path: unknown; methods?: Record<string, boolean> };
}

/**
 * Every route of a running (initialised) Nest application on Express, read
 * from Express's router stack, so that endpoints added later are listed
 * without naming them anywhere. `_all` routes are listed as GET and POST.
 * CONNECT is left out: Node's HTTP server hands it to its 'connect' event (a
 * proxy tunnel), never to Express, and closes the socket when nothing listens,
 * whatever route a middleware registered for it.
 */
export function listRoutes(app: HasHttpAdapter): HttpRoute[] {
  const express = app.getHttpAdapter().getInstance() as {
    router?: { stack?: Layer[] };
    _router?: { stack?: Layer[] };
  };
  const stack = express.router?.stack ?? express._router?.stack ?? [];
  const routes: HttpRoute[] = [];
  const seen = new Set<string>();
  for (const layer of stack) {
    const route = layer.route;
    if (!route) continue;
    const paths = Array.isArray(route.path) ? route.path : [route.path];
    for (const path of paths) {
      if (typeof path !== 'string') continue;
      for (const [method, on] of Object.entries(route.methods ?? {})) {
        if (!on || method === 'connect') continue;
        for (const m of method === '_all' ? ['get', 'post'] : [method]) {
          const key = `${m.toUpperCase()} ${path}`;
          if (seen.has(key)) continue;
          seen.add(key);
          routes.push({ method: m.toUpperCase(), path });
        }
      }
    }
  }
  return routes;
}

/** The names of a route's parameters, in order: `:id`, `*path` and `{*path}` give `id` and `path`. */
export function routeParams(path: string): string[] {
  return [...path.matchAll(/[:*]([A-Za-z_$][\w$]*)/g)].map((m) => m[1]);
}

/**
 * A route's path with its parameters replaced by the given raw (already
 * percent-encoded) values, optional groups `{...}` kept: `/v1/agents/:id`
 * with `{ id: 'a%00' }` gives `/v1/agents/a%00`.
 */
export function fillPath(path: string, values: Record<string, string>): string {
  return path
    .replace(/[{}]/g, '')
    .replace(/[:*]([A-Za-z_$][\w$]*)/g, (_, name: string) => values[name] ?? 'x');
}
