import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  NotFoundException,
  Param,
  Put,
  Res,
  UseGuards,
} from '@nestjs/common';
import {
  AccountSchema,
  create,
  decodeJsonBody,
  toJson,
  ValidationError,
  type Account,
  type JsonValue,
} from '@support/contracts';
import { ApiKeyGuard, invalidInput } from '@support/service-kit';
import { accountIdIssues, accountIssues } from '../domain/account-input.js';
import { actorOf } from './actor.js';
import { AccountWriter } from './account-writer.js';

interface Reply {
  status(code: number): void;
}

type HeaderMap = Record<string, string | string[] | undefined>;

/**
 * CRM accounts over HTTP, for CRMs that cannot feed Kafka (a key from
 * DECIDER_API_KEYS): `PUT /v1/accounts/:id` upserts (the body: the Account
 * in protobuf JSON, as `npm run crm:import` takes), `DELETE` removes,
 * `GET` answers the account as the decider has it. Writes go onto
 * crm.accounts and are answered 200/204 once applied (202 when published
 * but not seen applied in time); invalid input is a 400 naming the field, and
 * nothing is published for it. Writes are audited (admin.audit), the actor
 * named by `X-Actor` or else the key, as on the policy API.
 */
@Controller('v1/accounts')
@UseGuards(ApiKeyGuard)
export class AccountsController {
  constructor(private readonly writer: AccountWriter) {}

  @Get(':id')
  async get(@Param('id') id: string): Promise<JsonValue> {
    checkId(id);
    const account = await this.writer.stored(id);
    if (!account) throw new NotFoundException(`no account ${id}`);
    return toJson(AccountSchema, account);
  }

  @Put(':id')
  async put(
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers() headers: HeaderMap,
    @Res({ passthrough: true }) res: Reply,
  ): Promise<{ applied: boolean; account: JsonValue }> {
    checkId(id);
    const actor = actorOf(headers);
    let decoded: Account;
    try {
      decoded = decodeJsonBody(AccountSchema, body);
    } catch (err) {
      if (err instanceof ValidationError) throw invalidInput(err.issues);
      throw err;
    }
    const issues = accountIssues(decoded, id);
    if (issues.length) throw invalidInput(issues);
    const account = create(AccountSchema, { ...decoded, accountId: id });
    const applied = await this.writer.upsert(account, actor);
    res.status(applied ? 200 : 202);
    return { applied, account: toJson(AccountSchema, account) };
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(
    @Param('id') id: string,
    @Headers() headers: HeaderMap,
    @Res({ passthrough: true }) res: Reply,
  ): Promise<void> {
    checkId(id);
    const actor = actorOf(headers);
    if (!(await this.writer.remove(id, actor))) res.status(202);
  }
}

function checkId(id: string): void {
  const issues = accountIdIssues(id);
  if (issues.length) throw invalidInput(issues);
}
