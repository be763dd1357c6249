-- 000002: change data capture. The publication the CDC consumer (crs cdc) streams through
-- logical replication (pgoutput). The slot is created by the consumer itself when missing,
-- because a lost slot (failover, manual drop) must be recreated by the running system, not
-- by a migration.

create publication crs_changes for table crs.products, crs.stock_shards, crs.orders;
comment on publication crs_changes is
  'What crs cdc derives from: stock (products, stock_shards) and orders. See cdc/.';
