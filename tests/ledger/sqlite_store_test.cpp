// SqliteStore (ledger/sqlite_store.cpp) below the Ledger: statement sub-journals in memory, and a
// failed statement leaving its connection usable.
#include <SQLiteCpp/SQLiteCpp.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "ledger/store.h"
#include "tests/ledger/ledger_fixture.h"

using namespace encore;
using namespace encore::test;

namespace {

// Open files of this process that SQLite created as temp files (it names them etilqs_*, and
// unlinks them at once, so only /proc/self/fd still shows them).
int open_sqlite_temp_files() {
  int count = 0;
  for (const auto& fd : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const auto target = std::filesystem::read_symlink(fd.path(), ec);
    if (!ec && target.string().find("etilqs_") != std::string::npos) ++count;
  }
  return count;
}

// A table of `rows` rows of 3,000 random bytes: one 4 KiB page each.
void create_filler(SQLite::Database& db, int rows) {
  db.exec("CREATE TABLE filler (id INTEGER PRIMARY KEY, payload BLOB)");
  db.exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " +
          std::to_string(rows) + ") INSERT INTO filler SELECT i, randomblob(3000) FROM n");
}

}  // namespace

TEST_CASE("a savepoint that changes 100 KiB of pages keeps its sub-journal in memory",
          "[ledger][sqlite]") {
  // Every operation of a group commit runs in a savepoint; a sub-journal that spilled to a temp
  // file cost two pwrite calls per changed page for the rest of the batch.
  // The Ledger opens its database as the server does; the process-wide setting comes with it.
  LedgerFixture f;
  SQLite::Database db(f.path, SQLite::OPEN_READWRITE);
  create_filler(db, 24);

  const auto before = db.execAndGet("SELECT group_concat(hex(payload)) FROM filler").getString();

  db.exec("BEGIN IMMEDIATE");
  db.exec("SAVEPOINT op");
  // 24 pages that existed before the savepoint: each is copied to the sub-journal first
  // (~100 KiB, past SQLite's default 64 KiB spill, within Encore's 120 KiB).
  db.exec("UPDATE filler SET payload = randomblob(3000)");
  const int temp_files_in_savepoint = open_sqlite_temp_files();
  db.exec("ROLLBACK TO op");
  db.exec("RELEASE op");
  db.exec("COMMIT");

  CHECK(temp_files_in_savepoint == 0);
  // The rollback to the savepoint restored every page from the in-memory journal.
  CHECK(db.execAndGet("SELECT group_concat(hex(payload)) FROM filler").getString() == before);
  CHECK(db.execAndGet("PRAGMA integrity_check").getString() == "ok");
}

TEST_CASE("a savepoint that changes 8 MiB of pages spills its sub-journal and still works",
          "[ledger][sqlite]") {
  // With a 4 MiB in-memory chunk, the spill wrote the chunk in one write that the unix VFS cut
  // to nothing: the statement failed with "database or disk is full" and took the transaction
  // (a whole group-commit batch) with it.
  LedgerFixture f;
  SQLite::Database db(f.path, SQLite::OPEN_READWRITE);
  create_filler(db, 2000);
  const auto before = db.execAndGet("SELECT sum(length(payload)), count(*) FROM filler").getInt64();

  db.exec("BEGIN IMMEDIATE");
  db.exec("SAVEPOINT op");
  CHECK_NOTHROW(db.exec("UPDATE filler SET payload = randomblob(3000)"));  // ~8 MiB journal
  CHECK(open_sqlite_temp_files() == 1);                                    // spilled
  db.exec("ROLLBACK TO op");
  db.exec("RELEASE op");
  db.exec("SAVEPOINT op");
  CHECK_NOTHROW(db.exec("DELETE FROM filler WHERE id % 2 = 0"));
  db.exec("RELEASE op");
  db.exec("COMMIT");
  CHECK(db.execAndGet("SELECT count(*) FROM filler").getInt() == 1000);
  CHECK(before == 2000 * 3000);
  CHECK(db.execAndGet("PRAGMA integrity_check").getString() == "ok");
}

