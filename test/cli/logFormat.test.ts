/**
 * LOG_FORMAT: JSON lines for machines, one readable line per entry for a person at a terminal
 * (npm start in a shell), chosen by whether the output is a terminal unless set. Redaction
 * holds in both.
 */
import { Writable } from 'node:stream';
import t from 'tap';
import { ConfigError, readLogFormat } from '../../common/config.js';
import { makeLogger } from '../../common/log.js';

const capture = () => {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
};

t.test('LOG_FORMAT: json, pretty, or by the terminal', async (t) => {
  t.equal(readLogFormat({ LOG_FORMAT: 'json' }, true), 'json');
  t.equal(readLogFormat({ LOG_FORMAT: 'pretty' }, false), 'pretty');
  t.equal(readLogFormat({}, true), 'pretty', 'a terminal: readable');
  t.equal(readLogFormat({}, false), 'json', 'a pipe or a file: JSON lines');
  t.equal(readLogFormat({ LOG_FORMAT: 'auto' }, false), 'json');
  t.throws(() => readLogFormat({ LOG_FORMAT: 'xml' }), ConfigError);
});

t.test('pretty: one readable line per entry, secrets still redacted', async (t) => {
  const out = capture();
  const log = makeLogger({ level: 'info', component: 'api', format: 'pretty', destination: out.stream });
  log.info({ password: 'hunter2-hunter2', orders: 3 }, 'listening on http://localhost:3000');
  log.warn({ url: 'postgres://crs_api:s3cret@db:5432/crs' }, 'postgres slow');
  log.debug('not at this level');
  const text = out.text();
  t.notMatch(text, /^\{/m, 'no JSON line');
  t.match(text, /INFO.*\[api\] listening on http:\/\/localhost:3000/);
  t.match(text, /WARN.*\[api\] postgres slow/);
  t.match(text, /orders: 3/, 'fields shown');
  t.notMatch(text, /hunter2|s3cret/, 'no secret');
  t.notMatch(text, /not at this level/);

  const json = capture();
  makeLogger({ level: 'info', component: 'api', format: 'json', destination: json.stream }).info('hello');
  t.match(JSON.parse(json.text()), { level: 30, component: 'api', msg: 'hello' }, 'json: one JSON line');
});
