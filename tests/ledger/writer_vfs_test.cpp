// The writer VFS (ledger/writer_vfs.h). WAL writes: whatever it buffers, another connection
// reading through the default VFS sees every committed row, and the database stays intact through
// commits larger than the buffer, cache spills that rewrite frames in place, WAL restarts, and a
// crash recovery of the files as written.
#include <SQLiteCpp/SQLiteCpp.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "ledger/wal_file_sync.h"
#include "ledger/writer_vfs.h"
#include "tests/ledger/ledger_fixture.h"

using namespace encore;

namespace {

struct WalTotals {
  std::int64_t rows = 0;
  std::int64_t payload_bytes = 0;
  std::int64_t version_sum = 0;
};

WalTotals wal_totals(SQLite::Database& db) {
  SQLite::Statement s(db,
                      "SELECT COUNT(*), COALESCE(SUM(length(payload)), 0), "
                      "COALESCE(SUM(version), 0) FROM t");
  REQUIRE(s.executeStep());
  return {s.getColumn(0).getInt64(), s.getColumn(1).getInt64(), s.getColumn(2).getInt64()};
}

// As SqliteStore::commit: the COMMIT inside the scope, and its sync wrote every buffered frame.
void commit_coalesced(SQLite::Database& db, SQLite::Transaction& tx) {
  CoalescedWalCommit coalesced(db.getHandle());
  tx.commit();
  CHECK(coalesced.committed());
}

// Inserts `rows` rows in one transaction committed with WalSyncMode::deferred; returns whether
// the commit left its sync to the caller.
bool insert_rows_deferring_sync(SQLite::Database& db, int rows) {
  SQLite::Transaction tx(db);
  SQLite::Statement s(db, "INSERT INTO t(payload, version) VALUES (randomblob(100), 1)");
  for (int i = 0; i < rows; ++i) {
    s.exec();
    s.reset();
  }
  CoalescedWalCommit coalesced(db.getHandle(), WalSyncMode::deferred);
  tx.commit();
  CHECK(coalesced.committed());
  return coalesced.sync_deferred();
}

// Inserts `rows` rows of `payload_bytes` random bytes each in one transaction.
void insert_rows(SQLite::Database& db, int rows, int payload_bytes) {
  SQLite::Transaction tx(db);
  SQLite::Statement s(db, "INSERT INTO t(payload, version) VALUES (randomblob(?), 1)");
  for (int i = 0; i < rows; ++i) {
    s.bind(1, payload_bytes);
    s.exec();
    s.reset();
  }
  commit_coalesced(db, tx);
}

// As after a crash: the database and WAL files as they are now, opened without this VFS, so
// SQLite recovers the WAL exactly as written through it (frame checksums included).
void check_crash_recovery(const std::string& path, const WalTotals& expected) {
  const std::string crash_copy = path + ".crash";
  std::filesystem::remove(crash_copy);
  std::filesystem::remove(crash_copy + "-wal");
  std::filesystem::remove(crash_copy + "-shm");
  std::filesystem::copy_file(path, crash_copy);
  std::filesystem::copy_file(path + "-wal", crash_copy + "-wal");
  SQLite::Database recovered(crash_copy, SQLite::OPEN_READWRITE);
  SQLite::Statement recovered_check(recovered, "PRAGMA integrity_check");
  REQUIRE(recovered_check.executeStep());
  CHECK(recovered_check.getColumn(0).getString() == "ok");
  const WalTotals seen = wal_totals(recovered);
  CHECK(seen.rows == expected.rows);
  CHECK(seen.payload_bytes == expected.payload_bytes);
  CHECK(seen.version_sum == expected.version_sum);
}

}  // namespace