TEST_CASE("a statement that failed leaves its connection usable for the next transactions",
          "[ledger][sqlite]") {
  // SQLite reports a failed step again from sqlite3_reset; the store resets its cached
  // statements at every transaction end and before every use, and must not throw that old error
  // there (rollback() threw before its ROLLBACK, leaving the transaction open).
  const auto path = temp_db_path("failed-statement");
  auto store = open_sqlite_store(path, OpenMode::read_write);
  MemberRow row;
  row.member_id = "m1";
  row.tier = "base";
  store->begin_write();
  store->insert_member(row);
  store->commit();

  store->begin_write();
  CHECK_THROWS(store->insert_member(row));  // the same member_id again: PRIMARY KEY
  CHECK_NOTHROW(store->rollback());

  row.member_id = "m2";
  CHECK_NOTHROW(store->begin_write());
  CHECK_NOTHROW(store->insert_member(row));  // the cached statement that failed, reused
  CHECK_NOTHROW(store->commit());
  store.reset();

  SQLite::Database db(path, SQLite::OPEN_READONLY);
  CHECK(db.execAndGet("SELECT COUNT(*) FROM members").getInt() == 2);
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

TEST_CASE("purging idempotency records deletes the oldest first, at most the limit per call",
          "[ledger][sqlite]") {
  // The server forgets records past their retention in short pieces (api/idempotency_purger.h).
  const auto path = temp_db_path("purge-idempotency");
  auto store = open_sqlite_store(path, OpenMode::read_write);
  const TimePoint t0 = at("2026-01-01T00:00:00Z");
  store->begin_write();
  for (int day = 0; day < 5; ++day) {
    store->insert_idempotency(IdempotencyRecord{"pos-1", "key-" + std::to_string(day),
                                                std::string(32, 'h'), 201, "{}",
                                                t0 + std::chrono::days{day}});
  }
  store->commit();

  const TimePoint cutoff = t0 + std::chrono::days{3};  // keys 0, 1 and 2 are older
  store->begin_write();
  CHECK(store->purge_idempotency(cutoff, 2) == 2);
  CHECK(store->purge_idempotency(cutoff, 2) == 1);
  CHECK(store->purge_idempotency(cutoff, 2) == 0);
  store->commit();
  store->begin_read();
  CHECK_FALSE(store->idempotency("pos-1", "key-0"));
  CHECK_FALSE(store->idempotency("pos-1", "key-2"));
  CHECK(store->idempotency("pos-1", "key-3"));  // created exactly at the cutoff: kept
  CHECK(store->idempotency("pos-1", "key-4"));
  store->end_read();
  store.reset();
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

namespace {

// Whether this process has `path` memory-mapped (/proc/self/maps names mapped files).
bool file_is_mapped(const std::string& path) {
  std::ifstream maps("/proc/self/maps");
  const auto canonical = std::filesystem::canonical(path).string();
  std::string line;
  while (std::getline(maps, line)) {
    if (line.size() >= canonical.size() &&
        line.compare(line.size() - canonical.size(), canonical.size(), canonical) == 0) {
      return true;
    }
  }
  return false;
}

}  // namespace

TEST_CASE("read-only stores read the database without mapping it; the writer maps it",
          "[ledger][sqlite]") {
  // Under writes SQLite unmaps a reader's whole mapping at every read transaction (TLB
  // shootdowns across the process): readers use the page cache and pread instead.
  const auto path = temp_db_path("reader-mmap");
  {
    auto writer = open_sqlite_store(path, OpenMode::read_write);
    MemberRow row;
    row.member_id = "m1";
    row.tier = "base";
    writer->begin_write();
    writer->insert_member(row);
    writer->commit();
    writer->begin_read();
    CHECK(writer->member("m1"));
    writer->end_read();
    CHECK(file_is_mapped(path));  // the check can see a mapping
  }
  REQUIRE_FALSE(file_is_mapped(path));
  auto reader = open_sqlite_store(path, OpenMode::read_only);
  reader->begin_read();
  CHECK(reader->member("m1"));
  reader->end_read();
  CHECK_FALSE(file_is_mapped(path));
  reader.reset();
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}
