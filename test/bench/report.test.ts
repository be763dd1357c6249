/**
 * The benchmark report: tables for the terminal and the README, charts as standalone SVG
 * (checked for well-formed XML and escaped text, no browser needed), result files on disk.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { writeResults } from '../../bench/report/files.js';
import { latencyDistributionChart } from '../../bench/report/latencyChart.js';
import { lineChart } from '../../bench/report/lineChart.js';
import { formatNumber, formatTable, markdownTable } from '../../bench/report/table.js';

/**
 * A small strict check that a document is well-formed XML as far as these charts go: every
 * tag closed in order, attributes quoted, no raw `<` or stray `&` in text or attributes.
 * Returns the problem, or undefined.
 */
function xmlProblem(xml: string): string | undefined {
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>/y;
  const badAmp = /&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/;
  const open: string[] = [];
  let i = 0;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const chunk = xml.slice(i, lt === -1 ? xml.length : lt);
    if (badAmp.test(chunk)) return `unescaped & near ${JSON.stringify(chunk.slice(0, 40))}`;
    if (lt === -1) break;
    tag.lastIndex = lt;
    const m = tag.exec(xml);
    if (!m) return `malformed tag at ${lt}: ${JSON.stringify(xml.slice(lt, lt + 40))}`;
    const [whole, closing, name, attrs = '', selfClosing] = m;
    if (badAmp.test(attrs)) return `unescaped & in attributes of <${name}>`;
    if (closing) {
      const expected = open.pop();
      if (expected !== name) return `</${name}> closes <${expected}>`;
    } else if (!selfClosing) {
      open.push(name as string);
    }
    if (open.length === 0 && !closing && !selfClosing && lt !== 0) return 'content after the root';
    i = lt + whole.length;
  }
  return open.length === 0 ? undefined : `unclosed <${open.join('>, <')}>`;
}

function count(text: string, pattern: RegExp): number {
  return text.match(pattern)?.length ?? 0;
}

/** The x tick labels' positions by label, from the chart's x-axis group. */
function xTickPositions(svg: string): Map<string, number> {
  const group = /<g class="x-axis">([\s\S]*?)<\/g>/.exec(svg)?.[1] ?? '';
  const positions = new Map<string, number>();
  for (const m of group.matchAll(/<text x="([\d.]+)"[^>]*>([^<]*)<\/text>/g)) {
    positions.set(m[2] as string, Number(m[1]));
  }
  return positions;
}

