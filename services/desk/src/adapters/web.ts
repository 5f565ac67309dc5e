import { existsSync } from 'node:fs';
import { join, normalize, sep } from 'node:path';
import {
  BadRequestException,
  Controller,
  Get,
  Next,
  NotFoundException,
  Req,
  Res,
} from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

/** The desk's web app, built by Vite into web/dist (the same path from src/adapters and dist/adapters). */
export const WEB_DIST = join(__dirname, '..', '..', 'web', 'dist');

/**
 * Serves the built web app: its hashed assets (cached a year), and index.html
 * for any other page (so the app's own routes survive a reload). Registered
 * after the API controllers; API paths never get the page.
 */
@Controller()
export class WebAppController {
  // `{*path}` matches the root too (`*path` does not).
  @Get('{*path}')
  page(@Req() req: Request, @Res() res: Response, @Next() next: NextFunction): void {
    let path: string;
    try {
      path = decodeURIComponent(req.path);
    } catch {
      throw new BadRequestException('the path is not valid percent-encoding');
    }
    // Not the app's: /health and /metrics (ServiceKitModule's routes, registered after this
    // module's) answer, and an unknown API path gets Nest's JSON 404.
    if (/^\/(v1|health|metrics)(\/|$)/.test(path)) return next();
    const file = normalize(join(WEB_DIST, path));
    if (path.startsWith('/assets/')) {
      // A missing asset is a 404, not the page (a script answered with HTML fails obscurely).
      if (!file.startsWith(WEB_DIST + sep) || !existsSync(file))
        throw new NotFoundException(`no asset ${path}`);
      res.sendFile(file, { maxAge: '365d', immutable: true });
      return;
    }
    const index = join(WEB_DIST, 'index.html');
    if (!existsSync(index)) {
      res.status(503).type('text/plain').send('the desk web app is not built: run npm run build');
      return;
    }
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index);
  }
}
