import type { Part } from 'quotaflow';

/**
 * The one function the assistant may call: an order's shipping status,
 * from a small table standing in for the shop's order system. The model
 * answers with a functionCall part; the backend runs the function and sends
 * its result back as a functionResponse in the next turn.
 */
export const ORDER_TOOLS = [
  {
    functionDeclarations: [
      {
        name: 'get_order_status',
        description: "The shipping status of one of the customer's orders",
        parameters: { type: 'OBJECT', properties: { orderId: { type: 'STRING', description: 'the order number' } }, required: ['orderId'] },
      },
    ],
  },
];

const ORDERS: Record<string, { status: string; carrier: string; eta: string }> = {
  '4711': { status: 'shipped', carrier: 'DHL', eta: 'tomorrow' },
  '4712': { status: 'packing', carrier: 'DHL', eta: 'in 3 days' },
};

export type FunctionCall = NonNullable<Part['functionCall']>;

/** The first function call among an answer's parts, if the model asked for one. */
export function functionCallOf(parts: readonly Part[]): FunctionCall | undefined {
  return parts.find((p) => p.functionCall)?.functionCall;
}

/** Runs a call the model asked for; the answer goes back to the model as a functionResponse part. */
export function runFunction(call: FunctionCall): Part {
  // the order number, however the model wrote it ("4711", "#4711", "order 4711")
  const raw = call.args?.['orderId'];
  const orderId = /\d+/.exec(typeof raw === 'string' || typeof raw === 'number' ? String(raw) : '')?.[0] ?? '';
  const response = call.name !== 'get_order_status' ? { error: `no function ${call.name}` } : (ORDERS[orderId] ?? { status: 'unknown', orderId });
  return { functionResponse: { name: call.name, response, ...(call.id ? { id: call.id } : {}) } };
}
