'use strict';
// The first-boot page: claim with the token, show the box, check the form
// field by field, apply, follow the box to its new address.

const $ = (id) => document.getElementById(id);
const FIELDS = ['hostname', 'domain', 'interface', 'address', 'gateway', 'dns', 'timezone', 'form'];
const SECTIONS = ['loading', 'claim', 'open', 'pending', 'awaiting', 'done'];
let phase = null;
let poller = null;
let prober = null;
let deadline = 0;
let filled = false;

async function api(path, body) {
  const opts = { cache: 'no-store', credentials: 'same-origin' };
  if (body !== undefined) {
    opts.method = 'POST';
    opts.headers = { 'Content-Type': 'application/json' };
    opts.body = JSON.stringify(body);
  }
  const res = await fetch(path, opts);
  let data = {};
  try { data = await res.json(); } catch (e) { data = {}; }
  return { status: res.status, ok: res.ok, data };
}

function show(name) {
  for (const s of SECTIONS) $(s).hidden = s !== name;
  document.body.dataset.phase = name;
  phase = name;
}

function cell(row, text) {
  const td = document.createElement('td');
  td.textContent = text;
  row.appendChild(td);
}

function fillBox(d) {
  const nics = $('nics').tBodies[0];
  nics.replaceChildren();
  const select = $('interface');
  const chosen = select.value;
  select.replaceChildren();
  for (const n of d.interfaces) {
    const row = nics.insertRow();
    row.dataset.nic = n.name;
    cell(row, n.name);
    cell(row, n.mac || '—');
    cell(row, n.operstate);
    cell(row, n.addresses.join(', ') || '—');
    const opt = document.createElement('option');
    opt.value = n.name;
    opt.textContent = n.name + (n.mac ? ' (' + n.mac + ')' : '');
    select.appendChild(opt);
  }
  if (chosen) select.value = chosen;
  const cards = $('cards').tBodies[0];
  cards.replaceChildren();
  for (const c of d.cards) {
    const row = cards.insertRow();
    row.dataset.card = c.location;
    cell(row, c.location);
    cell(row, c.driver);
    cell(row, String(c.spans));
    cell(row, c.description);
  }
  $('cards').hidden = d.cards.length === 0;
  $('no-cards').hidden = d.cards.length !== 0;
}

function fillForm(f) {
  if (filled) return;
  for (const k of ['hostname', 'domain', 'interface', 'address', 'prefix', 'gateway', 'dns', 'timezone']) {
    if (f[k] !== undefined) $(k).value = f[k];
  }
  filled = true;
}

function readForm() {
  const f = {};
  for (const k of ['hostname', 'domain', 'interface', 'address', 'prefix', 'gateway', 'dns', 'timezone']) {
    f[k] = $(k).value;
  }
  return f;
}

function showProblems(problems) {
  for (const field of FIELDS) {
    const slot = $('err-' + field);
    slot.replaceChildren();
    const list = (problems && problems[field]) || [];
    for (const p of list) {
      const line = document.createElement('div');
      line.textContent = p.message;
      if (p.help) {
        const help = document.createElement('span');
        help.className = 'help';
        help.textContent = p.help;
        line.appendChild(help);
      }
      slot.appendChild(line);
    }
    const box = document.querySelector('.field[data-field="' + field + '"]');
    if (box) box.classList.toggle('bad', list.length > 0);
  }
}

function formError(message) {
  showProblems({ form: [{ message }] });
}

function showPlan(plan, warnings) {
  const ol = $('plan');
  ol.replaceChildren();
  for (const line of plan) {
    const li = document.createElement('li');
    li.textContent = line;
    ol.appendChild(li);
  }
  if (plan.length === 0) {
    const li = document.createElement('li');
    li.textContent = 'Nothing: the box already has these settings.';
    ol.appendChild(li);
  }
  const ul = $('warnings');
  ul.replaceChildren();
  for (const w of warnings) {
    const li = document.createElement('li');
    li.textContent = w;
    ul.appendChild(li);
  }
  $('preview').hidden = false;
}

let checking = null;
let recheck = false;

// One check at a time: a change made while one runs is checked after it.
async function check() {
  if (checking) { recheck = true; return checking; }
  checking = runCheck();
  try { await checking; } finally { checking = null; }
  if (recheck) { recheck = false; await check(); }
}

async function runCheck() {
  $('apply').disabled = true;
  $('preview').hidden = true;
  let r;
  try { r = await api('/api/check', readForm()); } catch (e) { formError('The box did not answer.'); return; }
  if (!r.ok) { formError(r.data.error || ('The box answered ' + r.status + '.')); return; }
  showProblems(r.data.problems);
  document.body.dataset.checked = r.data.valid ? 'valid' : 'invalid';
  if (r.data.valid) {
    showPlan(r.data.plan, r.data.warnings);
    $('apply').disabled = false;
  }
}

