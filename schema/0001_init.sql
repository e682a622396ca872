-- Encore schema v1. Times are INTEGER Unix seconds (UTC); points and money are INTEGER.
-- Only `entries` is a public contract (operators query it); the rest is internal.

CREATE TABLE members (
  member_id         TEXT PRIMARY KEY,
  email             TEXT,
  phone             TEXT,
  locale            TEXT,
  marketing_opt_in  INTEGER NOT NULL DEFAULT 0,
  enrolled_at       INTEGER NOT NULL,
  erased_at         INTEGER,
  balance           INTEGER NOT NULL DEFAULT 0,  -- running sum of this member's entries
  debt              INTEGER NOT NULL DEFAULT 0 CHECK (debt >= 0),
  tier              TEXT NOT NULL,
  tier_reached_at   INTEGER NOT NULL,
  first_purchase_at INTEGER,
  last_purchase_at  INTEGER,
  purchase_count    INTEGER NOT NULL DEFAULT 0,
  last_activity_at  INTEGER  -- last purchase or redemption (inactivity expiry, dormancy)
) WITHOUT ROWID;

CREATE TABLE entries (
  id            INTEGER PRIMARY KEY,
  member_id     TEXT NOT NULL,
  kind          TEXT NOT NULL
                CHECK (kind IN ('earn','bonus','redeem','reverse','restore','expire','adjust')),
  points        INTEGER NOT NULL,
  occurred_at   INTEGER NOT NULL,
  recorded_at   INTEGER NOT NULL,
  order_id      TEXT,
  refund_id     TEXT,
  hold_id       TEXT,
  promotion_id  TEXT,
  reason        TEXT,
  reward        TEXT,
  ref_entry_id  INTEGER,
  actor         TEXT NOT NULL,
  lots          TEXT,            -- "lot_id:points,lot_id:points" drawn from / restored to
  hash          BLOB NOT NULL    -- SHA-256(previous hash || canonical content)
);
CREATE INDEX entries_by_member ON entries(member_id, id);

CREATE TRIGGER entries_append_only_update BEFORE UPDATE ON entries
BEGIN SELECT RAISE(ABORT, 'entries are append-only'); END;
CREATE TRIGGER entries_append_only_delete BEFORE DELETE ON entries
BEGIN SELECT RAISE(ABORT, 'entries are append-only'); END;

-- Earned points waiting to be spent, with the rules in force when earned.
CREATE TABLE lots (
  id               INTEGER PRIMARY KEY,
  member_id        TEXT NOT NULL,
  entry_id         INTEGER NOT NULL,
  original         INTEGER NOT NULL CHECK (original > 0),
  remaining        INTEGER NOT NULL CHECK (remaining >= 0 AND remaining <= original),
  earned_at        INTEGER NOT NULL,
  vests_at         INTEGER NOT NULL,
  expires_at       INTEGER,          -- NULL: no fixed expiry (policy none or inactivity)
  program_version  TEXT NOT NULL
);
CREATE INDEX lots_open_by_member ON lots(member_id, id) WHERE remaining > 0;
CREATE INDEX lots_open_by_expiry ON lots(expires_at) WHERE remaining > 0 AND expires_at IS NOT NULL;

CREATE TABLE orders (
  order_id            TEXT PRIMARY KEY,
  member_id           TEXT NOT NULL,
  amount_minor        INTEGER NOT NULL CHECK (amount_minor > 0),
  currency            TEXT NOT NULL,
  occurred_at         INTEGER NOT NULL,
  store_id            TEXT,
  base_points         INTEGER NOT NULL,  -- before multipliers: what tiers qualify on
  earned_points       INTEGER NOT NULL,  -- the earn entry's points
  bonus_points        INTEGER NOT NULL DEFAULT 0,
  bonus_promotion_id  TEXT,
  earn_entry_id       INTEGER,
  earn_lot_id         INTEGER,
  bonus_entry_id      INTEGER,
  bonus_lot_id        INTEGER,
  refunded_minor      INTEGER NOT NULL DEFAULT 0,
  reversed_due        INTEGER NOT NULL DEFAULT 0,  -- floor(earned * refunded / amount), cumulative
  base_reversed       INTEGER NOT NULL DEFAULT 0,
  bonus_reversed      INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX orders_by_member_time ON orders(member_id, occurred_at);

CREATE TABLE refunds (
  refund_id        TEXT PRIMARY KEY,
  order_id         TEXT NOT NULL,
  amount_minor     INTEGER NOT NULL,
  points_reversed  INTEGER NOT NULL,
  created_at       INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE holds (
  hold_id          TEXT PRIMARY KEY,
  member_id        TEXT NOT NULL,
  points           INTEGER NOT NULL CHECK (points > 0),
  order_id         TEXT,
  state            TEXT NOT NULL CHECK (state IN ('open','captured','released','expired')),
  created_at       INTEGER NOT NULL,
  expires_at       INTEGER NOT NULL,
  closed_at        INTEGER,
  captured_points  INTEGER NOT NULL DEFAULT 0,
  entry_id         INTEGER
) WITHOUT ROWID;
CREATE INDEX holds_open_by_member ON holds(member_id) WHERE state = 'open';

CREATE TABLE promotion_awards (
  member_id     TEXT NOT NULL,
  promotion_id  TEXT NOT NULL,
  order_id      TEXT NOT NULL,
  entry_id      INTEGER NOT NULL,
  PRIMARY KEY (member_id, promotion_id)
) WITHOUT ROWID;

CREATE TABLE reversals (
  entry_id           INTEGER PRIMARY KEY,  -- the corrected entry: reversed at most once
  reversal_entry_id  INTEGER NOT NULL
);

CREATE TABLE tier_changes (
  id                 INTEGER PRIMARY KEY,
  member_id          TEXT NOT NULL,
  from_tier          TEXT,
  to_tier            TEXT NOT NULL,
  changed_at         INTEGER NOT NULL,
  qualifying_points  INTEGER NOT NULL,
  reason             TEXT NOT NULL
);
CREATE INDEX tier_changes_by_member ON tier_changes(member_id, id);

CREATE TABLE api_keys (
  name        TEXT PRIMARY KEY,
  role        TEXT NOT NULL CHECK (role IN ('pos','app','admin')),
  key_hash    BLOB NOT NULL UNIQUE,  -- SHA-256 of the secret; the secret is never stored
  created_at  INTEGER NOT NULL,
  revoked_at  INTEGER
);

CREATE TABLE idempotency (
  key_name      TEXT NOT NULL,   -- API key name: idempotency keys are scoped per API key
  idem_key      TEXT NOT NULL,
  request_hash  BLOB NOT NULL,
  status        INTEGER NOT NULL,
  body          TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  PRIMARY KEY (key_name, idem_key)
) WITHOUT ROWID;
CREATE INDEX idempotency_by_age ON idempotency(created_at);