function checkStandaloneSvg(t: Test, svg: string) {
  t.match(
    svg,
    /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+" height="\d+" viewBox="0 0 \d+ \d+"/,
  );
  t.equal(xmlProblem(svg), undefined, 'well-formed');
  t.equal(count(svg, /<g[\s>]/g), count(svg, /<\/g>/g), 'every <g> closed');
  t.equal(count(svg, /<text[\s>]/g), count(svg, /<\/text>/g), 'every <text> closed');
  t.match(svg, /<rect x="0" y="0" width="\d+" height="\d+" fill="#ffffff"\/>/, 'white background');
  t.notMatch(svg, /<script|<style|@import|href=|url\(/, 'nothing external, nothing executable');
}

t.test('the well-formedness check catches what it is for', async (t) => {
  t.equal(xmlProblem('<svg a="1"><g><text>a &amp; b</text></g></svg>'), undefined);
  t.not(xmlProblem('<svg><g></svg>'), undefined, 'misnested');
  t.not(xmlProblem('<svg><text>a & b</text></svg>'), undefined, 'raw ampersand');
  t.not(xmlProblem('<svg><text>a < b</text></svg>'), undefined, 'raw less-than');
  t.not(xmlProblem('<svg><g>'), undefined, 'unclosed');
});

t.test('formatNumber rounds and groups thousands', async (t) => {
  t.equal(formatNumber(12345.6), '12,346');
  t.equal(formatNumber(1.234, 2), '1.23');
  t.equal(formatNumber(1234567), '1,234,567');
  t.equal(formatNumber(-0.001, 2), '0.00', 'no sign on a rounded zero');
  t.equal(formatNumber(NaN), 'NaN');
});

t.test('formatTable aligns columns, numbers right, every line the same width', async (t) => {
  const table = formatTable(
    [{ title: 'strategy' }, { title: 'clients' }, { title: 'orders/s' }, { title: 'note', align: 'right' }],
    [
      ['crs.place_order', 64, 4650.4, 'x'],
      ['original', 1, 1048, 'longer note'],
    ],
  );
  const lines = table.trimEnd().split('\n');
  t.equal(lines.length, 4, 'header, rule, two rows');
  t.equal(new Set(lines.map((line) => line.length)).size, 1, 'equal widths');
  t.match(lines[1], /^-+( {2}-+){3}$/);
  t.match(lines[2], /^crs\.place_order {2}\s+64 {2}\s+4,650 {2}\s+x$/);
  t.match(lines[3], /^original\s+1 {2}\s*1,048 {2}longer note$/);
  const clientsEnd = (lines[0] ?? '').indexOf('clients') + 'clients'.length;
  t.equal((lines[2] ?? '').indexOf('64') + 2, clientsEnd, 'numbers end under the end of their title');
});

t.test('markdownTable is a GitHub table with right-aligned numeric columns', async (t) => {
  const md = markdownTable(
    [{ title: 'strategy' }, { title: 'orders/s' }],
    [
      ['a | b', 12345.6],
      ['original', '-'],
    ],
  );
  const lines = md.trimEnd().split('\n');
  t.equal(lines.length, 4);
  for (const line of lines) t.match(line, /^\| .* \|$/);
  t.match(lines[0], /^\| strategy +\| orders\/s \|$/);
  t.match(lines[1], /^\| -{3,} \| -+: \|$/, 'numeric column right-aligned, text left');
  t.match(lines[2], /^\| a \\\| b +\| +12,346 \|$/, 'pipes escaped, thousands separated');
  t.equal(new Set(lines.map((line) => line.length)).size, 1, 'padded to line up in the source');
});

const clients = [1, 16, 64, 256];
const throughput = lineChart({
  title: 'Orders per second',
  xTitle: 'concurrent clients (log scale)',
  yTitle: 'orders/s',
  xScale: 'log',
  xTicks: clients,
  series: [
    {
      name: 'ours through HTTP',
      points: [
        [1, 820],
        [16, 3900],
        [64, 4650],
        [256, 4400],
      ],
    },
    {
      name: 'original design through HTTP',
      points: [
        [1, 700],
        [16, 1500],
        [64, 1600],
        [256, 1450],
      ],
    },
    {
      name: 'database ceiling',
      points: [
        [1, 1608],
        [16, 5200],
        [64, 5600],
        [256, 5500],
      ],
    },
    {
      name: 'HTTP ceiling',
      points: [
        [1, 3100],
        [16, 14800],
        [64, 15600],
        [256, 15200],
      ],
    },
    {
      name: 'odd <&> "name"',
      points: [
        [1, 100],
        [16, 400],
        [64, 9000],
        [256, 12000],
      ],
    },
  ],
});

t.test('lineChart is a standalone, well-formed SVG with one line per series', async (t) => {
  checkStandaloneSvg(t, throughput);
  t.equal(count(throughput, /<polyline /g), 5, 'one polyline per series');
  for (const name of [
    'ours through HTTP',
    'original design through HTTP',
    'database ceiling',
    'HTTP ceiling',
  ]) {
    t.ok(throughput.includes(`>${name}</text>`), `legend names ${name}`);
  }
  t.ok(throughput.includes('>odd &lt;&amp;&gt; &quot;name&quot;</text>'), 'names are escaped');
  t.notOk(throughput.includes('<&>'), 'never raw');
  t.match(throughput, />orders\/s<\/text>/, 'y axis title');
  t.match(throughput, />15,000<\/text>/, 'thousands separators in tick labels');
});

t.test('a log x axis places the given ticks in order, spaced by their logarithms', async (t) => {
  const x = xTickPositions(throughput);
  const at = clients.map((c) => x.get(String(c)));
  t.ok(
    at.every((v) => v !== undefined),
    'every tick labelled',
  );
  const [p1 = NaN, p16 = NaN, p64 = NaN, p256 = NaN] = at;
  t.ok(p1 < p16 && p16 < p64 && p64 < p256, `increasing: ${at.join(', ')}`);
  // log2: 1→16 is 4 steps, 16→64 and 64→256 two each.
  t.ok(Math.abs((p16 - p1) / (p64 - p16) - 2) < 0.05, 'spacing follows log scale');
  t.ok(Math.abs(p256 - p64 - (p64 - p16)) < 0.5);
});

t.test('a linear axis gets round 1-2-5 ticks', async (t) => {
  const svg = lineChart({
    title: 't',
    xTitle: 'workers',
    yTitle: 'vouchers/s',
    series: [
      {
        name: 'pdf',
        points: [
          [1, 12.5],
          [8, 45.2],
        ],
      },
    ],
  });
  checkStandaloneSvg(t, svg);
  t.same([...xTickPositions(svg).keys()], ['0', '2', '4', '6', '8']);
  for (const label of ['0', '10', '20', '30', '40', '50']) t.match(svg, new RegExp(`>${label}</text>`));
});

t.test('latencyDistributionChart: percentile axis the HdrHistogram way', async (t) => {
  const distribution = (base: number): [number, number][] =>
    [0, 50, 90, 99, 99.9, 99.99, 100].map((p, i) => [p, base * (1 + i)]);
  const svg = latencyDistributionChart({
    title: 'Order latency',
    series: [
      { name: 'ours', distribution: distribution(2) },
      { name: 'original <design>', distribution: distribution(5) },
    ],
  });
  checkStandaloneSvg(t, svg);
  const x = xTickPositions(svg);
  t.same([...x.keys()], ['0%', '90%', '99%', '99.9%', '99.99%']);
  const at = [...x.values()];
  const gaps = at.slice(1).map((v, i) => v - (at[i] as number));
  t.ok(
    gaps.every((g) => Math.abs(g - (gaps[0] as number)) < 0.5),
    'decades of 1/(1-p) equally spaced',
  );
  t.equal(count(svg, /<polyline /g), 2);
  t.ok(svg.includes('>original &lt;design&gt;</text>'));
  t.match(svg, />latency \(ms\)<\/text>/, 'linear y for a narrow range');

  const wide = latencyDistributionChart({
    title: 'Tail',
    series: [
      {
        name: 'ours',
        distribution: [
          [0, 0.5],
          [90, 2],
          [99, 20],
          [99.9, 200],
          [99.99, 900],
        ],
      },
    ],
  });
  checkStandaloneSvg(t, wide);
  t.match(wide, />latency \(ms, log scale\)<\/text>/, 'log y when max/min is over 100');
  t.match(wide, />1,000<\/text>/);
});

t.test('writeResults writes json, one svg per chart and the text, creating the folder', async (t) => {
  const dir = join(t.testdir(), 'results', 'nested');
  const paths = await writeResults(dir, 'orders', {
    json: { clients, ok: true },
    svgs: { throughput, latency: '<svg/>' },
    text: 'table',
  });
  t.same(paths, [
    join(dir, 'orders.json'),
    join(dir, 'orders-throughput.svg'),
    join(dir, 'orders-latency.svg'),
    join(dir, 'orders.txt'),
  ]);
  t.same((await readdir(dir)).sort(), [
    'orders-latency.svg',
    'orders-throughput.svg',
    'orders.json',
    'orders.txt',
  ]);
  t.same(JSON.parse(await readFile(join(dir, 'orders.json'), 'utf8')), { clients, ok: true });
  t.equal(await readFile(join(dir, 'orders-throughput.svg'), 'utf8'), throughput);
  t.equal(await readFile(join(dir, 'orders.txt'), 'utf8'), 'table\n');
  await t.rejects(
    writeResults(dir, '../escape', { json: null, svgs: {}, text: '' }),
    /not a plain file name/,
  );
});
