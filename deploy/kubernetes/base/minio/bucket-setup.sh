#!/bin/sh
# Sets up the vouchers bucket and the least-privilege users, idempotently, as MinIO's root
# user (run by the Job crs-minio-bucket-setup; safe to run again at any time):
#   - the bucket, private;
#   - object-created events under orders/ to the AMQP target (S3_NOTIFY_ARN);
#   - the lifecycle rule expiring vouchers after VOUCHER_EXPIRY_DAYS (same rule id as the
#     renderer's own start-up setup, so the two agree);
#   - the policies crs-api (read) and crs-renderer (write) and their users.
set -eu
export MC_CONFIG_DIR=/tmp/mc
mkdir -p "$MC_CONFIG_DIR/certs/CAs"
cp /etc/crs/cluster-ca/ca.crt "$MC_CONFIG_DIR/certs/CAs/cluster-ca.crt"

until mc alias set crs "$S3_ENDPOINT" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" --api S3v4 >/dev/null; do
  echo "waiting for MinIO at $S3_ENDPOINT"
  sleep 5
done
target="crs/$S3_BUCKET"

mc mb --ignore-existing "$target"
mc anonymous set none "$target"
mc event add "$target" "$S3_NOTIFY_ARN" --event put --prefix orders/ --ignore-existing
printf '{"Rules":[{"ID":"expire-vouchers","Status":"Enabled","Filter":{"Prefix":"orders/"},"Expiration":{"Days":%d}}]}' \
  "$VOUCHER_EXPIRY_DAYS" | mc ilm import "$target"

for who in api renderer; do
  sed "s#arn:aws:s3:::vouchers#arn:aws:s3:::$S3_BUCKET#g" "/etc/crs/minio-policies/crs-$who.json" >"/tmp/crs-$who.json"
  mc admin policy create crs "crs-$who" "/tmp/crs-$who.json"
done
mc admin user add crs "$API_ACCESS_KEY" "$API_SECRET_KEY"
mc admin user add crs "$RENDERER_ACCESS_KEY" "$RENDERER_SECRET_KEY"
# Attaching a policy that is already attached is refused; that is the state we want.
mc admin policy attach crs crs-api --user "$API_ACCESS_KEY" 2>/dev/null || true
mc admin policy attach crs crs-renderer --user "$RENDERER_ACCESS_KEY" 2>/dev/null || true
mc admin policy entities crs --user "$API_ACCESS_KEY" --user "$RENDERER_ACCESS_KEY"
echo "bucket $S3_BUCKET set up"
