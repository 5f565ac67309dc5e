import { useEffect, useState } from 'react';
import { api, type Agent } from './api';
import { Dashboard } from './Dashboard';
import { Desk } from './Desk';
import { Knowledge } from './Knowledge';
import { SignIn } from './SignIn';

type View = 'desk' | 'knowledge' | 'dashboard';
const VIEWS: { view: View; title: string }[] = [
  { view: 'desk', title: 'Desk' },
  { view: 'knowledge', title: 'Knowledge' },
  { view: 'dashboard', title: 'Dashboard' },
];

/** The section named in the address (#/knowledge, #/dashboard); the desk otherwise. */
function viewFromHash(): View {
  const name = window.location.hash.replace(/^#\/?/, '').split(/[/?]/)[0];
  return VIEWS.find((v) => v.view === name)?.view ?? 'desk';
}

export function App() {
  const [agent, setAgent] = useState<Agent | null | undefined>(undefined);
  const [view, setView] = useState<View>(viewFromHash);

  useEffect(() => {
    api.me().then(setAgent, () => setAgent(null));
    const onHash = () => setView(viewFromHash());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  if (agent === undefined) return <div className="loading">Loading…</div>;
  if (!agent) return <SignIn onSignedIn={setAgent} />;
  const signOut = () => {
    void api.signOut().finally(() => setAgent(null));
  };
  return (
    <div className="app">
      <nav className="app-nav" aria-label="Sections">
        {VIEWS.map((v) => (
          <a key={v.view} href={`#/${v.view}`} aria-current={v.view === view ? 'page' : undefined}>
            {v.title}
          </a>
        ))}
      </nav>
      {view === 'knowledge' ? (
        <Knowledge agent={agent} />
      ) : view === 'dashboard' ? (
        <Dashboard agent={agent} />
      ) : (
        <Desk agent={agent} onSignOut={signOut} />
      )}
    </div>
  );
}
