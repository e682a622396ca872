// Child process of the crash test (tests/ledger/crash_test.cpp): opens the ledger at argv[1] and
// writes until it is killed, printing each acknowledged write to stdout (flushed) only after
// the write returned, i.e. after its transaction committed:
//   P <order_id>   a purchase (alone, or one of a write_batch group)
//   R <order_id>   a redemption naming that order_id
// argv[2] is a prefix that makes this run's order ids unique.
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "ledger/ledger.h"

using namespace encore;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: crash_writer DB PREFIX\n");
    return 2;
  }
  const std::string prefix = argv[2];
  auto program = Program::parse(
      {{"currency", "EUR"}, {"earn", {{"points_per_unit", 1}, {"unit_minor", 100}}}});
  if (!program) return 3;
  SystemClock clock;
  auto ledger = Ledger::open(argv[1], std::move(program).value(), clock);
  // As the server runs: background checkpoints, and the WAL started over past a threshold (small
  // here, so that kills land during checkpoints and restarts too).
  ledger->start_background_checkpoints(std::chrono::milliseconds(1), 256);
  Actor actor{"crash-writer"};
  constexpr int members = 8;
  for (int i = 0; i < members; ++i) {
    auto id = "m" + std::to_string(i);
    (void)ledger->write([&](Writer& w) { return w.enrol(EnrolRequest{id}, actor); });
  }
  std::mt19937_64 rng(std::random_device{}());
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  long n = 0;
  auto purchase = [&](Writer& w) -> std::string {
    std::string order = prefix + "-p" + std::to_string(++n);
    PurchaseRequest req{"m" + std::to_string(uniform(0, members - 1)), order, uniform(100, 20000),
                        "EUR"};
    auto r = w.purchase(req, actor);
    return r ? order : std::string();
  };
  for (;;) {
    int kind = uniform(0, 9);
    if (kind < 5) {
      auto order = ledger->write(purchase);
      if (!order.empty()) std::printf("P %s\n", order.c_str());
    } else if (kind < 8) {
      std::vector<std::string> acked;
      int size = uniform(2, 12);
      ledger->write_batch([&](Writer& w) {
        for (int i = 0; i < size; ++i) {
          auto order = purchase(w);
          if (!order.empty()) acked.push_back(order);
        }
      });
      for (const auto& order : acked) std::printf("P %s\n", order.c_str());
    } else {
      std::string order = prefix + "-r" + std::to_string(++n);
      RedemptionRequest req{"m" + std::to_string(uniform(0, members - 1)), uniform(1, 50), order};
      auto r = ledger->write([&](Writer& w) { return w.redeem(req, actor); });
      if (r) std::printf("R %s\n", order.c_str());
    }
    std::fflush(stdout);
  }
}
