import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { FieldIssue } from '@support/contracts';
import { bodyIssues, headerIssues, pathIssues, queryIssues } from './input-checks.js';

function reject(res: Response, status: number, error: string, issues: FieldIssue[]): void {
  res.status(status).json({ error, issues });
}

/**
 * The shared check of a request's path, query string and headers, before its
 * body is read and before any route: a 400 `{ error: 'validation_failed',
 * issues }` naming `path`, `query.<name>` or `header.<name>` when one carries
 * NUL or another control character, a lone surrogate, invalid
 * percent-encoding or more than the limits (InputLimits).
 */
export const requestLineGuard: RequestHandler = (req, res, next) => {
  const url = req.originalUrl ?? req.url;
  const at = url.indexOf('?');
  const issues = [
    ...pathIssues(at < 0 ? url : url.slice(0, at)),
    ...(at < 0 ? [] : queryIssues(url.slice(at + 1))),
    ...headerIssues(req.rawHeaders),
  ];
  if (issues.length) return reject(res, 400, 'validation_failed', issues);
  next();
};

/** The shared check of a parsed body (JSON, form or text): a 400 naming `body.<path>`. */
export const bodyGuard: RequestHandler = (req, res, next) => {
  if (req.body === undefined) return next();
  const issues = bodyIssues(req.body);
  if (issues.length) return reject(res, 400, 'validation_failed', issues);
  next();
};

interface ParserError {
  type?: string;
  status?: number;
  message?: string;
  limit?: number;
  charset?: string;
  encoding?: string;
}

/**
 * The body parsers' errors in the project's shape instead of Nest's: a body
 * that is not valid JSON is a 400 naming `body` (rule `json`), one over the
 * size limit a 413, an unsupported charset or content encoding a 415. Any
 * other error goes on to Nest.
 */
export function bodyParserErrors(
  err: unknown,
  _req: Request,
  res: Response,
  next: NextFunction,
): void {
  const e = (err ?? {}) as ParserError;
  switch (e.type) {
    case 'entity.parse.failed':
      return reject(res, 400, 'validation_failed', [
        { field: 'body', rule: 'json', message: `must be valid JSON (${e.message ?? 'bad JSON'})` },
      ]);
    case 'entity.too.large':
      return reject(res, 413, 'payload_too_large', [
        { field: 'body', rule: 'max_size', message: `must be at most ${e.limit} bytes` },
      ]);
    case 'parameters.too.many':
      return reject(res, 413, 'payload_too_large', [
        { field: 'body', rule: 'max_items', message: 'has too many form parameters' },
      ]);
    case 'charset.unsupported':
      return reject(res, 415, 'unsupported_media_type', [
        {
          field: 'header.content-type',
          rule: 'charset',
          message: `charset ${JSON.stringify(e.charset)} is not supported: use utf-8`,
        },
      ]);
    case 'encoding.unsupported':
      return reject(res, 415, 'unsupported_media_type', [
        {
          field: 'header.content-encoding',
          rule: 'enum',
          message: `content encoding ${JSON.stringify(e.encoding)} is not supported: use identity, gzip, deflate or br`,
        },
      ]);
    default:
      // Other client errors of the parsers (a body cut short, a corrupt gzip stream) keep their status.
      if (typeof e.status === 'number' && e.status >= 400 && e.status < 500)
        return reject(res, e.status, 'bad_request', [
          {
            field: 'body',
            rule: e.type ?? 'unreadable',
            message: e.message ?? 'could not be read',
          },
        ]);
      next(err);
  }
}
