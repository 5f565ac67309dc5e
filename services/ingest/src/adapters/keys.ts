import {
  Inject,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import { CONFIG } from '@support/service-kit';
import type { Config } from '../config.js';

/** The credential of `Authorization: Bearer <credential>`, or ''. */
export function bearer(header: string | undefined): string {
  return /^Bearer\s+(.+)$/i.exec(header ?? '')?.[1]?.trim() ?? '';
}

/** Whether `given` is one of `keys`, compared in constant time. */
export function isOneOf(keys: readonly string[], given: string): boolean {
  const g = Buffer.from(given);
  let found = false;
  for (const k of keys) {
    const key = Buffer.from(k);
    if (key.length === g.length && timingSafeEqual(key, g)) found = true;
  }
  return found && given !== '';
}

/**
 * Reading a conversation's state: an operator's key (INGEST_ADMIN_KEYS) or a channel's
 * (INGEST_API_KEYS). Widget keys and conversation tokens never read it.
 */
@Injectable()
export class ReadKeyGuard implements CanActivate {
  constructor(@Inject(CONFIG) private readonly config: Config) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context
      .switchToHttp()
      .getRequest<{ headers: Record<string, string | undefined> }>();
    const given = bearer(req.headers['authorization']);
    if (!isOneOf([...this.config.INGEST_ADMIN_KEYS, ...this.config.INGEST_API_KEYS], given))
      throw new UnauthorizedException(
        'an admin or channel key is required: Authorization: Bearer <key>',
      );
    return true;
  }
}
