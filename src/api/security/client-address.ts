import { isIPv4, isIPv6 } from 'node:net';

/**
 * Who failed attempts are counted against: the client's address as Fastify
 * reports it (`req.ip`: the socket's peer, or the x-forwarded-for entry of a
 * trusted proxy when QUOTAFLOW_TRUST_PROXY names it). An IPv6 client counts
 * by its /64 network, since one host commonly holds a whole /64 and could
 * otherwise start afresh from each of its addresses; an IPv4-mapped address
 * counts as the IPv4 address it is.
 */
export function throttleSubject(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped?.[1] !== undefined && isIPv4(mapped[1])) return mapped[1];
  if (isIPv4(ip)) return ip;
  const bare = ip.replace(/%.*$/, '');
  if (!isIPv6(bare)) return ip === '' ? 'unknown' : ip;
  return `${ipv6Groups(bare).slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address, lower case, without leading zeros. */
function ipv6Groups(addr: string): string[] {
  const [head = '', tail] = addr.toLowerCase().split('::');
  const groups = (part: string): string[] => (part === '' ? [] : part.split(':').flatMap(expandIpv4Tail));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const fill = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].map((g) => g.replace(/^0+(?=.)/, ''));
}

/** An embedded dotted IPv4 tail (`::1.2.3.4`) as the two groups it stands for. */
function expandIpv4Tail(group: string): string[] {
  if (!group.includes('.')) return [group];
  const [a = 0, b = 0, c = 0, d = 0] = group.split('.').map(Number);
  return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
}
