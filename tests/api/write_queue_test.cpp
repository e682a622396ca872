// WriteQueue (api/write_queue.h): a job that fails alone loses only its own work; a job that throws
// AbortBatch fails its whole group commit, so nothing of the batch is written; a batch is answered
// only after the WAL sync that follows its commit, and a failed sync stops every write.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "api/write_queue.h"
#include "ledger/clock.h"
#include "ledger/ledger.h"
#include "ledger/program.h"

using namespace encore;
using namespace encore::api;

namespace {

struct QueueFixture {
  // `sync`: what the queue calls to make batches durable; the ledger's own WAL sync by default.
  explicit QueueFixture(WriteQueue::Sync sync = {}, std::size_t max_batch_jobs = 16) {
    dir = (std::filesystem::temp_directory_path() / "encore-write-queue-XXXXXX").string();
    REQUIRE(::mkdtemp(dir.data()) != nullptr);
    auto program = Program::load(ENCORE_REPO_DIR "/examples/program.json");
    REQUIRE(program);
    ledger = Ledger::open(dir + "/encore.db", std::move(program).value(), clock);
    // As the server: no checkpoint inside COMMIT, so commits defer their WAL sync to the queue.
    ledger->start_background_checkpoints(std::chrono::milliseconds(10));
    writes = sync ? std::make_unique<WriteQueue>(*ledger, 16, max_batch_jobs, std::move(sync))
                  : std::make_unique<WriteQueue>(*ledger, 16, max_batch_jobs);
  }
  ~QueueFixture() {
    writes->stop();
    writes.reset();
    ledger.reset();
    std::filesystem::remove_all(dir);
  }

  // Holds the writer on a first batch until released, so that the jobs submitted meanwhile
  // form the next batch together.
  // Returns once the writer runs the holding job (so it has dequeued it, alone).
  std::promise<void> hold_writer() {
    std::promise<void> release;
    auto released = release.get_future().share();
    auto started = std::make_shared<std::promise<void>>();
    auto running = started->get_future();
    REQUIRE(writes->submit(
        [released, started](Writer&) {
          started->set_value();
          released.wait();
        },
        [](bool) {}));
    running.wait();
    return release;
  }

  // Enrols `member_id` as a job; the future tells whether its batch committed.
  std::future<bool> enrol(const std::string& member_id) {
    auto committed = std::make_shared<std::promise<bool>>();
    auto result = committed->get_future();
    REQUIRE(writes->submit(
        [member_id](Writer& w) {
          // On the writer thread: throw rather than use Catch2's assertions (not thread-safe).
          if (!w.enrol(EnrolRequest{member_id}, Actor{"test"})) throw std::runtime_error("enrol");
        },
        [committed](bool ok) { committed->set_value(ok); }));
    return result;
  }

  std::future<bool> throwing(std::function<void()> thrower) {
    auto committed = std::make_shared<std::promise<bool>>();
    auto result = committed->get_future();
    REQUIRE(writes->submit([thrower](Writer&) { thrower(); },
                           [committed](bool ok) { committed->set_value(ok); }));
    return result;
  }

  std::string dir;
  SystemClock clock;
  std::unique_ptr<Ledger> ledger;
  std::unique_ptr<WriteQueue> writes;
};

}  // namespace

TEST_CASE("a job that throws fails alone; the rest of its batch commits", "[api][write_queue]") {
  QueueFixture f;
  auto release = f.hold_writer();
  auto first = f.enrol("m-1");
  auto failing = f.throwing([] { throw std::runtime_error("this job fails"); });
  auto last = f.enrol("m-2");
  release.set_value();
  CHECK(first.get());
  CHECK(failing.get());  // its batch committed; the job itself reports through its own state
  CHECK(last.get());
  CHECK(f.ledger->member("m-1"));
  CHECK(f.ledger->member("m-2"));
}

TEST_CASE("a job that throws AbortBatch fails its whole batch and nothing of it is written",
          "[api][write_queue]") {
  QueueFixture f;
  auto release = f.hold_writer();
  auto first = f.enrol("m-1");
  auto aborting = f.throwing([] { throw WriteQueue::AbortBatch("record not saved"); });
  auto last = f.enrol("m-2");
  release.set_value();
  CHECK_FALSE(first.get());
  CHECK_FALSE(aborting.get());
  CHECK_FALSE(last.get());
  CHECK_FALSE(f.ledger->member("m-1"));
  CHECK_FALSE(f.ledger->member("m-2"));
  CHECK(f.writes->stats().failed_commits == 1);

  // The queue keeps serving: the next batch commits.
  CHECK(f.enrol("m-3").get());
  CHECK(f.ledger->member("m-3"));
}

namespace {

constexpr auto test_wait = std::chrono::seconds(10);

template <class T>
bool ready_within(std::future<T>& f, std::chrono::milliseconds within) {
  return f.wait_for(within) == std::future_status::ready;
}

}  // namespace

