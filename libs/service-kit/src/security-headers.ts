import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { contentSecurityPolicy, crossOriginResourcePolicy } from 'helmet';

/** A Content-Security-Policy as helmet takes it: directive (camelCase or kebab-case) to sources. */
export type CspDirectives = Record<string, readonly string[]>;

/**
 * Every page's policy unless its route overrides it: everything from the
 * service's own origin only, no plugins, no <base> elsewhere, no framing by
 * any page. Styles from files only: React (and recharts) set inline styles
 * through the DOM's style property, which CSP does not restrict, so the desk's
 * web app needs no 'unsafe-inline'.
 */
export const DEFAULT_CSP: CspDirectives = {
  defaultSrc: ["'self'"],
  baseUri: ["'self'"],
  objectSrc: ["'none'"],
  frameAncestors: ["'none'"],
  formAction: ["'self'"],
  scriptSrc: ["'self'"],
  scriptSrcAttr: ["'none'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'", 'data:'],
};

/**
 * The security headers of every response (helmet): the CSP above,
 * `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`,
 * `X-Frame-Options: DENY`, HSTS (browsers heed it over HTTPS only),
 * cross-origin opener and resource policies `same-origin`, no
 * `X-Powered-By`. No `upgrade-insecure-requests`: the services are also
 * reached over plain HTTP on a private network.
 */
export function securityHeaders(): ReturnType<typeof helmet> {
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives: DEFAULT_CSP },
    referrerPolicy: { policy: 'no-referrer' },
    xFrameOptions: { action: 'deny' },
  });
}

export interface SecurityHeaderOverrides {
  /** Directives to replace in the default CSP, e.g. `{ frameAncestors: ['https://shop.example'] }`. */
  csp?: CspDirectives;
  /** `cross-origin` for a file other sites load with <script src> or <img> (e.g. a widget's script). */
  crossOriginResourcePolicy?: 'same-origin' | 'same-site' | 'cross-origin';
}

/**
 * Overrides the security headers of one response, for a route whose page
 * needs another policy than DEFAULT_CSP. Call it in the handler before the
 * response is sent; the given directives replace the defaults' of the same
 * name, the others stay. When `frameAncestors` is overridden, X-Frame-Options
 * (which can only say DENY or SAMEORIGIN) is removed so that browsers follow
 * the CSP's list. Example, a chat widget page that customers' sites may frame:
 *
 *   @Get('widget')
 *   widget(@Req() req: Request, @Res() res: Response) {
 *     overrideSecurityHeaders(req, res, {
 *       csp: { frameAncestors: this.config.WIDGET_ORIGINS }, // e.g. ['https://shop.example']
 *     });
 *     res.type('html').send(page);
 *   }
 */
export function overrideSecurityHeaders(
  req: IncomingMessage,
  res: ServerResponse,
  overrides: SecurityHeaderOverrides,
): void {
  const done = () => undefined;
  if (overrides.csp) {
    const directives = { ...DEFAULT_CSP };
    for (const [name, sources] of Object.entries(overrides.csp)) {
      // The same directive may be named in camelCase or kebab-case: the override replaces either.
      const camel = name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
      delete directives[camel];
      directives[name] = sources;
    }
    contentSecurityPolicy({ useDefaults: false, directives })(req, res, done);
    if ('frameAncestors' in overrides.csp || 'frame-ancestors' in overrides.csp)
      res.removeHeader('X-Frame-Options');
  }
  if (overrides.crossOriginResourcePolicy)
    crossOriginResourcePolicy({ policy: overrides.crossOriginResourcePolicy })(req, res, done);
}
