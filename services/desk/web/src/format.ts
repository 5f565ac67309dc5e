export const PRIORITY = ['unspecified', 'low', 'normal', 'high', 'urgent'];

export function priorityName(p: number | string | undefined): string {
  if (typeof p === 'number') return PRIORITY[p] ?? 'normal';
  return (p ?? 'PRIORITY_NORMAL').replace('PRIORITY_', '').toLowerCase();
}

export function ago(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

export function time(iso: string): string {
  return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/** "explicit_human_request" -> "explicit human request". */
export function ruleName(rule: string): string {
  return rule.replace(/_/g, ' ');
}

export function money(amount: number | undefined, currency: string | undefined): string {
  if (amount === undefined) return '';
  try {
    return new Intl.NumberFormat(undefined, {
      style: 'currency',
      currency: currency || 'USD',
    }).format(amount);
  } catch {
    return `${amount} ${currency ?? ''}`.trim();
  }
}
