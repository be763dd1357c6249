/**
 * Counts a load job as it runs and turns the counts into a LoadResult. Latency always runs
 * from a request's scheduled time: in closed mode that is its send time, in open mode the
 * time it was due, so that queueing (in the server or in our own pool) cannot hide.
 */
import type { LoadResult, RequestRecord } from './job.js';
import type { Answer } from './client.js';
import { LatencyHistogram } from './percentiles.js';

export interface Tally {
  sent(): void;
  /** Returns the record, which a voucher time may be added to later (kept or not). */
  answered(scheduledMs: number, sentMs: number, answeredMs: number, answer: Answer): RequestRecord;
  failed(scheduledMs: number, sentMs: number, endMs: number, key: string): void;
  voucher(record: RequestRecord, voucherMs: number | undefined): void;
  progress(nowMs: number): string;
  result(): Omit<LoadResult, 'generatorCpuMicros'>;
}

function increment(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

function format(counts: Record<string, number>): string {
  const entries = Object.entries(counts);
  return entries.length === 0 ? '-' : entries.map(([k, v]) => `${k}:${v}`).join(',');
}

export function makeTally(opts: { keepRecords: boolean; followVouchers: boolean }): Tally {
  let sent = 0;
  let answered = 0;
  let ok = 0;
  let firstSentMs = Infinity;
  let lastEndMs = -Infinity;
  let vouchersReceived = 0;
  let vouchersMissing = 0;
  const byStatus: Record<string, number> = {};
  const byCode: Record<string, number> = {};
  const errors: Record<string, number> = {};
  const latency = new LatencyHistogram();
  const voucherLatency = new LatencyHistogram();
  const records: RequestRecord[] | undefined = opts.keepRecords ? [] : undefined;

  const ended = (sentMs: number, endMs: number) => {
    firstSentMs = Math.min(firstSentMs, sentMs);
    lastEndMs = Math.max(lastEndMs, endMs);
  };

  return {
    sent() {
      sent += 1;
    },

    answered(scheduledMs, sentMs, answeredMs, answer) {
      answered += 1;
      if (answer.status >= 200 && answer.status < 300) ok += 1;
      increment(byStatus, String(answer.status));
      if (answer.code !== undefined) increment(byCode, answer.code);
      latency.record(answeredMs - scheduledMs);
      ended(sentMs, answeredMs);
      const record: RequestRecord = { scheduledMs, sentMs, answeredMs, status: answer.status };
      if (answer.code !== undefined) record.code = answer.code;
      if (answer.orderId !== undefined) record.orderId = answer.orderId;
      records?.push(record);
      return record;
    },

    failed(scheduledMs, sentMs, endMs, key) {
      increment(errors, key);
      ended(sentMs, endMs);
      records?.push({ scheduledMs, sentMs, answeredMs: endMs, status: 0, code: key });
    },

    voucher(record, voucherMs) {
      if (voucherMs === undefined) {
        vouchersMissing += 1;
        return;
      }
      vouchersReceived += 1;
      record.voucherMs = voucherMs;
      voucherLatency.record(voucherMs - record.scheduledMs);
    },

    progress(nowMs) {
      const failed = Object.values(errors).reduce((a, b) => a + b, 0);
      const vouchers = opts.followVouchers ? ` vouchers=${vouchersReceived}/missing:${vouchersMissing}` : '';
      return (
        `${(nowMs / 1000).toFixed(1)}s sent=${sent} answered=${answered} failed=${failed} ` +
        `pending=${sent - answered - failed} status=${format(byStatus)} errors=${format(errors)}${vouchers}`
      );
    },

    result() {
      const elapsedMs = sent === 0 ? 0 : lastEndMs - firstSentMs;
      const rate = (n: number) => (elapsedMs > 0 ? (n * 1000) / elapsedMs : 0);
      const result: Omit<LoadResult, 'generatorCpuMicros'> = {
        sent,
        answered,
        byStatus,
        byCode,
        errors,
        elapsedMs,
        perSecond: rate(answered),
        okPerSecond: rate(ok),
        latency: latency.summary(),
      };
      if (opts.followVouchers) {
        result.voucherLatency = voucherLatency.summary();
        result.vouchersReceived = vouchersReceived;
        result.vouchersMissing = vouchersMissing;
      }
      if (records) result.records = records.sort((a, b) => a.scheduledMs - b.scheduledMs);
      return result;
    },
  };
}
