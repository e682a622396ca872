// Ledger micro-benchmarks (not run by ctest; see docs/PERFORMANCE.md):
//   append, unbatched: one purchase per transaction (one fsync each)
//   append, batched:   write_batch of B purchases per transaction
//   verify:            verify_ledger over a database of N entries
// Usage: ledger_bench [--entries N] [--members M] [--unbatched N] [--batched N]
//                     [--batch B[,B...]] [--runs R] [--dir DIR] [--skip-append] [--skip-verify]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "ledger/ledger.h"
#include "ledger/verify.h"

using namespace encore;
namespace fs = std::filesystem;
using Clock_ = std::chrono::steady_clock;

namespace {

struct Options {
  long entries = 1'000'000;
  int members = 10'000;
  long unbatched = 2'000;
  long batched = 50'000;
  std::vector<int> batch_sizes{64, 256};
  int runs = 3;
  std::string dir = fs::temp_directory_path() / "encore-bench";
  bool append = true;
  bool verify = true;
};

Program bench_program() {
  auto p = Program::parse(
      {{"currency", "EUR"}, {"earn", {{"points_per_unit", 1}, {"unit_minor", 100}}}});
  if (!p) {
    std::fprintf(stderr, "bad program\n");
    std::exit(1);
  }
  return std::move(p).value();
}

struct Db {
  explicit Db(const std::string& path) : path(path) {
    fs::remove(path);
    fs::remove(path + "-wal");
    fs::remove(path + "-shm");
    ledger = Ledger::open(path, bench_program(), clock);
  }
  std::string path;
  SystemClock clock;
  std::unique_ptr<Ledger> ledger;
  Actor actor{"bench"};
  long next_order = 0;
  std::mt19937_64 rng{42};

  void enrol(int members) {
    const int chunk = 5000;
    for (int first = 0; first < members; first += chunk) {
      ledger->write_batch([&](Writer& w) {
        for (int i = first; i < std::min(members, first + chunk); ++i) {
          (void)w.enrol(EnrolRequest{"m" + std::to_string(i)}, actor);
        }
      });
    }
  }
  void purchase(Writer& w, int members) {
    PurchaseRequest req{"m" + std::to_string(rng() % static_cast<unsigned>(members)),
                        "o" + std::to_string(++next_order),
                        static_cast<std::int64_t>(100 + rng() % 20000), "EUR"};
    auto r = w.purchase(req, actor);
    if (!r) {
      std::fprintf(stderr, "purchase failed: %s\n", r.error().detail.c_str());
      std::exit(1);
    }
  }
  // Appends `count` purchases, `batch` per transaction; returns entries/s.
  double append(long count, int batch, int members) {
    auto start = Clock_::now();
    for (long done = 0; done < count; done += batch) {
      long n = std::min<long>(batch, count - done);
      ledger->write_batch([&](Writer& w) {
        for (long i = 0; i < n; ++i) purchase(w, members);
      });
    }
    double s = std::chrono::duration<double>(Clock_::now() - start).count();
    return static_cast<double>(count) / s;
  }
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

std::string runs_text(const std::vector<double>& v) {
  std::ostringstream out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    out << (i ? " " : "") << static_cast<long>(v[i]);
  }
  return out.str();
}

void row(const std::string& name, const std::vector<double>& runs) {
  std::printf("| %-38s | %12.0f | %s |\n", name.c_str(), median(runs), runs_text(runs).c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--entries") {
      o.entries = std::stol(next());
    } else if (a == "--members") {
      o.members = std::stoi(next());
    } else if (a == "--unbatched") {
      o.unbatched = std::stol(next());
    } else if (a == "--batched") {
      o.batched = std::stol(next());
    } else if (a == "--batch") {
      o.batch_sizes.clear();
      std::istringstream list(next());
      for (std::string b; std::getline(list, b, ',');) o.batch_sizes.push_back(std::stoi(b));
    } else if (a == "--runs") {
      o.runs = std::stoi(next());
    } else if (a == "--dir") {
      o.dir = next();
    } else if (a == "--skip-append") {
      o.append = false;
    } else if (a == "--skip-verify") {
      o.verify = false;
    } else {
      std::fprintf(stderr,
                   "usage: ledger_bench [--entries N] [--members M] [--unbatched N] "
                   "[--batched N] [--batch B,B] [--runs R] [--dir DIR] [--skip-append] "
                   "[--skip-verify]\n");
      return 2;
    }
  }
  fs::create_directories(o.dir);
  std::printf("| %-38s | %12s | %s |\n", "benchmark", "median /s", "runs (entries/s)");
  std::printf("|%s|%s|%s|\n", std::string(40, '-').c_str(), std::string(14, '-').c_str(),
              std::string(20, '-').c_str());
  if (o.append) {
    std::vector<double> unbatched;
    std::vector<std::vector<double>> batched(o.batch_sizes.size());
    for (int run = 0; run < o.runs; ++run) {
      Db db(o.dir + "/append.db");
      db.enrol(o.members);
      unbatched.push_back(db.append(o.unbatched, 1, o.members));
      for (std::size_t b = 0; b < o.batch_sizes.size(); ++b) {
        batched[b].push_back(db.append(o.batched, o.batch_sizes[b], o.members));
      }
    }
    row("append, 1 purchase/txn (" + std::to_string(o.unbatched) + ")", unbatched);
    for (std::size_t b = 0; b < o.batch_sizes.size(); ++b) {
      row("append, batch " + std::to_string(o.batch_sizes[b]) + " (" + std::to_string(o.batched) +
              ")",
          batched[b]);
    }
  }
  if (o.verify) {
    const std::string path = o.dir + "/verify.db";
    auto gen_start = Clock_::now();
    {
      Db db(path);
      db.enrol(o.members);
      double rate = db.append(o.entries, 10'000, o.members);
      std::fprintf(stderr, "generated %ld entries at %.0f entries/s (%.1f s)\n", o.entries, rate,
                   std::chrono::duration<double>(Clock_::now() - gen_start).count());
    }
    std::vector<double> rates;
    for (int run = 0; run < o.runs; ++run) {
      auto start = Clock_::now();
      auto report = verify_ledger(path);
      double s = std::chrono::duration<double>(Clock_::now() - start).count();
      if (!report.ok) {
        std::fprintf(stderr, "verify failed: %s\n", report.first_mismatch.c_str());
        return 1;
      }
      rates.push_back(static_cast<double>(report.entries_checked) / s);
    }
    row("verify_ledger (" + std::to_string(o.entries) + " entries)", rates);
  }
  return 0;
}
