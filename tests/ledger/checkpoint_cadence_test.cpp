// background_pass_due (ledger/checkpoint_cadence.h): when the background pass copies the WAL.
#include <catch2/catch.hpp>

#include "ledger/checkpoint_cadence.h"

using encore::background_pass_due;

TEST_CASE("the background pass waits while the WAL is short and growing", "[ledger][wal]") {
  constexpr int lazy_below = 48;
  // Growing and short: a page changed by the next commits would be copied again.
  CHECK_FALSE(background_pass_due(10, 5, lazy_below));
  CHECK_FALSE(background_pass_due(47, 40, lazy_below));
  // The writer started the WAL over since the last tick: short and growing again.
  CHECK_FALSE(background_pass_due(3, 60, lazy_below));
  // The first tick has nothing to compare with: it waits one tick.
  CHECK_FALSE(background_pass_due(0, -1, lazy_below));
}

TEST_CASE("the background pass copies an idle WAL at once and a long one every tick",
          "[ledger][wal]") {
  constexpr int lazy_below = 48;
  CHECK(background_pass_due(10, 10, lazy_below));  // stopped growing
  CHECK(background_pass_due(0, 0, lazy_below));
  CHECK(background_pass_due(48, 40, lazy_below));  // long: keeps the writer's restart copy short
  CHECK(background_pass_due(900, 800, lazy_below));
}

TEST_CASE("the writer copies the rest of a long WAL itself only once the backlog is short",
          "[ledger][wal]") {
  using encore::writer_copy_due;
  constexpr int restart = 16'384;
  // Not past the restart length: nothing to do, whatever the backlog.
  CHECK_FALSE(writer_copy_due(restart, 0, restart));
  CHECK_FALSE(writer_copy_due(100, 100, restart));
  // Past it with most of the WAL not copied yet: the writer would hold every write for the copy.
  CHECK_FALSE(writer_copy_due(restart + 1, 0, restart));
  CHECK_FALSE(writer_copy_due(20'000, 12'000, restart));
  CHECK_FALSE(writer_copy_due(20'000, 20'000 - restart / 16 - 1, restart));
  // The background pass caught up to within a sixteenth of the length: a short copy.
  CHECK(writer_copy_due(20'000, 20'000 - restart / 16, restart));
  CHECK(writer_copy_due(restart + 1, restart + 1, restart));
  // Past twice the length the writer copies whatever is left (a stalled background pass).
  CHECK_FALSE(writer_copy_due(2 * restart, 0, restart));
  CHECK(writer_copy_due(2 * restart + 1, 0, restart));
  // A restart length under 16 frames still lets the writer copy a rest of one frame.
  CHECK(writer_copy_due(9, 8, 8));
  CHECK_FALSE(writer_copy_due(9, 7, 8));
}