TEST_CASE("writer VFS: WAL writes coalesced, every commit visible, database intact",
          "[ledger][wal]") {
  const std::string path = test::temp_db_path("coalescing");
  {
    SQLite::Database writer(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE, 0, writer_vfs());
    writer.exec("PRAGMA journal_mode = WAL");
    writer.exec("PRAGMA synchronous = FULL");
    writer.exec("PRAGMA wal_autocheckpoint = 0");  // restarts only where this test asks
    writer.exec("PRAGMA cache_size = 64");         // pages: big transactions spill mid-way
    writer.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, payload BLOB, version INTEGER)");
    SQLite::Database reader(path, SQLite::OPEN_READONLY);  // the default VFS

    WalTotals expected;
    auto commit_and_check = [&](int rows, int payload_bytes) {
      insert_rows(writer, rows, payload_bytes);
      expected.rows += rows;
      expected.payload_bytes += static_cast<std::int64_t>(rows) * payload_bytes;
      expected.version_sum += rows;
      const WalTotals seen = wal_totals(reader);
      CHECK(seen.rows == expected.rows);
      CHECK(seen.payload_bytes == expected.payload_bytes);
      CHECK(seen.version_sum == expected.version_sum);
    };

    SECTION("small and large commits") {
      // Every page of these transactions stays in the cache until COMMIT writes them together,
      // as a group commit's pages do in the server's 8 MiB cache.
      writer.exec("PRAGMA cache_size = 4000");
      const auto before = writer_vfs_stats();
      commit_and_check(1, 100);
      commit_and_check(50, 1000);
      // ~2.5 MiB in one transaction: many times the 64 KiB buffer.
      commit_and_check(2500, 1000);
      const auto after = writer_vfs_stats();
      const auto buffered = after.wal_writes_buffered - before.wal_writes_buffered;
      const auto issued = after.wal_writes_issued - before.wal_writes_issued;
      // SQLite writes two pieces per frame; ~600 frames of 4 KiB pages need ~40 writes of 64 KiB.
      CHECK(buffered > 1000);
      CHECK(issued * 10 < buffered);
    }

    SECTION("frames rewritten in place within a transaction, then a WAL restart") {
      commit_and_check(400, 2000);
      const auto before_rewrites = writer_vfs_stats();
      {
        // Spilled pages of this transaction are written to the WAL and then changed again:
        // SQLite overwrites their frames in place (a write behind the end of the buffer).
        SQLite::Transaction tx(writer);
        writer.exec("INSERT INTO t(payload, version) SELECT randomblob(2000), 1 FROM t");
        writer.exec("UPDATE t SET version = version + 1");
        writer.exec("UPDATE t SET version = version + 1 WHERE id % 2 = 0");
        commit_coalesced(writer, tx);
      }
      expected.rows = 800;
      expected.payload_bytes = 800 * 2000;
      expected.version_sum = 800 * 2 + 400;
      WalTotals seen = wal_totals(reader);
      CHECK(seen.rows == expected.rows);
      CHECK(seen.version_sum == expected.version_sum);
      CHECK(writer_vfs_stats().wal_writes_buffered > before_rewrites.wal_writes_buffered);
      // SQLite recomputed the checksums of the rewritten frames by reading them back.
      check_crash_recovery(path, expected);

      // Every frame copied back: the next commit starts the WAL over at offset 0. With every page
      // of it in the cache, the new WAL header and its frames are written inside the COMMIT, so
      // the buffer starts at offset 0 (the server's path: a full PASSIVE copy by the
      // checkpointer, then the writer's next batch restarts the WAL).
      writer.exec("PRAGMA cache_size = 4000");
      for (const char* checkpoint :
           {"PRAGMA wal_checkpoint(TRUNCATE)", "PRAGMA wal_checkpoint(PASSIVE)"}) {
        writer.exec(checkpoint);
        const auto before_restart = writer_vfs_stats();
        commit_and_check(1, 10);
        CHECK(writer_vfs_stats().wal_writes_buffered > before_restart.wal_writes_buffered);
        commit_and_check(300, 1500);
      }
      writer.exec("PRAGMA cache_size = 64");
      commit_and_check(300, 1500);
      commit_and_check(3, 10);
    }

    SECTION("a scope buffers only its own connection's WAL") {
      commit_and_check(10, 100);
      SQLite::Database other(path, SQLite::OPEN_READWRITE, 0, writer_vfs());
      other.exec("PRAGMA synchronous = FULL");
      const auto before = writer_vfs_stats();
      {
        CoalescedWalCommit outer(writer.getHandle());
        SQLite::Transaction tx(other);
        other.exec("INSERT INTO t(payload, version) VALUES (randomblob(3000), 1)");
        tx.commit();  // on this thread, inside the writer's scope: not this scope's database
        CHECK(outer.committed());
      }
      const auto after = writer_vfs_stats();
      CHECK(after.wal_writes_buffered == before.wal_writes_buffered);
      CHECK(after.wal_writes_issued > before.wal_writes_issued);
      expected.rows += 1;
      expected.payload_bytes += 3000;
      expected.version_sum += 1;
      commit_and_check(10, 100);  // the scope ended: the writer buffers again
      CHECK(writer_vfs_stats().wal_writes_buffered > after.wal_writes_buffered);
    }

    SECTION("frames of a rolled-back transaction never land on frames committed after it") {
      commit_and_check(200, 2000);
      const auto before_spill = writer_vfs_stats();
      {
        // The 64-page cache spills these pages to the WAL mid-transaction, then it rolls back.
        SQLite::Transaction tx(writer);
        writer.exec("UPDATE t SET version = version + 7, payload = randomblob(2000)");
      }
      // Outside a COMMIT nothing is held back: no abandoned frame is left in a buffer that a
      // later read or write of this connection would write out over other connections' frames.
      const auto after_spill = writer_vfs_stats();
      CHECK(after_spill.wal_writes_issued > before_spill.wal_writes_issued);
      CHECK(after_spill.wal_writes_buffered == before_spill.wal_writes_buffered);
      // Another connection appends and commits frames where the abandoned ones were...
      {
        SQLite::Database other(path, SQLite::OPEN_READWRITE, 0, writer_vfs());
        other.exec("PRAGMA synchronous = FULL");
        SQLite::Transaction tx(other);
        // More frames than the abandoned ones, so that they cover the same WAL offsets.
        other.exec("INSERT INTO t(payload, version) SELECT randomblob(4000), 1 FROM t");
        commit_coalesced(other, tx);
      }
      expected.rows += 200;
      expected.payload_bytes += 200 * 4000;
      expected.version_sum += 200;
      // ...and the first connection reads (a read would write out anything it still held).
      for (auto* db : {&writer, &reader}) {
        const WalTotals seen = wal_totals(*db);
        CHECK(seen.rows == expected.rows);
        CHECK(seen.payload_bytes == expected.payload_bytes);
        CHECK(seen.version_sum == expected.version_sum);
      }
      commit_and_check(10, 100);
    }

    SQLite::Statement check(reader, "PRAGMA integrity_check");
    REQUIRE(check.executeStep());
    CHECK(check.getColumn(0).getString() == "ok");

    check_crash_recovery(path, expected);
  }
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

