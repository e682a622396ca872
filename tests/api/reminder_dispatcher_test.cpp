// The reminder dispatcher's thread (SPEC 7): a shutdown does not wait for a whole planning run.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <optional>
#include <thread>

#include "api/reminder_dispatcher.h"
#include "ledger/reminders.h"
#include "ledger/writer_vfs.h"
#include "tests/ledger/ledger_fixture.h"

using namespace encore;
using namespace encore::test;
using nlohmann::json;

namespace {

// A dormant rule: every member who bought 70 days ago with 100+ points gets one reminder.
Program dormant_program() {
  json reminders = {
      {"rules",
       json::array({{{"id", "winback"}, {"kind", "dormant"}, {"days", 60}, {"min_points", 100}}})},
      {"default_locale", "en"},
      {"templates", {{"en", {{"dormant", "{member_id}: {points} waiting"}}}}},
      {"sink", {{"kind", "file"}, {"path", "reminders.ndjson"}}}};
  return make_program({{"reminders", reminders}});
}

std::size_t outbox_size(LedgerFixture& f) {
  std::size_t n = 0;
  f.ledger->with_reader([&](Store& s) { n = s.reminders().all_reminders().size(); });
  return n;
}

}  // namespace

TEST_CASE("stopping the dispatcher ends a planning run between chunks; the next run completes it",
          "[reminders][dispatcher]") {
  LedgerFixture f(dormant_program(), "2026-01-10T09:00:00Z");
  constexpr int members = 7;
  for (int i = 0; i < members; ++i) {
    const std::string id = "m" + std::to_string(i);
    EnrolRequest req{id, std::nullopt, std::nullopt, std::nullopt, true};
    REQUIRE(f.ledger->write([&](Writer& w) { return w.enrol(req, f.actor); }));
    REQUIRE(f.buy(id, "o" + std::to_string(i), 20000));
  }
  f.clock.advance(std::chrono::days{70});
  REQUIRE(reminder_run_due(*f.ledger, f.clock.now()));

  api::DispatcherOptions options;
  options.poll = std::chrono::hours{1};
  options.rows_per_transaction = 2;
  std::promise<void> first_chunk;
  int chunks = 0;
  // Set once the constructor (which starts the thread) has returned.
  std::atomic<api::ReminderDispatcher*> running{nullptr};
  // After the first chunk, hold the run until stop() has been called (from the test's thread).
  options.after_run_chunk = [&] {
    if (++chunks != 1) return;
    first_chunk.set_value();
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds{30};
    while (std::chrono::steady_clock::now() < give_up) {
      if (auto* d = running.load(); d != nullptr && d->stopping()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds{1});
    }
  };
  {
    api::ReminderDispatcher dispatcher(*f.ledger, options);
    running = &dispatcher;
    REQUIRE(first_chunk.get_future().wait_for(std::chrono::seconds{30}) ==
            std::future_status::ready);
    // An on-demand run queued behind the scheduled one is answered as soon as the thread stops,
    // without waiting for stop() to join it (the server's drain is still running then).
    std::promise<std::optional<ErrorCode>> queued;
    dispatcher.run_now([&](const ReminderRunResult*, const Error* error) {
      queued.set_value(error != nullptr ? std::optional(error->code) : std::nullopt);
    });
    dispatcher.request_stop();
    auto answer = queued.get_future();
    REQUIRE(answer.wait_for(std::chrono::seconds{30}) == std::future_status::ready);
    CHECK(answer.get() == ErrorCode::overloaded);
    dispatcher.stop();
  }
  // One chunk of 2 committed; the run date was not recorded, so the run is still due.
  CHECK(chunks == 1);
  CHECK(outbox_size(f) == 2);
  CHECK(reminder_run_due(*f.ledger, f.clock.now()));

  // The next start completes the run: the 5 others, none twice (dedupe keys).
  options.after_run_chunk = nullptr;
  api::ReminderDispatcher restarted(*f.ledger, options);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds{30};
  while (reminder_run_due(*f.ledger, f.clock.now()) && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
  restarted.stop();
  CHECK_FALSE(reminder_run_due(*f.ledger, f.clock.now()));
  CHECK(outbox_size(f) == members);
}

TEST_CASE("after a storage failure the dispatcher delivers nothing (it could not record it)",
          "[reminders][dispatcher]") {
  LedgerFixture f(dormant_program(), "2026-01-10T09:00:00Z");
  for (int i = 0; i < 3; ++i) {
    const std::string id = "m" + std::to_string(i);
    EnrolRequest req{id, std::nullopt, std::nullopt, std::nullopt, true};
    REQUIRE(f.ledger->write([&](Writer& w) { return w.enrol(req, f.actor); }));
    REQUIRE(f.buy(id, "o" + std::to_string(i), 20000));
  }
  f.clock.advance(std::chrono::days{70});
  REQUIRE(run_reminder_planning(*f.ledger).planned.size() == 3);  // due, not delivered yet
  // A COMMIT whose sync fails: the ledger's durability is lost.
  writer_vfs_fail_wal_syncs_for_testing(FailWalSyncs::all);
  CHECK_THROWS_AS(f.enrol("x"), StorageFailure);
  writer_vfs_fail_wal_syncs_for_testing(FailWalSyncs::none);
  REQUIRE(f.ledger->durability_lost());

  api::DispatcherOptions options;
  options.poll = std::chrono::milliseconds{10};
  options.schedule = false;
  {
    api::ReminderDispatcher dispatcher(*f.ledger, options);
    std::this_thread::sleep_for(std::chrono::milliseconds{300});  // ~30 polls
  }
  // Delivering would append to the sink and then fail to record it, again at every poll.
  const auto sink = std::filesystem::path(f.path).parent_path() / "reminders.ndjson";
  CHECK_FALSE(std::filesystem::exists(sink));
}