TEST_CASE("a batch is answered only after its WAL sync; the writer goes on meanwhile",
          "[api][write_queue]") {
  // The sync thread's fdatasync, held until the test releases it.
  auto sync_called = std::make_shared<std::promise<void>>();
  std::promise<void> release_sync;
  auto released = release_sync.get_future().share();
  auto syncs = std::make_shared<std::atomic<int>>(0);
  QueueFixture f([sync_called, released, syncs] {
    if (syncs->fetch_add(1) == 0) {
      sync_called->set_value();
      released.wait();
    }
    return true;
  });
  auto first = f.enrol("m-1");
  REQUIRE(sync_called->get_future().wait_for(test_wait) == std::future_status::ready);
  // Committed and visible, not yet answered.
  CHECK(f.ledger->member("m-1"));
  CHECK_FALSE(ready_within(first, std::chrono::milliseconds(50)));
  // The writer is free: the next batch commits while the first one's sync runs.
  auto second = f.enrol("m-2");
  for (int i = 0; i < 1000 && !f.ledger->member("m-2"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(f.ledger->member("m-2"));
  // A batch that writes nothing owes no sync of its own, but it may answer from rows the held
  // batches wrote (a replay): it waits for them too.
  auto nothing_written = std::make_shared<std::promise<bool>>();
  auto third = nothing_written->get_future();
  auto ran = std::make_shared<std::promise<void>>();
  auto third_ran = ran->get_future();
  REQUIRE(f.writes->submit([ran](Writer&) { ran->set_value(); },
                           [nothing_written](bool ok) { nothing_written->set_value(ok); }));
  REQUIRE(third_ran.wait_for(test_wait) == std::future_status::ready);
  CHECK_FALSE(ready_within(third, std::chrono::milliseconds(20)));
  CHECK_FALSE(ready_within(second, std::chrono::milliseconds(1)));
  CHECK_FALSE(ready_within(first, std::chrono::milliseconds(1)));
  release_sync.set_value();
  REQUIRE(ready_within(first, test_wait));
  CHECK(first.get());
  REQUIRE(ready_within(second, test_wait));
  CHECK(second.get());
  REQUIRE(ready_within(third, test_wait));
  CHECK(third.get());
  const auto stats = f.writes->stats();
  CHECK(stats.syncs >= 2);
  CHECK(stats.sync.count == stats.syncs);
  CHECK(stats.failed_syncs == 0);
  CHECK_FALSE(f.writes->durability_lost());
}

TEST_CASE("batches are answered in commit order, and with the ledger's own WAL sync",
          "[api][write_queue]") {
  QueueFixture f({}, 3);  // at most 3 jobs per batch: the 12 jobs take 4 batches or more
  auto order = std::make_shared<std::vector<int>>();
  auto mutex = std::make_shared<std::mutex>();
  std::vector<std::future<bool>> answers;
  for (int i = 0; i < 12; ++i) {
    auto committed = std::make_shared<std::promise<bool>>();
    answers.push_back(committed->get_future());
    const std::string member_id = "m-" + std::to_string(i);
    REQUIRE(f.writes->submit(
        [member_id](Writer& w) {
          if (!w.enrol(EnrolRequest{member_id}, Actor{"test"})) throw std::runtime_error("enrol");
        },
        [committed, order, mutex, i](bool ok) {
          {
            std::lock_guard lock(*mutex);
            order->push_back(i);
          }
          committed->set_value(ok);
        }));
  }
  for (auto& answer : answers) {
    REQUIRE(ready_within(answer, test_wait));
    CHECK(answer.get());
  }
  std::vector<int> expected(12);
  for (int i = 0; i < 12; ++i) expected[static_cast<std::size_t>(i)] = i;
  CHECK(*order == expected);
  CHECK(f.writes->stats().batches >= 4);
  CHECK(f.writes->stats().syncs >= 1);
  CHECK(f.writes->stats().failed_syncs == 0);
}

TEST_CASE("a failed WAL sync fails the batches it covers and refuses every later write",
          "[api][write_queue]") {
  QueueFixture f([] { return false; });
  auto first = f.enrol("m-1");
  REQUIRE(ready_within(first, test_wait));
  // Committed in the file, but the disk did not confirm it: not acknowledged.
  CHECK_FALSE(first.get());
  CHECK(f.writes->durability_lost());
  CHECK(f.writes->stats().failed_syncs == 1);
  CHECK_FALSE(f.writes->submit([](Writer&) {}, [](bool) {}));
  CHECK_FALSE(f.writes->submit_continuation([](Writer&) {}, [](bool) {}));
}

TEST_CASE("stop() from two threads at once drains the queue and returns in both",
          "[api][write_queue]") {
  QueueFixture f;
  auto release = f.hold_writer();
  std::vector<std::future<bool>> answers;
  for (int i = 0; i < 8; ++i) answers.push_back(f.enrol("m-" + std::to_string(i)));
  auto first = std::async(std::launch::async, [&] { f.writes->stop(); });
  auto second = std::async(std::launch::async, [&] { f.writes->stop(); });
  release.set_value();
  REQUIRE(first.wait_for(test_wait) == std::future_status::ready);
  REQUIRE(second.wait_for(test_wait) == std::future_status::ready);
  for (auto& answer : answers) {
    REQUIRE(ready_within(answer, std::chrono::milliseconds(0)));
    CHECK(answer.get());  // queued before stop(): committed, synced and answered
  }
  CHECK_FALSE(f.writes->submit([](Writer&) {}, [](bool) {}));
}
