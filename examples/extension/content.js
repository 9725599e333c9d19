// The content script: on every keystroke in a text field (textarea, text-like
// input), asks the service worker for the next word after the text before the
// caret and shows the best one in a small box under the field; Tab inserts it
// (completing a partly typed word). Only the text before the caret is sent, and
// only to the extension's own service worker.
(() => {
  const TEXT_INPUTS = new Set(['text', 'search', 'url', 'email', '']);
  const box = document.createElement('div');
  box.id = 'mnemo-suggestion';
  box.setAttribute('role', 'status');
  Object.assign(box.style, {
    position: 'absolute', zIndex: '2147483647', display: 'none', pointerEvents: 'none',
    font: '13px system-ui, sans-serif', background: '#1d3f8f', color: '#fff', padding: '2px 6px',
    borderRadius: '4px', boxShadow: '0 1px 4px rgba(0,0,0,.3)',
  });
  let suggestion = null; // { field, partial, token }
  let asked = 0;

  // One long-lived port to the service worker: a message on an open port costs
  // far less than runtime.sendMessage, which sets up a channel per message.
  // Reopened when the service worker goes away (MV3 stops idle ones).
  let port = null, nextId = 0;
  const pending = new Map();
  function ask(msg) {
    if (!port) {
      const p = chrome.runtime.connect({ name: 'mnemo-predict' });
      p.onMessage.addListener((m) => { pending.get(m.id)?.resolve(m); pending.delete(m.id); });
      p.onDisconnect.addListener(() => {
        if (port === p) port = null;
        for (const r of pending.values()) r.reject(new Error('the service worker went away'));
        pending.clear();
      });
      port = p;
    }
    const id = ++nextId;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      try {
        port.postMessage({ ...msg, id });
      } catch (e) {
        pending.delete(id);
        port = null;
        reject(e);
      }
    });
  }

  const isField = (el) => el instanceof HTMLTextAreaElement
    || (el instanceof HTMLInputElement && TEXT_INPUTS.has(el.getAttribute('type') ?? ''));

  function hide() {
    suggestion = null;
    box.style.display = 'none';
    box.removeAttribute('data-token');
  }

  function show(field, partial, token) {
    suggestion = { field, partial, token };
    if (!box.isConnected) document.documentElement.append(box);
    const r = field.getBoundingClientRect();
    box.style.left = `${window.scrollX + r.left}px`;
    box.style.top = `${window.scrollY + r.bottom + 2}px`;
    box.textContent = `${token}  ⇥ Tab`;
    box.dataset.token = token;
    box.style.display = 'block';
  }

  async function update(field) {
    const before = field.value.slice(0, field.selectionStart ?? field.value.length);
    const mine = ++asked;
    if (!before.trim()) { hide(); return; }
    if (!box.isConnected) document.documentElement.append(box);
    const t0 = performance.now();
    let answer;
    try {
      answer = await ask({ type: 'predict', text: before });
    } catch {
      hide(); // the extension was reloaded or is not ready
      return;
    }
    if (mine !== asked || document.activeElement !== field) return; // a newer keystroke is on its way
    const partial = /\S*$/.exec(before)[0];
    const best = answer && !answer.error ? answer.suggestions.find((s) => s.token.startsWith(partial) && s.token !== partial) : undefined;
    if (best) show(field, partial, best.token); else hide();
    // What this answer was for, and its times (the round trip, and the model's part).
    box.dataset.text = before;
    box.dataset.ms = (performance.now() - t0).toFixed(3);
    box.dataset.modelMs = answer?.ms?.toFixed(3) ?? '';
    if (answer?.error) box.dataset.error = answer.error;
  }

  document.addEventListener('input', (e) => { if (isField(e.target)) update(e.target); }, true);
  document.addEventListener('focusout', hide, true);
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Tab' || e.shiftKey || !suggestion || e.target !== suggestion.field) return;
    e.preventDefault();
    const { field, partial, token } = suggestion;
    const at = field.selectionStart ?? field.value.length;
    field.setRangeText(token.slice(partial.length) + ' ', at, field.selectionEnd ?? at, 'end');
    field.dispatchEvent(new Event('input', { bubbles: true }));
  }, true);
})();
