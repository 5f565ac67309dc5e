import { useEffect, useState } from 'react';
import { api, type Agent } from './api';
import { Desk } from './Desk';
import { SignIn } from './SignIn';

export function App() {
  const [agent, setAgent] = useState<Agent | null | undefined>(undefined);

  useEffect(() => {
    api.me().then(setAgent, () => setAgent(null));
  }, []);

  if (agent === undefined) return <div className="loading">Loading…</div>;
  if (!agent) return <SignIn onSignedIn={setAgent} />;
  return (
    <Desk
      agent={agent}
      onSignOut={() => {
        void api.signOut().finally(() => setAgent(null));
      }}
    />
  );
}
