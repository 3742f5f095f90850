import type { ConversationMemory } from '../../app/ports.js';
import type { RedisClient as Redis } from './connection.js';
import { viaRedis } from './errors.js';
import type { RedisKeys } from './keys.js';

/** How long a conversation's project is remembered: Gemini's implicit caches live minutes, not hours. */
export const CONVERSATION_TTL_MS = 3_600_000;

export function createConversationMemory(redis: Redis, keys: RedisKeys): ConversationMemory {
  return {
    lastProject: (tenantId, conversationId) => viaRedis('conversation read', () => redis.get(keys.conversation(tenantId, conversationId))),
    remember: (tenantId, conversationId, projectId) =>
      viaRedis('conversation write', async () => {
        await redis.set(keys.conversation(tenantId, conversationId), projectId, 'PX', CONVERSATION_TTL_MS);
      }),
  };
}
