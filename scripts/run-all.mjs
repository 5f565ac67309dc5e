// Starts the services as separate processes, restarts one that exits,
// prints where each listens, and stops them all on Ctrl-C.
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { localEnv, localKeys, services, serviceArgs, root, waitHealthy } from './services.mjs';

const env = { ...process.env, ...localEnv() };
const children = new Map();
let stopping = false;
const colours = [36, 33, 35, 32, 34, 31];

function start(service, index) {
  const child = spawn(process.execPath, serviceArgs(service.name), {
    cwd: root,
    // A static group member: restarted after a crash, the service takes its partitions back at once.
    env: { KAFKA_INSTANCE_ID: `${service.name}-0`, ...env, PORT: String(service.port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = `\x1b[${colours[index % colours.length]}m${service.name.padEnd(18)}\x1b[0m| `;
  const pipe = (stream, out) => {
    let rest = '';
    stream.on('data', (chunk) => {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop();
      for (const line of lines) out.write(prefix + line + '\n');
    });
  };
  pipe(child.stdout, process.stdout);
  pipe(child.stderr, process.stderr);
  child.on('exit', (code, signal) => {
    children.delete(service.name);
    if (stopping) return;
    console.error(`${prefix}exited (${signal ?? code}); restarting in 2 s`);
    setTimeout(() => !stopping && start(service, index), 2000);
  });
  children.set(service.name, child);
}

function stop() {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping services…');
  for (const child of children.values()) child.kill('SIGTERM');
  const deadline = setTimeout(() => {
    for (const child of children.values()) child.kill('SIGKILL');
    process.exit(1);
  }, 20000);
  const wait = setInterval(() => {
    if (children.size === 0) {
      clearInterval(wait);
      clearTimeout(deadline);
      console.log('all services stopped');
      process.exit(0);
    }
  }, 100);
}

process.on('SIGINT', stop);
process.on('SIGTERM', stop);

services.forEach(start);
const results = await Promise.all(services.map((s) => waitHealthy(s.port)));
// Demo CRM data: the accounts the escalation policy's business rules look at.
try {
  execFileSync(
    process.execPath,
    [
      join(root, 'services/escalation-decider/dist/crm-import-main.js'),
      join(root, 'services/escalation-decider/seed/accounts.json'),
    ],
    { cwd: root, env, stdio: 'inherit' },
  );
} catch {
  console.error('could not publish the demo accounts (see above); account rules will see none');
}
const keys = localKeys();
const chat = `http://127.0.0.1:3001/?key=${keys.WIDGET_KEY}`;
// What a customer's site does on its server: signs who the signed-in customer is (here a demo
// customer of the acct-helios account) with the widget key's identity secret.
const identity = jwt.sign(
  { sub: 'cust-helios-ana', accountId: 'acct-helios' },
  keys.WIDGET_IDENTITY_SECRET,
  { algorithm: 'HS256', expiresIn: '7d' },
);
console.log('\n  Support platform is running:\n');
services.forEach((s, i) =>
  console.log(
    `  ${s.name.padEnd(20)} http://127.0.0.1:${s.port}   ${results[i] ? 'healthy' : 'NOT HEALTHY (see its log above)'}`,
  ),
);
console.log(`
  Web chat demo:       ${chat}
                        (the page holds only the publishable widget key)
    as a signed-in customer of a demo account (identity signed as the customer's site would, valid 7 days):
                       ${chat}#identity=${identity}&page=https://app.ledgerly.example/billing/invoices
                        (accounts: services/escalation-decider/seed/accounts.json)
  Agent desk:          http://127.0.0.1:3007/
    sign in as maya.chen@ledgerly.example (or jonas.weber, lucia.romero, kofi.mensah @ledgerly.example)
    password ${keys.DESK_DEMO_PASSWORD}   (in .local/dev.env)
    Open the web chat in one tab and the desk in another: ask for a person in the chat.
  Knowledge and dashboard: http://127.0.0.1:3007/#/knowledge   http://127.0.0.1:3007/#/dashboard
  Metrics API:         curl -H "Authorization: Bearer ${keys.METRICS_ADMIN_KEY}" http://127.0.0.1:3006/v1/metrics/overview
                       (OpenAPI: http://127.0.0.1:3006/v1/metrics/openapi.json)
  Keys (dev only, in .local/dev.env): CHANNEL_KEY for channel adapters (ingest's POST /v1/messages),
    one admin key per service (INGEST_ADMIN_KEY, ROUTER_ADMIN_KEY, AI_RESPONDER_ADMIN_KEY,
    DECIDER_ADMIN_KEY, METRICS_ADMIN_KEY, DESK_ADMIN_KEY), WIDGET_KEY for browsers

  Try it (with the channel key):
    curl -s -X POST http://127.0.0.1:3001/v1/messages -H "Authorization: Bearer ${keys.CHANNEL_KEY}" \\
      -H 'Content-Type: application/json' \\
      -d '{"channel":"web","externalConversationId":"demo-1","customerId":"c-1","text":"How do I reset my password?","idempotencyKey":"demo-1-1"}'

  Ctrl-C stops everything.
`);
