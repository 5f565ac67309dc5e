import { existsSync } from 'node:fs';
import { join, normalize, sep } from 'node:path';
import { Controller, Get, NotFoundException, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';

/** The desk's web app, built by Vite into web/dist (the same path from src/adapters and dist/adapters). */
export const WEB_DIST = join(__dirname, '..', '..', 'web', 'dist');

/**
 * Serves the built web app: its hashed assets (cached a year), and index.html
 * for any other page (so the app's own routes survive a reload). Registered
 * after the API controllers; API paths never fall through to it.
 */
@Controller()
export class WebAppController {
  @Get('*path')
  page(@Req() req: Request, @Res() res: Response): void {
    const path = decodeURIComponent(req.path);
    if (/^\/(v1|health|metrics)(\/|$)/.test(path)) throw new NotFoundException(`no route ${path}`);
    const file = normalize(join(WEB_DIST, path));
    if (path.startsWith('/assets/') && file.startsWith(WEB_DIST + sep) && existsSync(file)) {
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
