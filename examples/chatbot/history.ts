import type { Content } from 'quotaflow';

/**
 * Conversation history for the chatbot: the last turns of each
 * conversation, so the model sees what was said before. Bounded twice: at
 * most `maxTurns` exchanges per conversation (the oldest dropped first) and
 * at most `maxConversations` conversations (the least recently used
 * forgotten).
 */
export interface History {
  /** the earlier turns, as Gemini contents to send before the new message */
  get(conversation: string): Content[];
  /** records one answered exchange; a message id seen before (a re-delivery) is not recorded twice */
  add(conversation: string, exchange: { messageId?: string; user: string; model: string }): void;
  size(): number;
}

interface Turn {
  messageId: string | undefined;
  user: string;
  model: string;
}

export function createHistory(opts: { maxTurns: number; maxConversations: number }): History {
  const conversations = new Map<string, Turn[]>();
  return {
    get: (key) =>
      (conversations.get(key) ?? []).flatMap((t): Content[] => [
        { role: 'user', parts: [{ text: t.user }] },
        { role: 'model', parts: [{ text: t.model }] },
      ]),
    add(key, e) {
      const turns = conversations.get(key) ?? [];
      if (e.messageId !== undefined && turns.some((t) => t.messageId === e.messageId)) return;
      // a Map iterates in insertion order: re-inserting makes this conversation the most recent
      conversations.delete(key);
      conversations.set(key, [...turns, { messageId: e.messageId, user: e.user, model: e.model }].slice(-opts.maxTurns));
      for (const oldest of conversations.keys()) {
        if (conversations.size <= opts.maxConversations) break;
        conversations.delete(oldest);
      }
    },
    size: () => conversations.size,
  };
}
