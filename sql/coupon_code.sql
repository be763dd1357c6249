-- Coupon codes: 17 random symbols (85 bits from pgcrypto's CSPRNG) and one check symbol,
-- written in Crockford's base-32 alphabet (no I, L, O or U, so nothing is misread aloud),
-- grouped by six: 'K3M9QX-D2HFAW-N8R5T7'. The check symbol is Luhn mod 32, which catches any
-- single wrong symbol and most swaps of neighbours. api/vouchers/couponCode.ts implements the
-- same check for input; test/sql/couponCode.test.ts keeps the two in step.

create or replace function crs.coupon_alphabet()
returns text
language sql
immutable parallel safe
return '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

-- Luhn mod N check symbol of a string over the coupon alphabet.
create or replace function crs.coupon_check_symbol(payload text)
returns text
language plpgsql
immutable strict parallel safe
set search_path = crs, pg_temp
as $$
declare
  alphabet constant text := crs.coupon_alphabet();
  n        constant int := 32;
  factor   int := 2;
  total    int := 0;
  addend   int;
begin
  -- Walk from the right, doubling every other symbol's value as Luhn does.
  for i in reverse char_length(payload)..1 loop
    addend := factor * (strpos(alphabet, substr(payload, i, 1)) - 1);
    addend := addend / n + addend % n;
    total := total + addend;
    factor := 3 - factor;
  end loop;
  return substr(alphabet, (n - total % n) % n + 1, 1);
end
$$;

create or replace function crs.new_coupon_code()
returns text
language plpgsql
volatile parallel safe
set search_path = crs, pg_temp
as $$
declare
  alphabet constant text := crs.coupon_alphabet();
  -- 256 is a multiple of 32, so masking a random byte to 5 bits is uniform.
  random   constant bytea := gen_random_bytes(17);
  payload  text := '';
  code     text;
begin
  for i in 0..16 loop
    payload := payload || substr(alphabet, (get_byte(random, i) & 31) + 1, 1);
  end loop;
  code := payload || coupon_check_symbol(payload);
  return substr(code, 1, 6) || '-' || substr(code, 7, 6) || '-' || substr(code, 13, 6);
end
$$;

-- Internal to place_orders (which runs as the owner): nobody calls these directly. The
-- per-schema default privileges of 000001 cannot take away the global default EXECUTE for
-- PUBLIC (Postgres adds per-schema defaults to the global ones), so every function revokes
-- it here, as the other sql/ files do; test/sql/roles.test.ts checks the whole list.
revoke all on function crs.coupon_alphabet() from public;
revoke all on function crs.coupon_check_symbol(text) from public;
revoke all on function crs.new_coupon_code() from public;
