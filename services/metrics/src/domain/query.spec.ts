import { parseQuery } from './query';

describe('analyst query', () => {
  it('reads the range, the segments and the extras', () => {
    const { query, issues } = parseQuery({
      from: '2026-01-01',
      channel: 'web',
      topic: 'unknown',
      interval: 'week',
      groupBy: 'tier',
    });
    expect(issues).toEqual([]);
    expect(query).toEqual(
      expect.objectContaining({
        filters: { from: '2026-01-01T00:00:00.000Z', to: null, channel: 'web', topic: 'unknown' },
        segments: { channel: 'web', topic: '' },
        interval: 'week',
        groupBy: 'tier',
        csv: false,
      }),
    );
  });

  it('names every bad field', () => {
    const { issues } = parseQuery({
      from: 'soon',
      interval: 'year',
      groupBy: 'agent',
      format: 'xml',
    });
    expect(issues.map((i) => i.field)).toEqual(['from', 'interval', 'groupBy', 'format']);
  });

  it('answers CSV on format=csv or Accept: text/csv', () => {
    expect(parseQuery({ format: 'csv' }).query.csv).toBe(true);
    expect(parseQuery({}, 'text/csv').query.csv).toBe(true);
    expect(parseQuery({ format: 'json' }, 'text/csv').query.csv).toBe(false);
  });
});
