import { apiKeyActor, invalidInput } from '@support/service-kit';

/** Who changes something over the decider's API: the X-Actor the caller names (optional), and the key it used. */
export interface Actor {
  /** X-Actor, else `keyId`: who the history and the audit trail name. */
  name: string;
  /** `api-key:<12 hex digits of the SHA-256 of the API key>` (service-kit's apiKeyActor): never the key itself. */
  keyId: string;
}

const ACTOR = /^[^\p{Cc}]{1,200}$/u;

/**
 * The actor of a request: `X-Actor: <who>` names the person acting through a
 * client holding a key (a 400 naming the header when it is empty, too long or
 * has control characters); without it the key stands for them.
 */
export function actorOf(headers: Record<string, string | string[] | undefined>): Actor {
  const authorization = headers.authorization;
  const keyId = apiKeyActor(typeof authorization === 'string' ? authorization : undefined);
  const given = headers['x-actor'];
  if (given === undefined) return { name: keyId, keyId };
  if (typeof given !== 'string' || !ACTOR.test(given.trim()))
    throw invalidInput([
      {
        field: 'header.x-actor',
        rule: 'format',
        message: 'must be 1-200 characters without control characters (who makes the change)',
      },
    ]);
  return { name: given.trim(), keyId };
}
