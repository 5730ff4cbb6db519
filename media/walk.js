// The walk picture's page script. It only draws what the extension sends and posts the
// form back; all data comes by message. No inline handlers (the CSP forbids them).
(function () {
  const vscode = acquireVsCodeApi();
  const $ = (id) => document.getElementById(id);
  const form = $('form');
  const status = $('status');
  const columns = $('columns');

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function icon(name) {
    return el('span', 'codicon codicon-' + name);
  }

  function fillForm(r) {
    if (!r) return;
    $('sid').value = r.sid || '';
    $('ssid').value = r.ssid || '';
    $('iova').value = r.iova || '';
    $('access').value = r.access || 'read';
  }

  const STATE_TEXT = {
    stale: 'stale: the cached copy no longer matches memory',
    dirty: 'dirty: the CPU cache holds other bytes than the SMMU reads',
    pending: 'pending: CPU writes the SMMU may not see yet',
    preserved: 'preserved: the page survives a kexec',
    unpreserved: 'not preserved: after a kexec the new kernel may overwrite it while the SMMU still reads it',
  };

  function box(b) {
    const d = el('div', 'box ' + b.states.map((s) => 'state-' + s).join(' '));
    d.setAttribute('data-kind', b.kind);
    const head = el('div', 'head');
    head.append(el('span', 'kind', b.kind));
    if (b.addr) head.append(el('span', 'addr', '@ ' + b.addr));
    const src = el('span', 'badge source', b.source);
    src.title = 'where this read came from';
    head.append(src);
    for (const s of b.states) {
      const badge = el('span', 'badge ' + s, s);
      badge.title = STATE_TEXT[s] || s;
      head.append(badge);
    }
    d.append(head);
    d.append(el('div', 'summary', b.summary));
    if (b.fields.length) {
      const t = el('table', 'fields');
      for (const f of b.fields) {
        const tr = el('tr');
        tr.append(el('td', 'fname', f.name), el('td', 'fvalue', f.value));
        t.append(tr);
      }
      d.append(t);
    }
    if (b.words.length) d.append(el('div', 'words', b.words.join(' ')));
    return d;
  }

  function column(title, p) {
    const c = el('section', 'column');
    c.append(el('h2', '', title));
    c.append(el('div', 'tx', p.transaction));
    p.boxes.forEach((b, i) => {
      if (i) c.append(el('div', 'arrow', '↓'));
      c.append(box(b));
    });
    c.append(el('div', 'arrow', '↓'));
    const out = el('div', 'outcome ' + (/^translated|^bypass/.test(p.outcome) ? 'ok' : 'bad'));
    out.append(icon(/^translated|^bypass/.test(p.outcome) ? 'pass' : 'error'), document.createTextNode(' ' + p.outcome));
    c.append(out);
    return c;
  }

  function draw(m) {
    columns.textContent = '';
    status.textContent = '';
    status.className = '';
    if (m.type === 'idle') {
      status.textContent = m.message;
      return;
    }
    if (m.type === 'error') {
      status.className = 'error';
      status.append(icon('error'), document.createTextNode(' ' + m.message));
      return;
    }
    const p = m.pictures;
    if (p.differ) {
      status.className = 'warn';
      status.append(icon('warning'), document.createTextNode(' What the SMMU has cached disagrees with memory: an invalidation (CFGI/TLBI + CMD_SYNC) is missing or still to come.'));
    }
    columns.append(column('Now, with the SMMU\'s caches', p.now), column('Fetched afresh from memory', p.fresh));
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const request = { type: 'walk', sid: $('sid').value.trim(), ssid: $('ssid').value.trim(), iova: $('iova').value.trim(), access: $('access').value };
    vscode.setState({ request });
    vscode.postMessage(request);
  });

  window.addEventListener('message', (e) => {
    const m = e.data;
    fillForm(m.request);
    if (m.request) vscode.setState({ request: m.request });
    draw(m);
  });

  const saved = vscode.getState();
  if (saved && saved.request) fillForm(saved.request);
  vscode.postMessage({ type: 'ready' });
})();
