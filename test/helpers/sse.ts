/** One server-sent event as it came over the wire. */
export interface SseEvent {
  id: string | undefined;
  event: string;
  data: string;
}

/**
 * Opens a text/event-stream over real HTTP and yields its events as they
 * arrive (comments skipped). `onOpen` gets the response (status, headers)
 * before the first event; a non-2xx answer ends the iteration after onOpen.
 */
export async function* readSse(url: string, init: RequestInit = {}, onOpen?: (res: Response) => void | Promise<void>): AsyncGenerator<SseEvent> {
  const res = await fetch(url, init);
  await onOpen?.(res);
  if (!res.ok || !res.body) return;
  const decoder = new TextDecoder();
  let buffer = '';
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const e: SseEvent = { id: undefined, event: 'message', data: '' };
        let any = false;
        for (const line of block.split('\n')) {
          if (line.startsWith(':') || line === '') continue;
          const colon = line.indexOf(':');
          const field = colon === -1 ? line : line.slice(0, colon);
          const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
          any = true;
          if (field === 'id') e.id = value;
          else if (field === 'event') e.event = value;
          else if (field === 'data') e.data = e.data ? `${e.data}\n${value}` : value;
        }
        if (any) yield e;
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** Every event of a stream until it closes. */
export async function allSse(url: string, init: RequestInit = {}): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  for await (const e of readSse(url, init)) out.push(e);
  return out;
}
