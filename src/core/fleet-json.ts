/**
 * Where a JSON text goes wrong, as line and column. JSON.parse's own
 * messages quote a slice of the input, which in a fleet file may be an API
 * key; these messages never contain a character of the input.
 */
export interface JsonSyntaxProblem {
  line: number;
  column: number;
  problem: string;
}

const WS = new Set([' ', '\t', '\n', '\r']);
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const HEX4 = /[0-9a-fA-F]{4}/y;

class Stop extends Error {
  constructor(
    readonly offset: number,
    readonly problem: string,
  ) {
    super(problem);
  }
}

/** The first syntax error of `text` (null when it is valid JSON). Iterative: deep nesting cannot overflow the stack. */
export function findJsonSyntaxError(text: string): JsonSyntaxProblem | null {
  try {
    scan(text);
    return null;
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
    return { ...lineColumn(text, err.offset), problem: err.problem };
  }
}

function scan(text: string): void {
  let i = 0;
  const stack: string[] = [];
  const skip = (): void => {
    while (i < text.length && WS.has(text.charAt(i))) i++;
  };
  const string = (): void => {
    const start = i++;
    for (;;) {
      if (i >= text.length) throw new Stop(start, 'string never closed');
      const c = text.charCodeAt(i);
      if (c === 0x22) return void i++;
      if (c < 0x20) throw new Stop(i, 'control character (e.g. a line break) inside a string');
      if (c === 0x5c) {
        const e = text.charAt(i + 1);
        if (e === 'u') {
          HEX4.lastIndex = i + 2;
          if (!HEX4.test(text)) throw new Stop(i, 'bad \\u escape in a string');
          i += 6;
        } else if (ESCAPES.has(e)) i += 2;
        else throw new Stop(i, 'bad escape in a string');
      } else i++;
    }
  };
  const key = (): void => {
    skip();
    if (text.charAt(i) !== '"') throw new Stop(i, 'expected a property name in double quotes');
    string();
    skip();
    if (text.charAt(i) !== ':') throw new Stop(i, "expected ':' after a property name");
    i++;
  };
  const value = (): void => {
    skip();
    if (i >= text.length) throw new Stop(i, 'unexpected end of the file');
    const c = text.charAt(i);
    if (c === '"') return string();
    for (const word of ['true', 'false', 'null']) if (text.startsWith(word, i)) return void (i += word.length);
    NUMBER.lastIndex = i;
    if (NUMBER.test(text)) return void (i = NUMBER.lastIndex);
    throw new Stop(i, 'expected a value (object, array, string, number, true, false or null)');
  };

  /** After a value: closes containers; true at the end of the document, false once a comma leads to the next value. */
  const afterValue = (): boolean => {
    for (;;) {
      skip();
      const top = stack.at(-1);
      if (top === undefined) {
        if (i < text.length) throw new Stop(i, 'unexpected content after the end of the document');
        return true;
      }
      const close = top === '{' ? '}' : ']';
      const c = text.charAt(i);
      if (c === close) {
        stack.pop();
        i++;
        continue;
      }
      if (c !== ',') throw new Stop(i, i >= text.length ? 'unexpected end of the file' : `expected ',' or '${close}'`);
      i++;
      if (top === '{') key();
      return false;
    }
  };

  for (;;) {
    skip();
    const c = text.charAt(i);
    if (c === '{' || c === '[') {
      stack.push(c);
      i++;
      skip();
      if (text.charAt(i) !== (c === '{' ? '}' : ']')) {
        if (c === '{') key();
        continue;
      }
      stack.pop();
      i++;
    } else value();
    if (afterValue()) return;
  }
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
