#!/usr/bin/env bash
# pgbench comparison of the order-deciding strategies:
#   original          bench_original.place_order (original.sql): both tables ACCESS EXCLUSIVE per order
#   place_order       crs.place_order (sql/place_order.sql) with the default 32 stock shards
#   shards=N          crs.place_order with N stock shards (N = 8, 32, 128; 1 = "single row")
#
# Builds its own database (default crs_bench, dropped and re-created; never the app's `crs`)
# as the superuser, owned by crs_owner, and applies the repo's migration and sql/*.sql as
# crs_owner. Each run: pgbench -c N -j 2 -T $DURATION -n -M prepared, after truncating orders
# and resetting the stock. Prints one table; raw pgbench output goes to $OUT_DIR.
#
# Usage: bash bench/db/run.sh   (env: DURATION=15 REPEATS=1 BENCH_DB=crs_bench OUT_DIR=...)
# The machine has 2 cores: anything else running on it (tests, builds) skews the figures, so
# REPEATS=3 runs the whole matrix three times, interleaved, and reports the median.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
SECRETS=${SECRETS:-$REPO/.data/secrets.json}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
export PGHOST=127.0.0.1 PGPORT=54329
DB=${BENCH_DB:-crs_bench}
DURATION=${DURATION:-15}
STOCK=${STOCK:-100000000}
OUT_DIR=${OUT_DIR:-$(mktemp -d /tmp/crs-bench.XXXXXX)}
mkdir -p "$OUT_DIR"

case "$DB" in crs|postgres|template0|template1) echo "refusing to use database $DB" >&2; exit 1;; esac

password() {
  case "$1" in
    postgres)  jq -er .postgresPassword "$SECRETS" ;;
    crs_owner) jq -er .ownerPassword "$SECRETS" ;;
    crs_api)   jq -er .apiPassword "$SECRETS" ;;
  esac
}
# psql_as ROLE DB [psql args...]
psql_as() {
  local role=$1 db=$2; shift 2
  PGPASSWORD=$(password "$role") "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -U "$role" -d "$db" "$@"
}
owner() { psql_as crs_owner "$DB" "$@"; }

# ---------------------------------------------------------------------------------------------
# Prepare the database.
echo "== preparing database $DB (raw output in $OUT_DIR)" >&2
psql_as postgres postgres -c "drop database if exists $DB" \
  -c "create database $DB owner crs_owner" \
  -c "grant create on database $DB to crs_owner"
# Every versioned migration in order, then the functions, as `crs migrate` applies them.
apply=(-c "set check_function_bodies = off")
while IFS= read -r f; do apply+=(-f "$f"); done < <(find "$REPO/migrations" -maxdepth 1 -name '0*.sql' | LC_ALL=C sort)
while IFS= read -r f; do apply+=(-f "$f"); done < <(find "$REPO/sql" -maxdepth 1 -name '*.sql' | LC_ALL=C sort)
owner "${apply[@]}" >/dev/null
owner -f "$HERE/original.sql" >/dev/null
owner -c "select outcome from crs.upsert_product('bench', 'Benchmark product', $STOCK)" >/dev/null
owner -c "insert into bench_original.products values ('bench', $STOCK, $STOCK)"

# ---------------------------------------------------------------------------------------------
# Resets. crs: orders truncated; the stock shards are deleted and the product's total set to 0,
# so that crs.upsert_product (reserved = total - on hand = 0) creates exactly shard_count
# fresh shards holding $total. (Re-running upsert_product alone would keep the old shards'
# depletion as "reserved".)
reset_crs() { # TOTAL
  owner -c "truncate crs.orders" \
    -c "delete from crs.stock_shards where product_id = 'bench'" \
    -c "update crs.products set total = 0 where product_id = 'bench'" \
    -c "select outcome from crs.upsert_product('bench', null, $1)" >/dev/null
  owner -c "vacuum analyze crs.products, crs.stock_shards, crs.orders"
  psql_as postgres "$DB" -c checkpoint
}
reset_original() { # TOTAL
  owner -c "truncate bench_original.orders" \
    -c "update bench_original.products set total = $1, remaining = $1 where product_id = 'bench'"
  owner -c "vacuum analyze bench_original.products, bench_original.orders"
  psql_as postgres "$DB" -c checkpoint
}

