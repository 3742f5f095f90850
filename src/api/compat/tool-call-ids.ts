/**
 * OpenAI needs an id on every tool call; Gemini gives one only sometimes
 * (functionCall.id). An id Gemini gave is passed on as is, so the caller's
 * tool message finds its way back to the same call. A missing one is made
 * from the job id and the call's position in the answer: the same in a
 * streamed and a whole answer, unique across a conversation, and marked so
 * that it is not sent back to Gemini as if Gemini had issued it.
 */
const MADE = 'call_qf_';

export function toolCallId(geminiId: string | undefined, jobId: string, index: number): string {
  return geminiId !== undefined && geminiId !== '' ? geminiId : `${MADE}${jobId}_${index}`;
}

/** The functionCall / functionResponse id to send Gemini for a tool call id, if any. */
export function geminiCallId(openaiId: string): string | undefined {
  return openaiId.startsWith(MADE) ? undefined : openaiId;
}
