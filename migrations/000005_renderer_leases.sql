-- 000005: renderer leases. A renderer's worker pool says it lives by renewing a lease here,
-- not by holding a session lock: a renderer that hangs (SIGSTOP) or whose node drops off the
-- network keeps its sessions open (the kernel, or nobody, answers for it), so a session lock
-- would keep its jobs locked for hours. A lease that is not renewed expires on the
-- database's clock, whatever state the holder's sockets are in; one whose renewing session
-- has ended (a crash) is over at once (sql/renderer_leases.sql).

create table crs.renderer_leases (
  -- graphile-worker's worker pool id: the locked_by of the jobs the pool runs.
  worker_id  text primary key check (char_length(worker_id) between 1 and 200),
  expires_at timestamptz not null,
  -- The backend of the session that renews it: when that session is gone (the renderer
  -- crashed, its connection closed), the lease is over at once, without waiting to lapse.
  session_pid integer
);

comment on table crs.renderer_leases is
  'Live renderer worker pools; a job locked by a pool without an unexpired lease is unlocked.';

revoke all on crs.renderer_leases from public;
