// The scan reads rows with the raw SQLite API and reuses one buffer per field: at >= 1M
// entries/s the cost of a std::string per column would dominate (docs/PERFORMANCE.md).
#include "ledger/verify.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <openssl/evp.h>
#include <sqlite3.h>

#include <charconv>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "ledger/chain.h"

namespace encore {
namespace {

// Running totals per member id, looked up once per entry. An open-addressing table with the
// hashes stored inline: std::unordered_map's transparent lookup was 45% of verify's time at 100k
// members (a pointer chase per probe); this is one mostly-cached probe.
class Balances {
 public:
  struct Slot {
    std::uint64_t hash = 0;
    std::string key;
    Points value = 0;
    bool used = false;
    bool seen = false;  // matched to a row of `members`
  };

  Balances() : slots_(1 << 16) {}

  Points& at(std::string_view key) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    std::uint64_t h = hash_of(key);
    std::size_t mask = slots_.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
      Slot& slot = slots_[i];
      if (!slot.used) {
        slot = Slot{h, std::string(key), 0, true, false};
        ++size_;
        return slot.value;
      }
      if (slot.hash == h && slot.key == key) return slot.value;
    }
  }

  Slot* find(std::string_view key) {
    std::uint64_t h = hash_of(key);
    std::size_t mask = slots_.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
      Slot& slot = slots_[i];
      if (!slot.used) return nullptr;
      if (slot.hash == h && slot.key == key) return &slot;
    }
  }

  std::size_t size() const { return size_; }
  const std::vector<Slot>& slots() const { return slots_; }

 private:
  static std::uint64_t hash_of(std::string_view key) {
    std::uint64_t h = 1469598103934665603ULL;  // FNV-1a, then a final mix for the low bits
    for (unsigned char c : key) h = (h ^ c) * 1099511628211ULL;
    return h ^ (h >> 29);
  }
  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    std::size_t mask = slots_.size() - 1;
    for (auto& slot : old) {
      if (!slot.used) continue;
      std::size_t i = slot.hash & mask;
      while (slots_[i].used) i = (i + 1) & mask;
      slots_[i] = std::move(slot);
    }
  }

  std::vector<Slot> slots_;
  std::size_t size_ = 0;
};

std::string_view text(sqlite3_stmt* s, int col) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, col));
  return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(s, col)))
           : std::string_view{};
}

void put_int(std::string& out, std::int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
  out.push_back('|');
}

void put_text_col(std::string& out, sqlite3_stmt* s, int col) {
  if (sqlite3_column_type(s, col) == SQLITE_NULL) {
    out.append("-|");
    return;
  }
  auto t = text(s, col);
  put_int(out, static_cast<std::int64_t>(t.size()));
  out.append(t);
  out.push_back('|');
}

// Must match append_canonical (chain.cpp) byte for byte; a unit test checks both agree.
void canonical_from_row(std::string& out, sqlite3_stmt* s) {
  out.append("encore.entry.v1|");
  put_int(out, sqlite3_column_int64(s, 0));
  auto member = text(s, 1);
  put_int(out, static_cast<std::int64_t>(member.size()));
  out.append(member);
  out.push_back('|');
  put_text_col(out, s, 2);
  for (int col : {3, 4, 5}) put_int(out, sqlite3_column_int64(s, col));
  for (int col : {6, 7, 8, 9, 10, 11}) put_text_col(out, s, col);
  if (sqlite3_column_type(s, 12) == SQLITE_NULL) {
    out.append("-|");
  } else {
    put_int(out, sqlite3_column_int64(s, 12));
  }
  put_text_col(out, s, 13);
  auto lots = text(s, 14);
  std::int64_t count = lots.empty() ? 0 : 1;
  for (char c : lots) count += (c == ',');
  put_int(out, count);
  while (!lots.empty()) {
    auto comma = lots.find(',');
    auto item = lots.substr(0, comma);
    auto colon = item.find(':');
    out.append(item.substr(0, colon));
    out.push_back('|');
    out.append(item.substr(colon + 1));
    out.push_back('|');
    if (comma == std::string_view::npos) break;
    lots.remove_prefix(comma + 1);
  }
}

// The digest is fetched once: with OpenSSL 3, EVP_DigestInit_ex(ctx, EVP_sha256(), ...) does an
// implicit provider fetch (locks, a property-cache lookup) on every call, which cost more than
// hashing the short canonical text itself (docs/PERFORMANCE.md).
struct Digest {
  Digest() : md(EVP_MD_fetch(nullptr, "SHA256", nullptr)), ctx(EVP_MD_CTX_new()) {
    if (md == nullptr || ctx == nullptr) throw std::runtime_error("SHA-256 is unavailable");
  }
  ~Digest() {
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(md);
  }
  Digest(const Digest&) = delete;
  Digest& operator=(const Digest&) = delete;
  Sha256 hash(const Sha256& prev, const std::string& body) {
    Sha256 out{};
    EVP_DigestInit_ex2(ctx, md, nullptr);
    EVP_DigestUpdate(ctx, prev.data(), prev.size());
    EVP_DigestUpdate(ctx, body.data(), body.size());
    EVP_DigestFinal_ex(ctx, out.data(), nullptr);
    return out;
  }
  EVP_MD* md;
  EVP_MD_CTX* ctx;
};

