import { lazy, Suspense } from 'react';
import type { Agent } from './api';

// The charts library is large: loaded only when the dashboard is opened, so the desk stays light.
const DashboardPage = lazy(() => import('./dashboard/DashboardPage'));

/** The analysts' dashboard over the metrics service. */
export function Dashboard({ agent }: { agent: Agent }) {
  return (
    <Suspense fallback={<div className="loading">Loading the dashboard…</div>}>
      <DashboardPage agent={agent} />
    </Suspense>
  );
}
