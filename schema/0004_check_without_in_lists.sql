-- Encore schema v4: the same CHECK rules, written as `x = 'a' OR x = 'b' ...` instead of
-- `x IN ('a', 'b', ...)`. SQLite evaluates an IN list of more than two constants through an
-- ephemeral table that it builds, and frees, on every INSERT or UPDATE of the row: a B-tree and a
-- pager opened and closed per ledger entry, about 7% of purchases/s (docs/PERFORMANCE.md,
-- 2026-12-02 evening). The OR form accepts exactly the same values.
--
-- ALTER TABLE cannot change a CHECK. The change keeps every stored row valid and the on-disk
-- format unchanged, so it follows SQLite's procedure for such changes
-- (https://sqlite.org/lang_altertable.html, "Making Other Kinds Of Table Schema Changes"): edit
-- the table's SQL in sqlite_schema, inside this migration's transaction. Each replace() matches
-- the text 0001/0002 created exactly (a table whose text differed would keep its old, equally
-- strict, CHECK). The CREATE/DROP at the end is a real schema change, so SQLite bumps
-- the schema cookie and every other open connection reloads the schema.
PRAGMA writable_schema = ON;

UPDATE sqlite_schema
SET sql = replace(sql,
  'CHECK (kind IN (''earn'',''bonus'',''redeem'',''reverse'',''restore'',''expire'',''adjust''))',
  'CHECK (kind = ''earn'' OR kind = ''bonus'' OR kind = ''redeem'' OR kind = ''reverse'' OR ' ||
  'kind = ''restore'' OR kind = ''expire'' OR kind = ''adjust'')')
WHERE type = 'table' AND name = 'entries';

UPDATE sqlite_schema
SET sql = replace(sql,
  'CHECK (state IN (''open'',''captured'',''released'',''expired''))',
  'CHECK (state = ''open'' OR state = ''captured'' OR state = ''released'' OR ' ||
  'state = ''expired'')')
WHERE type = 'table' AND name = 'holds';

UPDATE sqlite_schema
SET sql = replace(sql,
  'CHECK (role IN (''pos'',''app'',''admin''))',
  'CHECK (role = ''pos'' OR role = ''app'' OR role = ''admin'')')
WHERE type = 'table' AND name = 'api_keys';

UPDATE sqlite_schema
SET sql = replace(replace(sql,
  'CHECK (kind IN (''expiring_soon'',''dormant'',''second_purchase''))',
  'CHECK (kind = ''expiring_soon'' OR kind = ''dormant'' OR kind = ''second_purchase'')'),
  'CHECK (state IN (''pending'',''delivered'',''failed'',''cancelled''))',
  'CHECK (state = ''pending'' OR state = ''delivered'' OR state = ''failed'' OR ' ||
  'state = ''cancelled'')')
WHERE type = 'table' AND name = 'reminders';

PRAGMA writable_schema = RESET;

CREATE TABLE schema_cookie_bump (x);
DROP TABLE schema_cookie_bump;
