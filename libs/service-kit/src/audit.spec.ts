import { createHash } from 'node:crypto';
import { apiKeyActor, apiKeyFingerprint, auditDetailJson, auditRecord, loginActor } from './audit';

describe('auditRecord: an admin change as it goes on admin.audit', () => {
  const entry = {
    actor: 'api-key:0123456789ab',
    action: 'agent.updated',
    resourceType: 'agent',
    resourceId: 'agent-7',
    detail: { changed: ['skills'] },
  };

  it('carries the entry, the service, the time and a fresh id', () => {
    const at = new Date('2026-03-04T10:00:00Z');
    const r = auditRecord({ ...entry, occurredAt: at }, 'router');
    expect(r).toMatchObject({
      service: 'router',
      actor: entry.actor,
      action: 'agent.updated',
      resourceType: 'agent',
      resourceId: 'agent-7',
      occurredAt: '2026-03-04T10:00:00.000Z',
      detailJson: '{"changed":["skills"]}',
    });
    expect(r.auditId).toMatch(/^[0-9a-f-]{36}$/);
    expect(auditRecord(entry, 'router').auditId).not.toBe(r.auditId);
    expect(auditRecord({ ...entry, auditId: 'given' }, 'router').auditId).toBe('given');
  });

  it('refuses an entry without an actor or resource, or with a malformed action', () => {
    expect(() => auditRecord({ ...entry, actor: ' ' }, 'router')).toThrow('actor is required');
    expect(() => auditRecord({ ...entry, resourceId: '' }, 'router')).toThrow(
      'resourceId is required',
    );
    for (const action of ['updated', 'Agent.Updated', 'agent updated', 'agent.'])
      expect(() => auditRecord({ ...entry, action }, 'router')).toThrow(/<resource type>\.<verb>/);
    expect(() => auditRecord({ ...entry, action: 'login.password_changed' }, 'desk')).not.toThrow();
  });
});

describe('auditDetailJson: the detail, without secrets and short', () => {
  it('redacts values under secret-like keys, at any depth (flags stay)', () => {
    const json = auditDetailJson({
      name: 'Ada',
      password: 'hunter2hunter2',
      webhook: { secret: 'whsec_x', url: 'https://example.com' },
      keys: [{ apiKey: 'k-1' }],
      token: 't',
      passwordChanged: true,
    });
    expect(JSON.parse(json)).toEqual({
      name: 'Ada',
      password: '[redacted]',
      webhook: { secret: '[redacted]', url: 'https://example.com' },
      keys: [{ apiKey: '[redacted]' }],
      token: '[redacted]',
      passwordChanged: true,
    });
  });

  it('is {} without a detail', () => {
    expect(auditDetailJson()).toBe('{}');
  });

  it('cuts a long detail down to its field names', () => {
    const json = auditDetailJson({ body: 'x'.repeat(5000), title: 'T' });
    expect(JSON.parse(json)).toEqual({ truncated: true, fields: ['body', 'title'] });
  });
});

describe('actors', () => {
  it('names an API key by a fingerprint of it, never the key itself', () => {
    const key = 'sk-very-secret-key';
    const fingerprint = createHash('sha256').update(key).digest('hex').slice(0, 12);
    expect(apiKeyFingerprint(key)).toBe(fingerprint);
    expect(apiKeyActor(`Bearer ${key}`)).toBe(`api-key:${fingerprint}`);
    expect(apiKeyActor(`bearer   ${key} `)).toBe(`api-key:${fingerprint}`);
    expect(apiKeyActor(undefined)).toBe('api-key:unknown');
  });

  it('names a signed-in person by their login', () => {
    expect(loginActor('ada@example.com')).toBe('login:ada@example.com');
  });
});