async function apply(ev) {
  ev.preventDefault();
  $('apply').disabled = true;
  let r;
  try { r = await api('/api/complete', readForm()); } catch (e) { formError('The box did not answer.'); return; }
  if (r.status === 422) { showProblems(r.data.problems); return; }
  if (!r.ok) { formError(r.data.error || ('The box answered ' + r.status + '.')); return; }
  render(r.data);
}

function tick() {
  const left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
  $('seconds-left').textContent = String(left);
  if (left === 0) $('pending-note').textContent = 'The new address did not answer in time; waiting for the box to come back here.';
}

function probe(url, key) {
  // Once the box answers at the new address, the browser moves over with
  // the confirm key in the fragment (never sent to a server): this page's
  // session cookie belongs to the old address, and only this browser may
  // confirm.
  fetch(url + 'api/reach', { mode: 'no-cors', cache: 'no-store' })
    .then(() => { stopTimers(); location.href = url + '#confirm=' + encodeURIComponent(key); })
    .catch(() => { /* not reachable (yet) */ });
}

// At the new address: confirm with the key the page at the old one
// carried here (or with this session's cookie when the address is the
// same origin), then show what the box says.
async function confirmHere(key) {
  for (let i = 0; i < 10; i++) {
    let r = null;
    try { r = await api('/api/confirm', { key }); } catch (e) { r = null; }
    if (r && r.status < 500) break;
    await new Promise((done) => setTimeout(done, 1000));
  }
  refresh();
}

function stopTimers() {
  if (poller) clearInterval(poller);
  if (prober) clearInterval(prober);
  poller = prober = null;
}

function render(st) {
  switch (st.phase) {
    case 'claim':
      show('claim');
      break;
    case 'open':
      stopTimers();
      fillBox(st.discover);
      fillForm(st.form);
      if (st.rolled_back) {
        const rb = st.rolled_back;
        $('rolled-back').textContent = 'The box did not hear from you at ' + rb.url + ' within ' + rb.seconds +
          ' s, so it went back to its previous address and settings. Check that the new address is ' +
          'reachable from this computer, then apply again.';
        $('rolled-back').hidden = false;
        document.body.dataset.rolledBack = 'yes';
      }
      if (st.failed) formError(st.failed);
      show('open');
      break;
    case 'pending': {
      const first = phase !== 'pending';
      show('pending');
      const a = $('new-url');
      // Followed by hand, the link carries the confirm key too.
      a.href = st.url + '#confirm=' + encodeURIComponent(st.key || '');
      a.textContent = st.url;
      if (first) {
        deadline = Date.now() + st.seconds_left * 1000;
        tick();
        stopTimers();
        poller = setInterval(() => { tick(); refresh(); }, 1000);
        if (new URL(st.url).origin !== location.origin) {
          prober = setInterval(() => probe(st.url, st.key), 1500);
          probe(st.url, st.key);
        } else {
          confirmHere('');
        }
      }
      break;
    }
    case 'awaiting':
      // Not this browser's setup: wait until the box is set up or back.
      if (phase !== 'awaiting') { stopTimers(); poller = setInterval(refresh, 3000); }
      show('awaiting');
      break;
    case 'done':
      stopTimers();
      show('done');
      break;
  }
}

async function refresh() {
  let r;
  try { r = await api('/api/state'); } catch (e) { return; }
  if (!r.ok) {
    if (phase !== 'pending') { show('loading'); $('loading').textContent = r.data.error || 'The box answered ' + r.status + '.'; }
    return;
  }
  render(r.data);
}

async function claim(ev) {
  ev.preventDefault();
  $('claim-error').textContent = '';
  let r;
  try { r = await api('/api/claim', { token: $('token').value }); } catch (e) { $('claim-error').textContent = 'The box did not answer.'; return; }
  if (!r.ok) { $('claim-error').textContent = r.data.error || 'Refused.'; return; }
  $('token').value = '';
  refresh();
}

document.addEventListener('DOMContentLoaded', () => {
  $('claim-form').addEventListener('submit', claim);
  $('setup').addEventListener('submit', apply);
  $('check').addEventListener('click', check);
  $('setup').addEventListener('input', () => { $('apply').disabled = true; $('preview').hidden = true; });
  $('setup').addEventListener('change', check);
  const handed = /^#confirm=([0-9a-f]{1,64})$/.exec(location.hash);
  if (handed) {
    // The key has done its work once used: out of the address bar and history.
    history.replaceState(null, '', location.pathname + location.search);
    confirmHere(handed[1]);
  } else {
    refresh();
  }
});
