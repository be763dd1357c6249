/**
 * Answers for requests that never reach Koa: Node's HTTP parser refused them (overlong
 * headers, malformed syntax, request smuggling) or they arrived too slowly (the request and
 * headers timeouts). Node would answer these with an empty body; here they get the contract's
 * error shape too, and the connection is closed, since the rest of its bytes cannot be trusted.
 */
import type { Duplex } from 'node:stream';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { AppError, invalidRequest } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { errorBody } from './errors.js';

export const requestTimeout = () =>
  new AppError('request_timeout', 'The request did not arrive in time.', { status: 408 });

export const headersTooLarge = () =>
  new AppError('headers_too_large', 'The request headers are too large.', { status: 431 });

/** The AppError for an error Node's HTTP server reports on a client connection. */
export function clientErrorOf(err: Error & { code?: string }): AppError {
  switch (err.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return requestTimeout();
    case 'HPE_HEADER_OVERFLOW':
      return headersTooLarge();
    default:
      return invalidRequest([{ field: 'request', message: 'is not valid HTTP/1.1' }]);
  }
}

/** The raw bytes of a complete answer that closes the connection. */
export function renderClientError(err: AppError): string {
  const body = JSON.stringify(errorBody(err));
  return (
    `HTTP/1.1 ${err.status} ${STATUS_CODES[err.status] ?? 'Error'}\r\n` +
    'Content-Type: application/json; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Cache-Control: no-store\r\n' +
    'Connection: close\r\n' +
    '\r\n' +
    body
  );
}

/**
 * The server's 'checkExpectation' listener: an Expect header other than 100-continue (which
 * Node answers itself) gets 417 in the contract's shape instead of Node's empty one.
 */
export function answerUnmetExpectations(_req: IncomingMessage, res: ServerResponse) {
  const body = JSON.stringify(
    errorBody(
      new AppError('expectation_failed', 'Only "Expect: 100-continue" is supported.', { status: 417 }),
    ),
  );
  res.writeHead(417, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    Connection: 'close',
  });
  res.end(body);
}

/** The server's 'clientError' listener (replaces Node's default answer, which has no body). */
export function answerClientErrors(log: Logger) {
  return function onClientError(err: Error & { code?: string }, socket: Duplex) {
    // A reset or a socket already gone: there is no one to answer.
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const answer = clientErrorOf(err);
    log.debug({ code: err.code, status: answer.status }, 'client error');
    // Like Node's own handler: answer only if no response has started on this socket.
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (!inFlight?.headersSent) socket.write(renderClientError(answer));
    socket.destroy();
  };
}