# The documented way to change a product's shard count: UPDATE shard_count, then upsert_product
# respreads. Checks that the respread conserves the stock and leaves no shard >= shard_count.
respread_check() { # N
  local n=$1 before after
  before=$(owner -c "select coalesce(sum(remaining), 0) from crs.stock_shards where product_id = 'bench'")
  owner -c "update crs.products set shard_count = $n where product_id = 'bench'" \
    -c "select outcome from crs.upsert_product('bench', null, (select total from crs.products where product_id = 'bench'))" >/dev/null
  after=$(owner -c "select coalesce(sum(remaining), 0) || ' stock, ' || count(*) filter (where shard >= $n) || ' stale shards holding ' || coalesce(sum(remaining) filter (where shard >= $n), 0) from crs.stock_shards where product_id = 'bench'")
  if [[ "${after%% *}" != "$before" ]]; then
    echo "ANOMALY respread to $n shards: stock on hand $before -> $after" | tee -a "$OUT_DIR/anomalies.txt" >&2
  fi
}

stat() { psql_as postgres "$DB" -c "select deadlocks || ' ' || xact_rollback from pg_stat_database where datname = '$DB'"; }

# ---------------------------------------------------------------------------------------------
# One pgbench run; appends a line to $OUT_DIR/results.tsv.
TSV="$OUT_DIR/results.tsv"
: >"$TSV"
run() { # LABEL SHARDS CLIENTS ROLE SCRIPT KIND(crs|original)
  local label=$1 shards=$2 c=$3 role=$4 script=$5 kind=$6
  local log="$OUT_DIR/${label}_c${c}_r${ROUND}.log" rc=0 s0 s1
  s0=$(stat)
  PGPASSWORD=$(password "$role") "$PGBIN/pgbench" -U "$role" -d "$DB" -n -M prepared --verbose-errors \
    -c "$c" -j 2 -T "$DURATION" -f "$HERE/$script" >"$log" 2>&1 || rc=$?
  sleep 1
  s1=$(stat)
  local tps txns failed aborted deadlocks timeouts errors orders consumed total
  tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$log" | head -1)
  txns=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$log")
  failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$log")
  aborted=$(grep -c 'aborted in command' "$log" || true)
  deadlocks=$(grep -c 'deadlock detected' "$log" || true)
  timeouts=$(grep -c 'lock timeout' "$log" || true)
  errors=$(( $(grep -c 'ERROR' "$log" || true) - deadlocks - timeouts ))
  if [[ $kind == crs ]]; then
    read -r orders consumed total < <(owner -F ' ' -c "select (select count(*) from crs.orders where product_id = 'bench'),
        p.total - (select sum(remaining) from crs.stock_shards s where s.product_id = p.product_id), p.total
      from crs.products p where p.product_id = 'bench'")
  else
    read -r orders consumed total < <(owner -F ' ' -c "select (select count(*) from bench_original.orders where product_id = 'bench'),
        total - remaining, total from bench_original.products where product_id = 'bench'")
  fi
  local check=ok
  (( orders == consumed )) || check="orders!=consumed"
  (( orders <= total )) || check="OVERSOLD:${orders}>${total}"
  printf '%s\t' "$label" "$shards" "$c" "$ROUND" "${tps:-0}" "${txns:-0}" "$orders" "$(( ${txns:-0} - orders ))" \
    "${failed:-0}" "$aborted" "$deadlocks" "$timeouts" "$errors" "$(( ${s1% *} - ${s0% *} ))" \
    "$(( ${s1#* } - ${s0#* } ))" >>"$TSV"
  printf '%s\n' "$check" >>"$TSV"
  echo "round $ROUND: $(tail -1 "$TSV" | tr '\t' ' ') (pgbench rc=$rc)" >&2
}

REPEATS=${REPEATS:-1}
for ((ROUND = 1; ROUND <= REPEATS; ROUND++)); do
  owner -c "update crs.products set shard_count = 32 where product_id = 'bench'" >/dev/null
  for c in 1 8 32 64; do reset_original "$STOCK"; run original - "$c" crs_owner original.pgbench original; done
  for c in 1 8 32 64; do reset_crs "$STOCK"; run place_order 32 "$c" crs_api place_order.pgbench crs; done
  for n in 8 32 128 1; do
    respread_check "$n"
    label="shards=$n"; [[ $n == 1 ]] && label="single_row"
    for c in 8 64; do reset_crs "$STOCK"; run "$label" "$n" "$c" crs_api place_order.pgbench crs; done
  done

  # Sell-out check: stock 1000, 64 clients, 5 s: never more orders than stock.
  owner -c "update crs.products set shard_count = 32 where product_id = 'bench'" >/dev/null
  reset_crs 1000
  DURATION=5 run sellout_32 32 64 crs_api place_order.pgbench crs
  reset_original 1000
  DURATION=5 run sellout_orig - 64 crs_owner original.pgbench original
  # ... and after changing the shard count 32 -> 8 the documented way (UPDATE + upsert_product).
  reset_crs 1000
  respread_check 8
  DURATION=5 run sellout_32to8 8 64 crs_api place_order.pgbench crs
done

echo
echo "pgbench -n -M prepared --verbose-errors -j 2 -T $DURATION, $REPEATS round(s); sellout_*: -T 5 with stock 1000, others stock $STOCK"
echo "tps: median [min-max] over rounds. Counts below are summed over rounds:"
echo "other = txns - reserved (replay/duplicate/out_of_stock); failed = pgbench failed txns (deadlocks);"
echo "aborted = pgbench clients aborted by an error; 40P01/55P03/err = deadlock / lock timeout / other"
echo "ERROR lines in pgbench output; dl/rb = deadlocks/rollbacks counted by pg_stat_database"
awk -F '\t' '
  { k = $1 SUBSEP $3
    if (!(k in n)) { order[++nk] = k; label[k] = $1; shards[k] = $2; clients[k] = $3 }
    t[k, ++n[k]] = $5 + 0
    for (i = 6; i <= 15; i++) sum[k, i] += $i
    if ($16 != "ok") chk[k] = $16; else if (!(k in chk)) chk[k] = "ok" }
  END {
    printf "%-13s %6s %7s %9s %-17s %8s %8s %7s %6s %7s %5s %5s %4s %7s %s\n", "strategy", "shards", "clients", "tps", "[min-max]", "txns", "reserved", "other", "failed", "aborted", "40P01", "55P03", "err", "dl/rb", "check"
    for (j = 1; j <= nk; j++) { k = order[j]; m = n[k]
      for (a = 1; a <= m; a++) v[a] = t[k, a]
      for (a = 1; a <= m; a++) for (b = a + 1; b <= m; b++) if (v[b] < v[a]) { x = v[a]; v[a] = v[b]; v[b] = x }
      med = (m % 2) ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2
      printf "%-13s %6s %7s %9.1f %-17s %8d %8d %7d %6d %7d %5d %5d %4d %7s %s\n", label[k], shards[k], clients[k], med, sprintf("[%.0f-%.0f]", v[1], v[m]), sum[k,6], sum[k,7], sum[k,8], sum[k,9], sum[k,10], sum[k,11], sum[k,12], sum[k,13], sum[k,14] "/" sum[k,15], chk[k] } }' "$TSV"
if [[ -f "$OUT_DIR/anomalies.txt" ]]; then echo; sort "$OUT_DIR/anomalies.txt" | uniq -c; fi
echo "raw output: $OUT_DIR"
