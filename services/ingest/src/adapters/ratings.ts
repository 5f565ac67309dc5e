import { Inject, Injectable } from '@nestjs/common';
import { Bus, Topics } from '@support/bus';
import type { CsatRating } from '@support/contracts';
import type { ConversationState } from '@support/conversation';
import { CONFIG, JsonLogger } from '@support/service-kit';
import { SnapshotStore } from '@support/stream';
import type { Config } from '../config.js';
import { decideRating, type RatingRejection } from '../domain/closing.js';
import { Appending, type RecordAt } from './appending.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The once-key of appending one rating to the log. */
const ratingKey = (eventId: string) => `ingest:csat:${eventId}`;

/** A rating that does not fit the conversation (see decideRating). */
export class RatingRejected extends Error {
  constructor(readonly rejection: RatingRejection) {
    super(`${rejection.field} (${rejection.rule}): ${rejection.message}`);
  }
}

/** Customers' ratings of their conversations (CSAT), from a channel or the HTTP API, onto the log once each. */
@Injectable()
export class Ratings {
  constructor(
    private readonly bus: Bus,
    private readonly store: SnapshotStore,
    private readonly appending: Appending,
    private readonly logger: JsonLogger,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  /**
   * Appends CsatRated for a rating of the conversation (once per event id),
   * or throws RatingRejected. The conversation's request may have reached
   * the log a moment before the snapshot: a rejection is checked again for
   * up to DESK_CATCH_UP_MS. `at`: the support.inbound record it comes from, if any.
   */
  async rate(
    conversationId: string,
    rating: Pick<CsatRating, 'requestId' | 'score' | 'comment'>,
    eventId: string,
    trace: { correlationId?: string; causationId?: string } = {},
    at?: RecordAt,
  ): Promise<{ requestId: string; duplicate: boolean }> {
    const decision = await this.withCatchUp(conversationId, (state) =>
      decideRating(state, rating, eventId),
    );
    if (decision.kind === 'reject') throw new RatingRejected(decision.rejection);
    const { event } = decision;
    const key = ratingKey(eventId);
    const [appended] = await this.appending.claim([{ key, at }]);
    if (appended)
      await this.appending.append([key], () =>
        this.bus.publish({
          topic: Topics.events,
          key: conversationId,
          value: event,
          eventId,
          ...trace,
        }),
      );
    this.logger.log(appended ? 'rating appended' : 'duplicate rating dropped', {
      conversationId,
      correlationId: trace.correlationId,
      eventId,
    });
    const requestId = event.payload.case === 'csatRated' ? event.payload.value.requestId : '';
    return { requestId, duplicate: !appended };
  }

  /** A decision on the snapshot, taken again with growing pauses while it is a rejection. */
  private async withCatchUp<D extends { kind: string }>(
    conversationId: string,
    decide: (state: ConversationState) => D,
  ): Promise<D> {
    const budget = this.config.DESK_CATCH_UP_MS;
    let waited = 0;
    let pause = 50;
    for (;;) {
      const decision = decide(await this.store.state(conversationId));
      if (decision.kind !== 'reject' || waited >= budget) return decision;
      const step = Math.min(pause, budget - waited);
      await sleep(step);
      waited += step;
      pause = Math.min(pause * 2, 1_000);
    }
  }
}
