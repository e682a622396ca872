// ReportRunner (api/report_runner.h): one report at a time, a bounded queue, and every job
// answered exactly once, also when the server stops.
#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "api/report_runner.h"

using encore::api::ReportRunner;

namespace {

// A job that blocks until released, recording how it was called.
struct Gate {
  std::promise<void> started;
  std::promise<void> release;
  std::shared_future<void> released{release.get_future().share()};
};

}  // namespace

TEST_CASE("report runner: bounded queue, one at a time, each job answered once", "[reports]") {
  ReportRunner runner(2);
  Gate gate;
  std::atomic<int> running_calls{0};
  REQUIRE(runner.submit([&](bool run) {
    CHECK(run);
    ++running_calls;
    gate.started.set_value();
    gate.released.wait();
  }));
  gate.started.get_future().wait();  // the first job runs; the queue is empty again

  std::mutex m;
  std::vector<bool> answers;
  auto record = [&](bool run) {
    std::lock_guard lock(m);
    answers.push_back(run);
  };
  CHECK(runner.submit(record));
  CHECK(runner.submit(record));
  CHECK_FALSE(runner.submit(record));  // two waiting: the third is refused, never called

  gate.release.set_value();
  runner.stop();  // the queued two may have run or been answered "not run": each exactly once
  CHECK(running_calls == 1);
  CHECK(answers.size() == 2);
  CHECK_FALSE(runner.submit(record));  // stopped
}

TEST_CASE("report runner: request_stop answers queued jobs at once and tells the running one",
          "[reports]") {
  ReportRunner runner(4);
  Gate gate;
  std::atomic<bool> saw_stop{false};
  REQUIRE(runner.submit([&](bool run) {
    CHECK(run);
    gate.started.set_value();
    // A report polls stopping() as it scans (KeepGoing); end when asked.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!runner.stopping() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    saw_stop = runner.stopping();
  }));
  gate.started.get_future().wait();
  std::atomic<int> not_run{0};
  REQUIRE(runner.submit([&](bool run) {
    if (!run) ++not_run;
  }));
  runner.request_stop();
  CHECK(not_run == 1);  // answered by request_stop itself, before the running job ended
  runner.stop();
  CHECK(saw_stop);
}

TEST_CASE("report runner: a throwing job does not stop the runner", "[reports]") {
  ReportRunner runner(2);
  REQUIRE(runner.submit([](bool) { throw std::runtime_error("boom"); }));
  std::promise<bool> second;
  REQUIRE(runner.submit([&](bool run) { second.set_value(run); }));
  auto f = second.get_future();
  REQUIRE(f.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  CHECK(f.get());
}
