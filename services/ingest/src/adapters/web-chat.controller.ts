import { Controller, Get, Header, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chatPagePolicy } from '../domain/origins.js';
import { WidgetGate } from './widget-gate.js';

const read = (file: string) => readFileSync(join(__dirname, '..', '..', 'public', file), 'utf8');
const page = read('chat.html');
const script = read('chat.js');
const style = read('chat.css');

/**
 * The web chat: a page that holds only a publishable widget key (`/?key=<widget key>`) and talks
 * to the widget API. Its script and style are files of their own (the policy allows no inline
 * code), and only the widget key's origins may frame it.
 */
@Controller()
export class WebChatController {
  constructor(private readonly gate: WidgetGate) {}

  @Get()
  chat(@Query('key') key: unknown, @Res({ passthrough: true }) res: Response): string {
    const widget = typeof key === 'string' ? this.gate.keyOf(key) : undefined;
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.setHeader('Content-Security-Policy', chatPagePolicy(widget?.origins ?? []));
    // frame-ancestors decides who may frame the page (browsers ignore X-Frame-Options beside it).
    res.removeHeader('X-Frame-Options');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cache-Control', 'no-store');
    return page;
  }

  @Get('chat.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  script(): string {
    return script;
  }

  @Get('chat.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  style(): string {
    return style;
  }
}
