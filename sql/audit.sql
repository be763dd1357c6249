-- The audit trail (crs.audit_log, migrations/000004): one row per admin stock change and per
-- redemption attempt, written by the function that does it, in the same transaction.

-- Appends one entry. p_actor is who acts, as the caller identifies them:
--   {"role": "admin" | "staff" | "system", "id": "<non-secret identifier>",
--    "address"?: "<client IP>", "requestId"?: "<request id>", "session"?: "<fingerprint>"}
-- A null actor (scripts, tests, `crs migrate`) is recorded as the 'system' role with the
-- database login as its id. A malformed actor raises (22023 for unknown fields, 22P02 for an
-- address that is not one, 23502/23514 for a missing or invalid role or id), and takes the
-- change it came with down too: nothing changes without its entry.
create or replace function crs.write_audit(
  p_actor   jsonb,
  p_action  text,
  p_subject text,
  p_details jsonb
)
returns void
language plpgsql
set search_path = crs, pg_temp
as $$
begin
  if p_actor is null then
    insert into crs.audit_log (actor_role, actor_id, action, subject, details)
    values ('system', left(regexp_replace(session_user, '[^A-Za-z0-9_.:@-]', '_', 'g'), 64),
            p_action, p_subject, coalesce(p_details, '{}'));
    return;
  end if;
  if jsonb_typeof(p_actor) <> 'object'
     or exists (select from jsonb_object_keys(p_actor) as k(name)
                 where k.name not in ('role', 'id', 'address', 'requestId', 'session')) then
    raise exception 'the actor must be an object of role, id, address, requestId, session'
      using errcode = '22023';
  end if;
  insert into crs.audit_log (actor_role, actor_id, client_address, request_id, session_id,
                             action, subject, details)
  values (p_actor ->> 'role', p_actor ->> 'id', (p_actor ->> 'address')::inet,
          p_actor ->> 'requestId', p_actor ->> 'session', p_action, p_subject,
          coalesce(p_details, '{}'));
end
$$;

-- Only the owner's functions write entries; no role may call this directly.
revoke all on function crs.write_audit(jsonb, text, text, jsonb) from public;
