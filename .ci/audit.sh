#!/usr/bin/env bash
# npm audit of the production dependencies, for CI: exits 1 when any is high or critical
# (or when the audit's answer cannot be read), 0 when none is. A registry without the audit
# endpoint (a mirror answering 405, 404, 501 on /-/npm/v1/security/advisories/bulk) or an
# unreachable one is not a finding: one warning line, exit 0. The two are told apart by the
# JSON npm writes: a report has metadata.vulnerabilities; a failed request has statusCode (the
# registry's HTTP answer) or a network error code, and no report.
#
#   .ci/audit.sh                       audit the lockfile (package-lock.json)
#   AUDIT_REPORT=file .ci/audit.sh     judge a saved `npm audit --json` answer instead
set -uo pipefail
cd "$(dirname "$0")/.."

report=$(mktemp)
errors=$(mktemp)
trap 'rm -f "$report" "$errors"' EXIT
if [ -n "${AUDIT_REPORT:-}" ]; then
  cp "$AUDIT_REPORT" "$report"
else
  npm audit --omit=dev --audit-level=high --json >"$report" 2>"$errors"
fi

node - "$report" "$errors" <<'NODE'
const { readFileSync } = require('node:fs');
const [reportFile, errorsFile] = process.argv.slice(2);
const text = readFileSync(reportFile, 'utf8');
const stderr = readFileSync(errorsFile, 'utf8');
let answer;
try {
  answer = JSON.parse(text);
} catch {
  console.error(`npm audit: its answer is not JSON; failing\n${text.slice(0, 500)}${stderr.slice(0, 500)}`);
  process.exit(1);
}
const counts = answer?.metadata?.vulnerabilities;
if (counts && typeof counts === 'object') {
  const serious = Object.entries(answer.vulnerabilities ?? {})
    .filter(([, v]) => v?.severity === 'high' || v?.severity === 'critical')
    .map(([name, v]) => `${name} (${v.severity})`);
  const high = Number(counts.high ?? 0);
  const critical = Number(counts.critical ?? 0);
  const summary = `npm audit: ${critical} critical, ${high} high, ${counts.moderate ?? 0} moderate, ${counts.low ?? 0} low in production dependencies`;
  if (high + critical > 0) {
    console.error(`${summary}; failing: ${serious.join(', ')}`);
    console.error('  see `npm audit --omit=dev` for the advisories and `npm audit fix` for what it can fix');
    process.exit(1);
  }
  console.log(summary);
  process.exit(0);
}
// No report: the request for one failed. The registry answered with an HTTP error (a mirror
// without the endpoint), or could not be reached; anything else (no lockfile, a broken
// install) is ours to fix and fails.
const code = String(answer?.error?.code ?? answer?.code ?? '');
const unreachable = /^(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|E\d{3})$/;
if (typeof answer?.statusCode === 'number' || unreachable.test(code)) {
  console.log('npm audit: the registry has no audit endpoint here; skipped');
  process.exit(0);
}
console.error(`npm audit: failed (${code || 'no report'}); failing\n${text.slice(0, 500)}${stderr.slice(0, 500)}`);
process.exit(1);
NODE
