// When the background pass (Ledger::start_background_checkpoints) copies the WAL.
#pragma once

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

}  // namespace encore
