/**
 * A minimal Server-Sent Events parser (the WHATWG event-stream format): enough to see
 * `event: voucher` arrive, with comments (heartbeats) and `retry:` ignored.
 */

export interface SseParser {
  /** Feed decoded text as it arrives; events are reported as they complete. */
  push(text: string): void;
}

export function makeSseParser(onEvent: (event: string, data: string) => void): SseParser {
  let buffer = '';
  let eventType = '';
  let data: string[] = [];

  const line = (text: string) => {
    if (text === '') {
      // A blank line dispatches; an event without data is dropped, as EventSource does.
      if (data.length > 0) onEvent(eventType || 'message', data.join('\n'));
      eventType = '';
      data = [];
      return;
    }
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') eventType = value;
    else if (field === 'data') data.push(value);
  };

  return {
    push(text) {
      buffer += text;
      for (;;) {
        const end = buffer.search(/\r\n|\r|\n/);
        if (end === -1) return;
        // A lone \r at the end may be the first half of \r\n: wait for the next chunk.
        if (buffer[end] === '\r' && end === buffer.length - 1) return;
        const width = buffer.startsWith('\r\n', end) ? 2 : 1;
        line(buffer.slice(0, end));
        buffer = buffer.slice(end + width);
      }
    },
  };
}
