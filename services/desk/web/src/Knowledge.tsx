import type { Agent } from './api';

/** The knowledge suggestions awaiting approval (the learning loop). */
export function Knowledge({ agent: _agent }: { agent: Agent }) {
  return <main className="knowledge">Knowledge suggestions</main>;
}
