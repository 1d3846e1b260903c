// A restricted unpickler for torch.save files: it builds dicts, lists, tuples, numbers, strings
// and tensors, and refuses every other Python global, as `torch.load(weights_only=True)` does.
// Nothing in the file can run code.

/** A Python global the unpickler resolves (module and name). */
export interface PickleGlobal {
  module: string;
  name: string;
}

/** What the unpickler hands to the caller for `persistent_load` and for allowed globals. */
export interface PickleHooks {
  persistentLoad(id: unknown): unknown;
  /** Returns the callable for an allowed global; throws for any other. */
  resolveGlobal(global: PickleGlobal): (...args: unknown[]) => unknown;
}

/** Thrown for a malformed or refused pickle. */
export class PickleError extends Error {
  /** The error's class, as `error.name` and stack traces show it. */
  override name = 'PickleError';
}

const MARK = Symbol('mark');

/** Objects that BUILD may set attributes on (an OrderedDict's `_metadata`): kept apart from its items. */
export const attributes = Symbol('attributes');

export function unpickle(bytes: Uint8Array, hooks: PickleHooks, source: string): unknown {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  let position = 0;
  const fail = (why: string): never => {
    throw new PickleError(`${source}: ${why} (at byte ${position})`);
  };
  const need = (n: number): void => {
    if (position + n > bytes.length) fail('the pickle ends early (truncated?)');
  };
  const u8 = (): number => {
    need(1);
    return bytes[position++]!;
  };
  const u16 = (): number => {
    need(2);
    const value = view.getUint16(position, true);
    position += 2;
    return value;
  };
  const u32 = (): number => {
    need(4);
    const value = view.getUint32(position, true);
    position += 4;
    return value;
  };
  const text = (n: number): string => {
    need(n);
    const value = decoder.decode(bytes.subarray(position, position + n));
    position += n;
    return value;
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, position);
    if (end < 0) fail('a GLOBAL without its newline');
    const value = decoder.decode(bytes.subarray(position, end));
    position = end + 1;
    return value;
  };
  const popMark = (): unknown[] => {
    let k = stack.length - 1;
    while (k >= 0 && stack[k] !== MARK) k -= 1;
    if (k < 0) fail('no MARK on the stack');
    const items = stack.splice(k + 1);
    stack.pop();
    return items;
  };
  const pop = (): unknown => {
    if (stack.length === 0) fail('the stack is empty');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) fail('the stack is empty');
    return stack[stack.length - 1];
  };
  const setItems = (target: unknown, items: unknown[]): void => {
    if (target === null || typeof target !== 'object' || Array.isArray(target)) fail('SETITEMS on something that is not a dict');
    for (let k = 0; k + 1 < items.length; k += 2) {
      const key = items[k];
      if (typeof key !== 'string' && typeof key !== 'number') fail(`a dict key of type ${typeof key}`);
      (target as Record<string, unknown>)[String(key)] = items[k + 1];
    }
  };
  const append = (target: unknown, items: unknown[]): void => {
    if (!Array.isArray(target)) fail('APPENDS on something that is not a list');
    (target as unknown[]).push(...items);
  };
  const call = (callable: unknown, args: unknown): unknown => {
    if (typeof callable !== 'function') fail('REDUCE of something that is not an allowed callable');
    if (!Array.isArray(args)) fail('REDUCE arguments are not a tuple');
    return (callable as (...a: unknown[]) => unknown)(...(args as unknown[]));
  };

  for (;;) {
    const opcode = u8();
    switch (opcode) {
      case 0x80:
        u8();
        break; // PROTO
      case 0x95:
        need(8);
        position += 8;
        break; // FRAME
      case 0x2e:
        return pop(); // STOP
      case 0x28:
        stack.push(MARK);
        break; // MARK
      case 0x7d:
        stack.push({});
        break; // EMPTY_DICT
      case 0x5d:
        stack.push([]);
        break; // EMPTY_LIST
      case 0x29:
        stack.push([]);
        break; // EMPTY_TUPLE
      case 0x74:
        stack.push(popMark());
        break; // TUPLE
      case 0x6c:
        stack.push(popMark());
        break; // LIST
      case 0x64: {
        const items = popMark();
        const dict = {};
        setItems(dict, items);
        stack.push(dict);
        break;
      } // DICT
      case 0x85:
        stack.push([pop()]);
        break; // TUPLE1
      case 0x86: {
        const b = pop();
        const a = pop();
        stack.push([a, b]);
        break;
      } // TUPLE2
      case 0x87: {
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push([a, b, c]);
        break;
      } // TUPLE3
      case 0x75: {
        const items = popMark();
        setItems(top(), items);
        break;
      } // SETITEMS
      case 0x73: {
        const value = pop();
        const key = pop();
        setItems(top(), [key, value]);
        break;
      } // SETITEM
      case 0x65: {
        const items = popMark();
        append(top(), items);
        break;
      } // APPENDS
      case 0x61: {
        const value = pop();
        append(top(), [value]);
        break;
      } // APPEND
      case 0x71:
        memo.set(u8(), top());
        break; // BINPUT
      case 0x72:
        memo.set(u32(), top());
        break; // LONG_BINPUT
      case 0x94:
        memo.set(memo.size, top());
        break; // MEMOIZE
      case 0x68: {
        const key = u8();
        if (!memo.has(key)) fail(`BINGET of unknown memo ${key}`);
        stack.push(memo.get(key));
        break;
      }
      case 0x6a: {
        const key = u32();
        if (!memo.has(key)) fail(`LONG_BINGET of unknown memo ${key}`);
        stack.push(memo.get(key));
        break;
      }
      case 0x4b:
        stack.push(u8());
        break; // BININT1
      case 0x4d:
        stack.push(u16());
        break; // BININT2
      case 0x4a: {
        need(4);
        stack.push(view.getInt32(position, true));
        position += 4;
        break;
      } // BININT
      case 0x8a: {
        // LONG1
        const n = u8();
        need(n);
        let value = 0n;
        for (let k = n - 1; k >= 0; k -= 1) value = (value << 8n) | BigInt(bytes[position + k]!);
        if (n > 0 && bytes[position + n - 1]! >= 0x80) value -= 1n << BigInt(8 * n);
        position += n;
        stack.push(Number(value));
        break;
      }
      case 0x47: {
        need(8);
        stack.push(view.getFloat64(position, false));
        position += 8;
        break;
      } // BINFLOAT
      case 0x58:
        stack.push(text(u32()));
        break; // BINUNICODE
      case 0x8c:
        stack.push(text(u8()));
        break; // SHORT_BINUNICODE
      case 0x54:
        stack.push(text(u32()));
        break; // BINSTRING
      case 0x55:
        stack.push(text(u8()));
        break; // SHORT_BINSTRING
      case 0x43: {
        const n = u8();
        need(n);
        stack.push(bytes.slice(position, position + n));
        position += n;
        break;
      } // SHORT_BINBYTES
      case 0x42: {
        const n = u32();
        need(n);
        stack.push(bytes.slice(position, position + n));
        position += n;
        break;
      } // BINBYTES
      case 0x88:
        stack.push(true);
        break;
      case 0x89:
        stack.push(false);
        break;
      case 0x4e:
        stack.push(null);
        break;
      case 0x63: {
        const module = line();
        const name = line();
        stack.push(hooks.resolveGlobal({ module, name }));
        break;
      } // GLOBAL
      case 0x93: {
        const name = pop();
        const module = pop();
        stack.push(hooks.resolveGlobal({ module: String(module), name: String(name) }));
        break;
      } // STACK_GLOBAL
      case 0x52: {
        const args = pop();
        const callable = pop();
        stack.push(call(callable, args));
        break;
      } // REDUCE
      case 0x81: {
        const args = pop();
        const cls = pop();
        stack.push(call(cls, args));
        break;
      } // NEWOBJ
      case 0x62: {
        // BUILD: attributes of an object (an OrderedDict's _metadata); kept aside, never executed
        const state = pop();
        const target = top();
        if (target !== null && typeof target === 'object') Object.defineProperty(target, attributes, { value: state, enumerable: false });
        break;
      }
      case 0x51:
        stack.push(hooks.persistentLoad(pop()));
        break; // BINPERSID
      case 0x30:
        pop();
        break; // POP
      case 0x31:
        popMark();
        break; // POP_MARK
      case 0x32:
        stack.push(top());
        break; // DUP
      default:
        fail(`pickle opcode 0x${opcode.toString(16)} is not one a state dict uses`);
    }
  }
}
