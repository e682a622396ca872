-- Encore schema v2: the reminders outbox (SPEC 7). Internal tables, not a public contract.

-- One row per planned reminder. `dedupe_key` says which reason for which points it is (e.g.
-- rule + days_before + member + expiry date), so the same reason never fires twice.
CREATE TABLE reminders (
  id               INTEGER PRIMARY KEY,
  reminder_id      TEXT NOT NULL UNIQUE,        -- rem_ + hex; receivers dedup on it
  dedupe_key       TEXT NOT NULL UNIQUE,
  member_id        TEXT NOT NULL,
  rule_id          TEXT NOT NULL,
  kind             TEXT NOT NULL CHECK (kind IN ('expiring_soon','dormant','second_purchase')),
  locale           TEXT NOT NULL,
  message          TEXT NOT NULL,
  points           INTEGER NOT NULL,            -- available when planned
  expiring_points  INTEGER NOT NULL DEFAULT 0,
  expires_on       TEXT,                        -- YYYY-MM-DD in the program's time zone
  created_at       INTEGER NOT NULL,
  state            TEXT NOT NULL DEFAULT 'pending'
                   CHECK (state IN ('pending','delivered','failed','cancelled')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  INTEGER NOT NULL,
  delivered_at     INTEGER,
  last_error       TEXT
);
CREATE INDEX reminders_by_member ON reminders(member_id, created_at);
CREATE INDEX reminders_due ON reminders(next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX reminders_by_rule ON reminders(rule_id, state);
CREATE INDEX reminders_by_time ON reminders(created_at);  -- frequency caps, one range scan

-- Scheduler memory: the local date of the last daily run, so a missed run is made up at start.
CREATE TABLE reminder_schedule (
  id             INTEGER PRIMARY KEY CHECK (id = 1),
  last_run_date  TEXT NOT NULL,
  last_run_at    INTEGER NOT NULL
);

-- Planning scans opted-in members by their last purchase (dormant, second_purchase).
CREATE INDEX members_reachable_by_purchase ON members(last_purchase_at)
  WHERE marketing_opt_in = 1 AND erased_at IS NULL;