TEST_CASE("writer VFS: no buffering for a database without power-safe overwrite", "[ledger][wal]") {
  // Without it SQLite pads a commit to a sector boundary and may write after the sync.
  const std::string path = test::temp_db_path("coalescing-psow");
  {
    SQLite::Database writer("file:" + path + "?psow=0",
                            SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_URI, 0,
                            writer_vfs());
    writer.exec("PRAGMA journal_mode = WAL");
    writer.exec("PRAGMA synchronous = FULL");
    writer.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, payload BLOB, version INTEGER)");
    const auto before = writer_vfs_stats();
    insert_rows(writer, 50, 1000);
    const auto after = writer_vfs_stats();
    CHECK(after.wal_writes_buffered == before.wal_writes_buffered);
    CHECK(after.wal_writes_issued > before.wal_writes_issued);
    SQLite::Database reader(path, SQLite::OPEN_READONLY);
    CHECK(wal_totals(reader).rows == 50);
    // Nor a deferred sync: the padding SQLite writes after it would be published unwritten.
    CHECK_FALSE(insert_rows_deferring_sync(writer, 5));
    CHECK(writer_vfs_stats().wal_syncs_deferred == after.wal_syncs_deferred);
    CHECK(wal_totals(reader).rows == 55);
  }
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

TEST_CASE(
    "writer VFS: a deferred sync writes the frames and leaves only the fdatasync to the caller",
    "[ledger][wal]") {
  const std::string path = test::temp_db_path("deferred-sync");
  {
    SQLite::Database writer(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE, 0, writer_vfs());
    writer.exec("PRAGMA journal_mode = WAL");
    writer.exec("PRAGMA synchronous = FULL");
    SQLite::Database reader(path, SQLite::OPEN_READONLY);  // the default VFS
    const auto before = writer_vfs_stats();
    {
      // The WAL's first sync (of its header, in the first commit) also syncs the directory that
      // holds the new file: never deferred.
      SQLite::Transaction tx(writer);
      writer.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, payload BLOB, version INTEGER)");
      CoalescedWalCommit coalesced(writer.getHandle(), WalSyncMode::deferred);
      tx.commit();
      CHECK(coalesced.committed());
    }
    const auto after_first = writer_vfs_stats();
    CHECK(after_first.wal_syncs_issued > before.wal_syncs_issued);

    CHECK(insert_rows_deferring_sync(writer, 20));
    CHECK(insert_rows_deferring_sync(writer, 30));
    const auto after_deferred = writer_vfs_stats();
    CHECK(after_deferred.wal_syncs_deferred == after_first.wal_syncs_deferred + 2);
    CHECK(after_deferred.wal_syncs_issued == after_first.wal_syncs_issued);
    // Published before it is durable: other connections read it at once, and the WAL file holds
    // every frame (a recovery from the files as written finds both commits).
    CHECK(wal_totals(reader).rows == 50);
    check_crash_recovery(path, wal_totals(reader));

    // A plain commit inside the scope syncs as before.
    const auto plain_before = writer_vfs_stats();
    insert_rows(writer, 5, 100);
    CHECK(writer_vfs_stats().wal_syncs_deferred == plain_before.wal_syncs_deferred);
    CHECK(writer_vfs_stats().wal_syncs_issued == plain_before.wal_syncs_issued + 1);

    // Every frame copied into the database: the next write transaction starts the WAL over and
    // its commit writes a new header at offset 0. That header's sync runs, the commit's does not.
    SQLite::Statement checkpoint(writer, "PRAGMA wal_checkpoint(PASSIVE)");
    REQUIRE(checkpoint.executeStep());
    REQUIRE(checkpoint.getColumn(0).getInt() == 0);                                 // not busy
    REQUIRE(checkpoint.getColumn(1).getInt() == checkpoint.getColumn(2).getInt());  // all copied
    checkpoint.reset();
    const auto before_restart = writer_vfs_stats();
    CHECK(insert_rows_deferring_sync(writer, 10));
    const auto after_restart = writer_vfs_stats();
    CHECK(after_restart.wal_syncs_issued == before_restart.wal_syncs_issued + 1);
    CHECK(after_restart.wal_syncs_deferred == before_restart.wal_syncs_deferred + 1);
    SQLite::Statement frames(writer, "PRAGMA wal_checkpoint(PASSIVE)");
    REQUIRE(frames.executeStep());
    CHECK(frames.getColumn(1).getInt() < 10);  // the WAL did start over
    CHECK(wal_totals(reader).rows == 65);

    WalFileSync wal(path + "-wal");
    CHECK(wal.sync());
    CHECK(wal.failure().empty());
  }
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

TEST_CASE("WAL file sync: a failed fdatasync is reported, and for ever after", "[ledger][wal]") {
  CHECK_THROWS_AS(WalFileSync("/nonexistent-encore-dir/x.db-wal"), std::runtime_error);
  // Linux refuses fdatasync on a character device (EINVAL): a sync that cannot succeed.
  WalFileSync device("/dev/null");
  CHECK_FALSE(device.sync());
  CHECK(device.failure().find("fdatasync") != std::string::npos);
  CHECK_FALSE(device.sync());
}
