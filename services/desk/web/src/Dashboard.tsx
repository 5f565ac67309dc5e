import type { Agent } from './api';

/** The analysts' dashboard over the metrics service. */
export function Dashboard({ agent: _agent }: { agent: Agent }) {
  return <main className="dashboard">Dashboard</main>;
}
