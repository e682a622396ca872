-- Encore schema v3: who erased a member's personal data, when and why (SPEC 6: every admin
-- correction records its reason and actor). Append-only, like entries.
CREATE TABLE member_erasures (
  id         INTEGER PRIMARY KEY,
  member_id  TEXT NOT NULL,
  erased_at  INTEGER NOT NULL,
  actor      TEXT NOT NULL,
  reason     TEXT
);
CREATE INDEX member_erasures_by_member ON member_erasures(member_id, id);
