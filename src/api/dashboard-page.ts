/**
 * The quota dashboard: one self-contained HTML page (no build step, no
 * external assets) that fetches /dashboard/data.json every few seconds.
 * Kept as a string module so `tsc` ships it inside dist/ with the code.
 * Every value is inserted with textContent: ids from the fleet are never
 * interpreted as HTML.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>quotaflow · quota dashboard</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d2433; background: #f7f8fa; }
  h1 { font-size: 1.3rem; margin: 0 0 .3rem; } h2 { font-size: 1.05rem; margin: 1.6rem 0 .5rem; }
  .meta { color: #5b6475; } .err { color: #b3261e; font-weight: 600; }
  table { border-collapse: collapse; width: 100%; background: #fff; }
  th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #e3e6eb; vertical-align: middle; }
  th { background: #eef1f5; font-weight: 600; }
  .bar { position: relative; height: 1.1rem; min-width: 9rem; background: #e9edf3; border-radius: 3px; overflow: hidden; }
  .bar > i { position: absolute; inset: 0 auto 0 0; background: #3f7fd9; }
  .bar.warn > i { background: #e0a100; } .bar.full > i { background: #d64545; }
  .bar > span { position: relative; padding-left: .35rem; font-size: 12px; white-space: nowrap; }
  .off { color: #b3261e; } .on { color: #1e7d32; } .tag { font-size: 12px; color: #5b6475; }
</style>
</head>
<body>
<h1>quotaflow quota dashboard</h1>
<div class="meta" id="meta">loading…</div>
<h2>Quota per (project, model)</h2>
<table id="scopes"><thead><tr><th>project</th><th>model</th><th>RPM (minute)</th><th>TPM (minute)</th><th>RPD (day)</th><th>state</th></tr></thead><tbody></tbody></table>
<h2>Cooldowns and exclusions</h2>
<table id="blocks"><thead><tr><th>kind</th><th>project</th><th>model</th><th>reason</th><th>time left</th></tr></thead><tbody></tbody></table>
<h2>Keys</h2>
<table id="keys"><thead><tr><th>key</th><th>tenant</th><th>project</th><th>priority</th><th>fingerprint</th><th>state</th></tr></thead><tbody></tbody></table>
<h2>Usage per tenant <span class="tag" id="window"></span></h2>
<table id="tenants"><thead><tr><th>tenant</th><th>own-key calls</th><th>central-key calls</th><th>successes</th><th>tokens</th></tr></thead><tbody></tbody></table>
<h2>Cost per tenant <span class="tag" id="costPeriod"></span></h2>
<table id="tenantCosts"><thead><tr><th>tenant</th><th>weight</th><th>calls today</th><th>tokens today</th><th>cost today (USD)</th><th>calls this month</th><th>cost this month (USD)</th><th>budget this month</th><th>limits (used / limit)</th></tr></thead><tbody></tbody></table>
<h2>Top tenants this month</h2>
<table id="topTenants"><thead><tr><th>#</th><th>tenant</th><th>cost (USD)</th><th>calls</th></tr></thead><tbody></tbody></table>
<h2>Breakers and queue</h2>
<table id="breakers"><thead><tr><th>project</th><th>model</th><th>breaker</th><th>fails</th><th>open for</th></tr></thead><tbody></tbody></table>
<p class="meta" id="queue"></p>
<script>
"use strict";
const REFRESH_MS = 3000;
function el(tag, text, cls) { const e = document.createElement(tag); if (text !== undefined) e.textContent = String(text); if (cls) e.className = cls; return e; }
function left(ms) {
  if (ms === null || ms === undefined) return '';
  if (ms < 0) return 'until cleared';
  const s = Math.ceil(ms / 1000);
  if (s < 120) return s + ' s';
  if (s < 7200) return Math.ceil(s / 60) + ' min';
  return (s / 3600).toFixed(1) + ' h';
}
function bar(d) {
  const pct = d.limit > 0 ? Math.min(100, (d.used / d.limit) * 100) : 100;
  const wrap = el('div', undefined, 'bar' + (pct >= 100 ? ' full' : pct >= 80 ? ' warn' : ''));
  const fill = el('i'); fill.style.width = pct.toFixed(1) + '%';
  wrap.append(fill, el('span', d.used + ' / ' + d.limit));
  wrap.title = 'limit source: ' + d.source;
  wrap.dataset.used = String(d.used); wrap.dataset.limit = String(d.limit);
  return wrap;
}
function row(tbody, cells) {
  const tr = el('tr');
  for (const c of cells) { const td = el('td'); if (c instanceof Node) td.append(c); else td.textContent = c === null || c === undefined ? '' : String(c); tr.append(td); }
  tbody.append(tr);
  return tr;
}
function fill(id, rows, render) {
  const tbody = document.querySelector('#' + id + ' tbody');
  tbody.replaceChildren();
  if (rows.length === 0) { const tr = row(tbody, ['none']); tr.firstChild.colSpan = 6; tr.className = 'meta'; }
  for (const r of rows) render(tbody, r);
}
function render(d) {
  document.getElementById('meta').textContent = 'fleet version ' + d.version + ' · quota day ' + d.day + ' · default chain ' + d.models.join(' > ') + ' · updated ' + new Date(d.at).toLocaleTimeString();
  fill('scopes', d.scopes, (t, s) => {
    const state = [s.unsupported ? 'unsupported' : '', s.cooldownMs !== null ? 'cooling ' + left(s.cooldownMs) : '', s.excludedMs !== null ? 'excluded ' + left(s.excludedMs) : ''].filter(Boolean).join(', ') || 'ok';
    const tr = row(t, [s.projectId, s.model, bar(s.rpm), bar(s.tpm), bar(s.rpd), state]);
    tr.dataset.scope = s.projectId + '|' + s.model;
  });
  const blocks = d.cooldowns.map((c) => ['cooldown', c.projectId, c.model, '', left(c.msLeft)]).concat(d.exclusions.map((e) => ['exclusion', e.projectId, e.model, e.reason, e.msLeft === null ? 'forever' : left(e.msLeft)]));
  fill('blocks', blocks, (t, b) => row(t, b));
  fill('keys', d.keys, (t, k) => {
    const state = k.enabled ? el('span', 'enabled', 'on') : el('span', 'disabled' + (k.disabledBy ? ' by ' + k.disabledBy : '') + (k.disabledReason ? ': ' + k.disabledReason : ''), 'off');
    row(t, [k.id, k.tenantId === null ? 'central' : k.tenantId, k.projectId, k.priority, k.fingerprint, state]).dataset.key = k.id;
  });
  document.getElementById('window').textContent = '(last ' + Math.round(d.tenantUsageWindowMs / 3600000) + ' h)';
  fill('tenants', d.tenants, (t, u) => { row(t, [u.tenantId, u.ownRequests, u.centralRequests, u.successes, u.totalTokens]).dataset.tenant = u.tenantId; });
  document.getElementById('costPeriod').textContent = '(quota day ' + d.day + ', month ' + (d.month || '') + ')';
  fill('tenantCosts', d.tenantCosts, (t, c) => {
    let budget = 'none';
    if (c.budget) { budget = bar({ used: c.budget.spentUsd, limit: c.budget.monthlyUsd, source: '' }); budget.title = c.budget.spentPct + '% of the monthly budget spent'; }
    const limits = c.limits.map((l) => l.limit + ' ' + l.used + ' / ' + l.value).join(', ') || 'none';
    row(t, [c.tenantId, c.weight, c.today.requests, c.today.totalTokens, c.today.costUsd, c.month.requests, c.month.costUsd, budget, limits]).dataset.tenantCost = c.tenantId;
  });
  fill('topTenants', d.topTenants, (t, c) => { row(t, [String(d.topTenants.indexOf(c) + 1), c.tenantId, c.costUsd, c.requests]).dataset.topTenant = c.tenantId; });
  const breakers = d.breakers.map((b) => [b.projectId, b.model, b.state, b.fails, left(b.openMs)]).concat(d.modelBlocks.map((m) => ['every project', m.model, 'blocked', '', left(m.msLeft)]));
  fill('breakers', breakers, (t, b) => row(t, b));
  document.getElementById('queue').textContent = 'queue: ' + Object.entries(d.queue).map(([k, v]) => k + ' ' + v).join(' · ');
}
async function tick() {
  try {
    const res = await fetch('/dashboard/data.json', { credentials: 'same-origin', cache: 'no-store' });
    if (!res.ok) throw new Error('data.json answered ' + res.status);
    render(await res.json());
  } catch (err) {
    const m = document.getElementById('meta'); m.textContent = 'refresh failed: ' + err.message; m.className = 'err';
  } finally {
    setTimeout(tick, REFRESH_MS);
  }
}
tick();
</script>
</body>
</html>
`;
