import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api } from './api';

/**
 * Changing one's password: the current one, the new one twice. On success every other
 * session of the login is signed out (this one stays).
 */
export function PasswordDialog({ onClose }: { onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState('');
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const d = dialog.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError('');
    if (next !== repeat) return setError('The new passwords differ.');
    setBusy(true);
    try {
      await api.changePassword(current, next);
      setDone(true);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <dialog ref={dialog} className="password-dialog" onClose={onClose} aria-label="Change password">
      {done ? (
        <div className="panel">
          <h2>Password changed</h2>
          <p role="status">Your other sessions have been signed out.</p>
          <button onClick={onClose}>Close</button>
        </div>
      ) : (
        <form className="panel" onSubmit={submit} aria-label="Change password">
          <h2>Change password</h2>
          <label>
            Current password
            <input
              type="password"
              autoComplete="current-password"
              value={current}
              onChange={(e) => setCurrent(e.target.value)}
              required
            />
          </label>
          <label>
            New password (at least 10 characters)
            <input
              type="password"
              autoComplete="new-password"
              minLength={10}
              value={next}
              onChange={(e) => setNext(e.target.value)}
              required
            />
          </label>
          <label>
            New password again
            <input
              type="password"
              autoComplete="new-password"
              minLength={10}
              value={repeat}
              onChange={(e) => setRepeat(e.target.value)}
              required
            />
          </label>
          {error && (
            <p role="alert" className="error">
              {error}
            </p>
          )}
          <div className="actions">
            <button type="submit" disabled={busy}>
              {busy ? 'Changing…' : 'Change password'}
            </button>
            <button type="button" className="secondary" onClick={onClose}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </dialog>
  );
}