using Stmt = std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)>;

Stmt prepare(SQLite::Database& db, const char* sql) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db.getHandle(), sql, -1, &raw, nullptr) != SQLITE_OK) {
    throw std::runtime_error(sqlite3_errmsg(db.getHandle()));
  }
  return Stmt(raw, sqlite3_finalize);
}

bool scan_chain(SQLite::Database& db, Balances& balances, VerifyReport& report,
                const std::function<void(std::int64_t)>& progress) {
  constexpr const char* sql =
      "SELECT id, member_id, kind, points, occurred_at, recorded_at, order_id, refund_id, "
      "hold_id, promotion_id, reason, reward, ref_entry_id, actor, lots, hash FROM entries "
      "ORDER BY id";
  Stmt stmt = prepare(db, sql);
  sqlite3_stmt* s = stmt.get();
  Digest digest;
  Sha256 prev = genesis_hash;
  std::int64_t prev_id = 0;
  std::string body;
  body.reserve(512);
  while (sqlite3_step(s) == SQLITE_ROW) {
    std::int64_t id = sqlite3_column_int64(s, 0);
    if (id <= prev_id) {
      report.first_mismatch = "entry " + std::to_string(id) + ": ids are not strictly increasing";
      return false;
    }
    body.clear();
    canonical_from_row(body, s);
    Sha256 expected = digest.hash(prev, body);
    const void* stored = sqlite3_column_blob(s, 15);
    if (sqlite3_column_bytes(s, 15) != 32 || std::memcmp(stored, expected.data(), 32) != 0) {
      report.first_mismatch = "entry " + std::to_string(id) + ": hash does not match the chain";
      return false;
    }
    Points& total = balances.at(text(s, 1));
    if (__builtin_add_overflow(total, sqlite3_column_int64(s, 3), &total)) {
      report.first_mismatch = "entry " + std::to_string(id) + ": balance overflow";
      return false;
    }
    prev = expected;
    prev_id = id;
    if ((++report.entries_checked & 0xFFFF) == 0 && progress) progress(report.entries_checked);
  }
  return true;
}

}  // namespace

VerifyReport verify_ledger(const std::string& db_path,
                           const std::function<void(std::int64_t)>& progress) {
  VerifyReport report;
  // NOMUTEX: the connection is private to this call; in the default serialized mode every
  // sqlite3_column_* call takes the connection mutex (~10% of the scan).
  SQLite::Database db(db_path, SQLite::OPEN_READONLY | SQLite::OPEN_NOMUTEX);
  db.exec("PRAGMA mmap_size = 1073741824");
  db.exec("BEGIN");  // one snapshot for the chain and the member totals
  Balances balances;
  if (!scan_chain(db, balances, report, progress)) {
    report.ok = false;
    return report;
  }
  // The member totals are read on the same connection, in the same snapshot as the chain (a
  // second connection could see later writes and report a false mismatch). Open lots are summed
  // in one sequential pass over `lots`: a per-member indexed subquery costs a b-tree seek per
  // lot, which dominated verify on large ledgers.
  Balances lots;
  {
    Stmt stmt =
        prepare(db, "SELECT member_id, remaining FROM lots NOT INDEXED WHERE remaining > 0");
    sqlite3_stmt* s = stmt.get();
    while (sqlite3_step(s) == SQLITE_ROW) {
      lots.at(text(s, 0)) += sqlite3_column_int64(s, 1);
    }
  }
  std::size_t members_with_entries = 0;
  Stmt stmt = prepare(db, "SELECT member_id, balance, debt FROM members ORDER BY member_id");
  sqlite3_stmt* s = stmt.get();
  while (sqlite3_step(s) == SQLITE_ROW) {
    StoredMemberTotals m{std::string(text(s, 0)), sqlite3_column_int64(s, 1),
                         sqlite3_column_int64(s, 2), 0};
    if (const auto* l = lots.find(m.member_id)) m.lots_remaining = l->value;
    ++report.members_checked;
    auto* found = balances.find(m.member_id);
    Points from_entries = found == nullptr ? 0 : found->value;
    if (from_entries != m.balance) {
      report.ok = false;
      report.first_mismatch = "member " + m.member_id + ": stored balance " +
                              std::to_string(m.balance) + " but entries sum to " +
                              std::to_string(from_entries);
      return report;
    }
    if (m.lots_remaining - m.debt != m.balance) {
      report.ok = false;
      report.first_mismatch = "member " + m.member_id + ": lots hold " +
                              std::to_string(m.lots_remaining) + " less debt " +
                              std::to_string(m.debt) + " but the balance is " +
                              std::to_string(m.balance);
      return report;
    }
    if (found != nullptr) {
      found->seen = true;
      ++members_with_entries;
    }
  }
  if (members_with_entries != balances.size()) {
    for (const auto& slot : balances.slots()) {
      if (slot.used && !slot.seen) {
        report.ok = false;
        report.first_mismatch = "entries name an unknown member " + slot.key;
        break;
      }
    }
  }
  return report;
}

}  // namespace encore
