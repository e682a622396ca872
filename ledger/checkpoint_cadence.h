// When the background pass (Ledger::start_background_checkpoints) copies the WAL.
#pragma once

#include <algorithm>

namespace encore {

// Every pass copies the latest version of each page in the WAL and syncs the database file. Under
// load a page changes again within milliseconds, so passes every 10 ms copied most pages once per
// commit that touched them: the checkpointer thread took ~20% of a core at 3.5k purchases/s
// (docs/PERFORMANCE.md). While the WAL is growing and shorter than `lazy_below_frames`, waiting
// lets those copies collapse into one. From `lazy_below_frames` on, every tick copies, so that the
// writer's own copy before a restart stays short. A WAL that stopped growing (idle) is copied at
// once. `previous_wal_frames` is the length seen at the previous tick.
inline bool background_pass_due(int wal_frames, int previous_wal_frames, int lazy_below_frames) {
  const bool growing = wal_frames != previous_wal_frames;  // a restart counts as growing
  return !growing || wal_frames >= lazy_below_frames;
}

// Whether the writer copies what is left of the WAL itself before its next transaction, so that
// SQLite starts the WAL over (Store::restart_wal_if_long). Every write waits while it copies and
// syncs the database file, so past the restart length it copies only once the background pass
// has brought the rest (frames not yet in the database file, as the last checkpoint left them)
// down to a sixteenth of that length; under steady writes that is the next pass or two. Past
// twice the length it copies whatever is left, so the WAL stays bounded if the background pass
// stalls.
inline bool writer_copy_due(int wal_frames, int backfilled_frames, int restart_frames) {
  if (wal_frames <= restart_frames) return false;
  if (wal_frames > 2 * restart_frames) return true;
  return wal_frames - backfilled_frames <= std::max(1, restart_frames / 16);
}

}  // namespace encore
