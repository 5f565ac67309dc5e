/**
 * Which web origins may use a widget key: its own allowlist, or the page ingest itself serves.
 * Origin checks bind browsers only (any other client sends what it likes); they keep another
 * site's scripts from driving a customer's widget, and another site from framing the chat page.
 */

/** The origin spelled as browsers send it (scheme://host[:port], lower case), or undefined. */
export function normaliseOrigin(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.username || url.password || url.search || url.hash) return undefined;
  if (url.pathname !== '/' || value.endsWith('/')) return undefined;
  return url.origin;
}

export type OriginVerdict =
  /** No Origin header: not a cross-origin browser request (or not a browser). */
  | 'absent'
  /** The page ingest serves itself: the request's Origin is the host it was sent to. */
  | 'same'
  | 'allowed'
  | 'refused';

/**
 * `host` is the request's Host header: a browser's Origin naming that same host is ingest's
 * own chat page calling home.
 */
export function checkOrigin(
  origin: string | undefined,
  allowed: readonly string[],
  host: string | undefined,
): OriginVerdict {
  if (origin === undefined || origin === '') return 'absent';
  if (allowed.includes(origin)) return 'allowed';
  try {
    if (host && new URL(origin).host === host.toLowerCase()) return 'same';
  } catch {
    return 'refused';
  }
  return 'refused';
}

/**
 * The chat page's Content-Security-Policy: its script and style are ingest's own files, it talks
 * to ingest only, and only the widget key's origins may frame it.
 */
export function chatPagePolicy(frameOrigins: readonly string[]): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${frameOrigins.length ? frameOrigins.join(' ') : "'none'"}`,
  ].join('; ');
}
