import { useCallback, useEffect, useRef, useState } from 'react';
import { api, type Agent, type Lane, type QueueItem } from './api';
import { Conversation } from './Conversation';
import { PasswordDialog } from './PasswordDialog';
import { ago, priorityName, ruleName } from './format';

const LANES: { lane: Lane; title: string; empty: string }[] = [
  { lane: 'review', title: 'AI answers to review', empty: '' },
  { lane: 'offered', title: 'Offered to you', empty: 'Nothing offered right now.' },
  { lane: 'mine', title: 'Yours', empty: 'No conversations yet.' },
  { lane: 'waiting', title: 'Waiting in the queue', empty: 'Nobody is waiting.' },
  { lane: 'colleague', title: 'With colleagues', empty: '' },
];

type Presence = 'online' | 'away';
const PRESENCE_EVERY_MS = 20_000;

export function Desk({ agent, onSignOut }: { agent: Agent; onSignOut: () => void }) {
  const [items, setItems] = useState<QueueItem[]>([]);
  const [selected, setSelected] = useState<string | null>(null);
  const [presence, setPresence] = useState<Presence>('online');
  const [live, setLive] = useState(false);
  const [version, setVersion] = useState(0);
  const [changingPassword, setChangingPassword] = useState(false);
  const [, setTick] = useState(0);
  const selectedRef = useRef(selected);
  selectedRef.current = selected;

  const refresh = useCallback(async () => {
    try {
      const { items } = await api.queue();
      setItems(items);
    } catch (err) {
      if ((err as { status?: number }).status === 401) onSignOut();
    }
  }, [onSignOut]);

  // Live updates: any change to a handed-off conversation refreshes the queue (and the open one).
  useEffect(() => {
    void refresh();
    const source = new EventSource('/v1/desk/stream');
    source.addEventListener('ready', () => setLive(true));
    source.addEventListener('update', (e) => {
      const u = JSON.parse((e as MessageEvent<string>).data) as { conversationId: string };
      void refresh();
      if (u.conversationId === selectedRef.current) setVersion((v) => v + 1);
    });
    source.onerror = () => setLive(false);
    return () => source.close();
  }, [refresh]);

  // Presence: reported now and every 20 s while the desk is open; the router forgets it if the desk stops.
  useEffect(() => {
    const report = () => void api.presence(presence).catch(() => undefined);
    report();
    const every = setInterval(report, PRESENCE_EVERY_MS);
    return () => clearInterval(every);
  }, [presence]);

  // Waiting times tick.
  useEffect(() => {
    const every = setInterval(() => setTick((t) => t + 1), 10_000);
    return () => clearInterval(every);
  }, []);

  const offered = items.filter((i) => i.lane === 'offered' || i.lane === 'review').length;
  useEffect(() => {
    document.title = offered ? `(${offered}) Support desk` : 'Support desk';
  }, [offered]);

  return (
    <div className="desk">
      <header>
        <strong>Support desk</strong>
        <span
          className={`live ${live ? 'on' : 'off'}`}
          title={live ? 'Live updates on' : 'Reconnecting…'}
        >
          {live ? 'live' : 'offline'}
        </span>
        <span className="spacer" />
        <span data-testid="agent-name">
          {agent.name}
          {agent.team ? ` · ${agent.team}` : ''}
        </span>
        <select
          aria-label="Presence"
          value={presence}
          onChange={(e) => setPresence(e.target.value as Presence)}
        >
          <option value="online">Online</option>
          <option value="away">Away</option>
        </select>
        <button className="link" onClick={() => setChangingPassword(true)}>
          Change password
        </button>
        <button className="link" onClick={onSignOut}>
          Sign out
        </button>
        {changingPassword && <PasswordDialog onClose={() => setChangingPassword(false)} />}
      </header>
      <nav className="queue" aria-label="Queue">
        {LANES.map(({ lane, title, empty }) => {
          const list = items.filter((i) => i.lane === lane);
          if ((lane === 'colleague' || lane === 'review') && list.length === 0) return null;
          return (
            <section key={lane} data-lane={lane}>
              <h2>
                {title} <span className="count">{list.length}</span>
              </h2>
              {list.length === 0 && <p className="empty">{empty}</p>}
              <ul>
                {list.map((item) => (
                  <li key={item.conversationId}>
                    <button
                      className={`queue-item ${selected === item.conversationId ? 'selected' : ''}`}
                      data-testid="queue-item"
                      onClick={() => setSelected(item.conversationId)}
                    >
                      <span className={`priority p-${priorityName(item.priority)}`}>
                        {priorityName(item.priority)}
                      </span>
                      <span className="who">{item.customerId || 'customer'}</span>
                      <span className="age">{ago(item.requestedAt)}</span>
                      <span className="summary">
                        {item.review ? item.review.text : item.summary || item.last?.text}
                      </span>
                      <span className="rules">
                        {item.rules.map(ruleName).join(' · ')}
                        {item.agent && lane === 'colleague' ? ` — ${item.agent.agentName}` : ''}
                      </span>
                    </button>
                  </li>
                ))}
              </ul>
            </section>
          );
        })}
      </nav>
      <main className="detail">
        {selected ? (
          <Conversation
            key={selected}
            id={selected}
            version={version}
            agent={agent}
            onChanged={() => void refresh()}
            onClosed={() => setSelected(null)}
          />
        ) : (
          <p className="empty center">Pick a conversation on the left.</p>
        )}
      </main>
    </div>
  );
}
