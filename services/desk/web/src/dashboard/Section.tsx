import { Component, type ReactNode } from 'react';

/** What a section shows while loading, on failure, or when its data is empty. */
export type Load<T> =
  { state: 'loading' } | { state: 'error'; message: string } | { state: 'ok'; data: T };

/**
 * A dashboard section: a region named by its heading (so a browser test finds it by role), a
 * CSV download of the rows behind it, and one place for loading, error and empty states.
 */
export function Section<T>({
  id,
  title,
  subtitle,
  csv,
  load,
  empty,
  wide,
  children,
}: {
  id: string;
  title: string;
  subtitle?: string;
  /** The CSV download of this section's rows. */
  csv: string;
  load: Load<T>;
  /** Why there is nothing to show, or null when there is. */
  empty: (data: T) => string | null;
  wide?: boolean;
  children: (data: T) => ReactNode;
}) {
  const headingId = `dash-${id}`;
  const emptyText = load.state === 'ok' ? empty(load.data) : null;
  return (
    <section
      className={`dash-section${wide ? ' wide' : ''}`}
      aria-labelledby={headingId}
      data-testid={`section-${id}`}
      aria-busy={load.state === 'loading'}
    >
      <header>
        <div>
          <h2 id={headingId}>{title}</h2>
          {subtitle && <p className="dash-subtitle">{subtitle}</p>}
        </div>
        <a className="csv" href={csv} download aria-label={`Download ${title} as CSV`}>
          CSV
        </a>
      </header>
      {load.state === 'loading' ? (
        <p className="empty">Loading…</p>
      ) : load.state === 'error' ? (
        <p className="error" role="alert">
          Could not load this section: {load.message}
        </p>
      ) : emptyText ? (
        <p className="empty dash-empty">{emptyText}</p>
      ) : (
        <Contained>{children(load.data)}</Contained>
      )}
    </section>
  );
}

/** A section that fails to draw (an answer of an unexpected shape) says so, and the others stay. */
class Contained extends Component<{ children: ReactNode }, { failure: string | null }> {
  state = { failure: null as string | null };

  static getDerivedStateFromError(err: Error) {
    return { failure: err.message };
  }

  render() {
    return this.state.failure ? (
      <p className="error" role="alert">
        Could not show this section: {this.state.failure}
      </p>
    ) : (
      this.props.children
    );
  }
}
