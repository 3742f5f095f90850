/**
 * The chat page: a form that posts each message to /chat/stream and shows
 * the answer as its server-sent events arrive (fetch + a stream reader,
 * since EventSource only does GET).
 */
export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Support chat</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
  #log p { margin: .4rem 0; } .user { font-weight: 600; } .tool { color: #666; font-size: 13px; } .fallback { color: #a40; }
  form { display: flex; gap: .5rem; } #text { flex: 1; }
</style>
</head>
<body>
<h1>Support chat</h1>
<label>Tenant <input id="tenant" value="acme"></label>
<div id="log"></div>
<form id="form"><input id="text" autocomplete="off" placeholder="Where is my order 4711?"><button>Send</button></form>
<script>
const conversationId = 'page-' + Math.random().toString(36).slice(2);
const log = document.getElementById('log');
const line = (cls, text) => { const p = document.createElement('p'); p.className = cls; p.textContent = text; log.append(p); return p; };
document.getElementById('form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const input = document.getElementById('text');
  const text = input.value.trim();
  if (!text) return;
  input.value = '';
  line('user', text);
  let answer = line('bot', '');
  const res = await fetch('/chat/stream', { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tenantId: document.getElementById('tenant').value, conversationId, text }) });
  if (!res.ok) { answer.className = 'fallback'; answer.textContent = (await res.json()).error.message; return; }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf('\\n\\n')) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const type = /^event: (.*)$/m.exec(block)?.[1];
      const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? '{}');
      if (type === 'chunk') answer.textContent += data.text;
      if (type === 'reset') answer.textContent = '';
      if (type === 'tool') { line('tool', data.name + '(' + JSON.stringify(data.args) + ') → ' + JSON.stringify(data.response)); answer = line('bot', ''); }
      if (type === 'done') answer.textContent = data.reply;
      if (type === 'fallback') { answer.className = 'fallback'; answer.textContent = data.reply; }
    }
  }
});
</script>
</body>
</html>
`;
