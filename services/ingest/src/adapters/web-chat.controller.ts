import { Controller, Get, Header } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const page = readFileSync(join(__dirname, '..', '..', 'public', 'chat.html'), 'utf8');

/** A demo web-chat channel: posts to /v1/messages and listens on the SSE stream. */
@Controller()
export class WebChatController {
  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  chat(): string {
    return page;
  }
}
