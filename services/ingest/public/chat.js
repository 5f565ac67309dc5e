// The web chat: holds only a publishable widget key (the page's ?key=) and, per conversation,
// the short-lived token the widget API issues for it. Served as a file of its own: the page's
// Content-Security-Policy allows no inline script.
//
// The URL's fragment (never sent to a server) may carry the customer's identity as the customer's
// site signed it (#identity=<JWT>, or #customer=<id>&userHash=<hex>) and the page they are on
// (#page=<url>).
(function () {
  'use strict';
  const widgetKey = new URLSearchParams(location.search).get('key') || '';
  const hash = new URLSearchParams(location.hash.slice(1));
  const identity = hash.get('identity')
    ? { identityToken: hash.get('identity') }
    : hash.get('customer')
      ? { customerId: hash.get('customer'), userHash: hash.get('userHash') || '' }
      : {};
  const pageUrl = hash.get('page') || location.href.split('#')[0].split('?')[0];
  const api = '/v1/widget/conversations';

  const log = document.getElementById('log');
  const who = document.getElementById('who');
  // The conversation of this tab and widget key: { widgetKey, conversationId, token, expiresAt, customer }.
  let conversation = JSON.parse(sessionStorage.getItem('conversation') || 'null');
  if (conversation && conversation.widgetKey !== widgetKey) conversation = null;
  const rated = new Set(JSON.parse(sessionStorage.getItem('rated') || '[]'));
  const shown = new Set();
  let stream;
  let lastEventId = '';
  let refreshTimer;

  function save() {
    if (conversation) sessionStorage.setItem('conversation', JSON.stringify(conversation));
    else sessionStorage.removeItem('conversation');
    who.textContent = conversation
      ? conversation.customer.verified
        ? 'Signed in as ' + conversation.customer.id
        : 'Chatting as a guest'
      : '';
  }

  function add(kind, text, author, citations) {
    const div = document.createElement('div');
    div.className = 'msg ' + kind;
    if (author) {
      const a = document.createElement('span');
      a.className = 'author';
      a.textContent = author;
      div.append(a);
    }
    div.append(document.createTextNode(text));
    for (const c of (citations || []).filter((c) => !text.includes(c.title))) {
      const s = document.createElement('span');
      s.className = 'cite';
      s.textContent = 'Source: ' + c.title;
      div.append(s);
    }
    // Only the latest message may be confirmed as the answer.
    for (const b of log.querySelectorAll('.answered')) b.remove();
    log.append(div);
    log.scrollTop = log.scrollHeight;
  }

  function problem(body, status) {
    const issues = body && (body.issues || (body.message && body.message.issues));
    return (
      (issues && issues.map((i) => i.field + ' ' + i.message).join(', ')) ||
      (body && typeof body.message === 'string' ? body.message : '') ||
      String(status)
    );
  }

  async function call(method, path, credential, body, extraHeaders) {
    const res = await fetch(path, {
      method,
      headers: {
        'content-type': 'application/json',
        authorization: 'Bearer ' + credential,
        ...(extraHeaders || {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { ok: res.ok, status: res.status, body: await res.json().catch(() => ({})) };
  }

  /** A new conversation for the widget key, as the signed identity (if any) says. */
  async function start() {
    const res = await call('POST', api, widgetKey, identity);
    if (!res.ok) return res;
    if (stream) stream.close();
    stream = undefined;
    lastEventId = '';
    conversation = {
      widgetKey,
      conversationId: res.body.conversationId,
      token: res.body.token,
      expiresAt: res.body.expiresAt,
      customer: res.body.customer,
    };
    save();
    scheduleRefresh();
    return res;
  }

  /** Exchanges the conversation's token for a new one; a conversation too old is let go. */
  async function refresh() {
    if (!conversation) return false;
    const res = await call(
      'POST',
      api + '/' + conversation.conversationId + '/token',
      conversation.token,
    );
    if (!res.ok) {
      if (res.status === 401) {
        conversation = null;
        save();
      }
      return false;
    }
    conversation.token = res.body.token;
    conversation.expiresAt = res.body.expiresAt;
    save();
    scheduleRefresh();
    return true;
  }

  function scheduleRefresh() {
    clearTimeout(refreshTimer);
    if (!conversation) return;
    // A minute before it expires (a fifth of its life before, for short-lived tokens).
    const remaining = Date.parse(conversation.expiresAt) - Date.now();
    const due = remaining - Math.min(60_000, remaining / 5);
    refreshTimer = setTimeout(() => void refresh(), Math.max(1_000, due));
  }

  /** A call on the conversation with its token, refreshed and tried again once when it expired. */
  async function customerCall(method, path, body, extraHeaders) {
    const url = api + '/' + conversation.conversationId + '/' + path;
    let res = await call(method, url, conversation.token, body, extraHeaders);
    if (res.status === 401 && res.body.error === 'token_expired' && (await refresh()))
      res = await call(method, url, conversation.token, body, extraHeaders);
    return res;
  }

  function offerConfirm() {
    const button = document.createElement('button');
    button.className = 'answered';
    button.type = 'button';
    button.textContent = 'This answered my question';
    button.addEventListener('click', async () => {
      button.disabled = true;
      const res = await customerCall('POST', 'confirm', {});
      button.remove();
      // On success the request to rate the conversation follows on the stream.
      if (!res.ok) add('system', 'This conversation stays open: ' + problem(res.body, res.status));
    });
    log.append(button);
    log.scrollTop = log.scrollHeight;
  }

  function askRating(requestId) {
    if (rated.has(requestId)) return;
    const box = document.createElement('div');
    box.className = 'rating';
    box.setAttribute('role', 'group');
    box.setAttribute('aria-label', 'Rate this conversation');
    const comment = document.createElement('textarea');
    comment.rows = 2;
    comment.maxLength = 2000;
    comment.placeholder = 'Anything to add? (optional)';
    comment.setAttribute('aria-label', 'Comment');
    const scores = document.createElement('div');
    scores.className = 'scores';
    scores.append('Very dissatisfied');
    for (let score = 1; score <= 5; score++) {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = String(score);
      b.setAttribute('aria-label', 'Rate ' + score + ' of 5');
      b.addEventListener('click', async () => {
        for (const other of scores.querySelectorAll('button')) other.disabled = true;
        const res = await customerCall(
          'POST',
          'csat',
          { score, comment: comment.value.trim(), requestId },
          { 'idempotency-key': crypto.randomUUID() },
        );
        if (!res.ok) {
          for (const other of scores.querySelectorAll('button')) other.disabled = false;
          add('system', 'Could not send your rating: ' + problem(res.body, res.status));
          return;
        }
        rated.add(requestId);
        sessionStorage.setItem('rated', JSON.stringify([...rated]));
        box.replaceChildren('Thank you for your rating!');
        box.classList.add('thanks');
      });
      scores.append(b);
    }
    scores.append('Very satisfied');
    box.append(scores, comment);
    log.append(box);
    log.scrollTop = log.scrollHeight;
  }

  function show(m) {
    if (shown.has(m.messageId)) return;
    shown.add(m.messageId);
    const kind =
      m.kind === 'OUTBOUND_KIND_SYSTEM' || m.kind === 'OUTBOUND_KIND_CSAT_REQUEST'
        ? 'system'
        : m.kind === 'OUTBOUND_KIND_AGENT_REPLY'
          ? 'agent'
          : 'ai';
    add(kind, m.text, kind === 'system' ? '' : m.author, m.citations);
    if (m.kind === 'OUTBOUND_KIND_AI_REPLY') offerConfirm();
    if (m.kind === 'OUTBOUND_KIND_CSAT_REQUEST') askRating(m.csatRequestId);
  }

  /**
   * Follows the conversation's replies. The server ends the stream when the token it was opened
   * with expires: the stream is then opened again with a fresh token, after the last message seen.
   */
  function listen() {
    if (stream || !conversation) return;
    const after = lastEventId ? '&after=' + encodeURIComponent(lastEventId) : '';
    stream = new EventSource(
      api +
        '/' +
        conversation.conversationId +
        '/stream?token=' +
        encodeURIComponent(conversation.token) +
        after,
    );
    stream.addEventListener('message', (e) => {
      lastEventId = e.lastEventId || lastEventId;
      show(JSON.parse(e.data));
    });
    stream.addEventListener('error', () => {
      stream.close();
      stream = undefined;
      setTimeout(async () => {
        if (!conversation) return;
        if (Date.parse(conversation.expiresAt) - Date.now() < 30_000) await refresh();
        listen();
      }, 1_000);
    });
  }

  /** Posts the customer's message, in a new conversation when there is none (or it was let go). */
  async function send(message) {
    if (conversation) {
      const res = await customerCall('POST', 'messages', message);
      if (res.ok || conversation) return res;
    }
    const started = await start();
    if (!started.ok) return started;
    return customerCall('POST', 'messages', message);
  }

  save();
  if (conversation) {
    scheduleRefresh();
    listen();
  }

  document.getElementById('form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const input = document.getElementById('text');
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    add('customer', text);
    const res = await send({
      text,
      idempotencyKey: crypto.randomUUID(),
      locale: navigator.language || 'en',
      pageUrl,
    });
    if (!res.ok) {
      add('system', 'Could not send: ' + problem(res.body, res.status));
      return;
    }
    listen();
  });
})();
