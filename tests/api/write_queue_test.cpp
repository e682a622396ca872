// WriteQueue (api/write_queue.h): a job that fails alone loses only its own work; a job that throws
// AbortBatch fails its whole group commit, so nothing of the batch is written.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>

#include "api/write_queue.h"
#include "ledger/clock.h"
#include "ledger/ledger.h"
#include "ledger/program.h"

using namespace encore;
using namespace encore::api;

namespace {

struct QueueFixture {
  QueueFixture() {
    dir = (std::filesystem::temp_directory_path() / "encore-write-queue-XXXXXX").string();
    REQUIRE(::mkdtemp(dir.data()) != nullptr);
    auto program = Program::load(ENCORE_REPO_DIR "/examples/program.json");
    REQUIRE(program);
    ledger = Ledger::open(dir + "/encore.db", std::move(program).value(), clock);
    writes = std::make_unique<WriteQueue>(*ledger, 16, 16);
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
