// Schema migrations (schema/NNNN_*.sql): a database made by an older build is brought up to date
// when a read-write store opens it, with its rows intact.
#include <SQLiteCpp/SQLiteCpp.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "ledger/migrations.h"
#include "ledger/store.h"
#include "tests/ledger/ledger_fixture.h"

using namespace encore;
using namespace encore::test;

namespace {

// A database as a build with only migrations 1..`version` left it.
void create_at_version(const std::string& path, int version) {
  SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  for (const auto& m : migrations()) {
    if (m.version > version) break;
    db.exec(m.sql);
  }
  db.exec("PRAGMA user_version = " + std::to_string(version));
}

bool uses_ephemeral_table(SQLite::Database& db, const std::string& sql) {
  SQLite::Statement explain(db, "EXPLAIN " + sql);
  while (explain.executeStep()) {
    if (explain.getColumn(1).getString() == "OpenEphemeral") return true;
  }
  return false;
}

const char* const insert_entry_sql =
    "INSERT INTO entries (id, member_id, kind, points, occurred_at, recorded_at, actor, hash) "
    "VALUES (?, 'm1', ?, 5, 1, 1, 'pos-1', x'00')";

void insert_entry(SQLite::Database& db, int id, const std::string& kind) {
  SQLite::Statement insert(db, insert_entry_sql);
  insert.bind(1, id);
  insert.bind(2, kind);
  insert.exec();
}

}  // namespace

TEST_CASE("migration 4 rewrites the IN-list CHECKs, keeps the rows and still refuses bad values",
          "[ledger][sqlite][schema]") {
  const auto path = temp_db_path("migrate-v3");
  create_at_version(path, 3);
  {
    SQLite::Database v3(path, SQLite::OPEN_READWRITE);
    insert_entry(v3, 1, "earn");
    v3.exec(
        "INSERT INTO holds (hold_id, member_id, points, state, created_at, expires_at) "
        "VALUES ('h1', 'm1', 5, 'open', 1, 2)");
    // Before: every insert of an entry builds an ephemeral table for `kind IN (...)`.
    CHECK(uses_ephemeral_table(v3, insert_entry_sql));
  }

  auto store = open_sqlite_store(path, OpenMode::read_write);  // migrates
  store.reset();
  CHECK(sqlite_schema_version(path) == latest_schema_version());

  SQLite::Database db(path, SQLite::OPEN_READWRITE);
  CHECK(db.execAndGet("PRAGMA integrity_check").getString() == "ok");
  CHECK(db.execAndGet("SELECT COUNT(*) FROM entries WHERE kind = 'earn'").getInt() == 1);
  CHECK(db.execAndGet("SELECT state FROM holds WHERE hold_id = 'h1'").getString() == "open");
  for (const char* table : {"entries", "holds", "api_keys", "reminders"}) {
    INFO(table);
    SQLite::Statement sql(db, "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?");
    sql.bind(1, table);
    REQUIRE(sql.executeStep());
    const std::string text = sql.getColumn(0).getString();
    CHECK(text.find("CHECK (") != std::string::npos);
    CHECK(text.find(" IN (") == std::string::npos);
  }
  CHECK_FALSE(uses_ephemeral_table(db, insert_entry_sql));
  CHECK_FALSE(uses_ephemeral_table(db, "UPDATE holds SET state = 'captured' WHERE hold_id = 'h1'"));

  // The same values are accepted and refused as before.
  int id = 2;
  for (const char* kind : {"earn", "bonus", "redeem", "reverse", "restore", "expire", "adjust"}) {
    CHECK_NOTHROW(insert_entry(db, id++, kind));
  }
  CHECK_THROWS(insert_entry(db, id++, "gift"));
  CHECK_THROWS(insert_entry(db, id++, "EARN"));
  CHECK_THROWS(db.exec("UPDATE holds SET state = 'lost' WHERE hold_id = 'h1'"));
  for (const char* state : {"open", "captured", "released", "expired"}) {
    CHECK_NOTHROW(
        db.exec(std::string("UPDATE holds SET state = '") + state + "' WHERE hold_id = 'h1'"));
  }
  CHECK_THROWS(db.exec(
      "INSERT INTO api_keys (name, role, key_hash, created_at) VALUES ('k', 'root', x'01', 1)"));
  int key = 0;
  for (const char* role : {"pos", "app", "admin"}) {
    ++key;
    CHECK_NOTHROW(db.exec("INSERT INTO api_keys (name, role, key_hash, created_at) VALUES ('k" +
                          std::to_string(key) + "', '" + role + "', x'0" + std::to_string(key) +
                          "', 1)"));
  }
  auto insert_reminder = [&db, n = 0](const std::string& kind, const std::string& state) mutable {
    ++n;
    db.exec(
        "INSERT INTO reminders (reminder_id, dedupe_key, member_id, rule_id, kind, locale, "
        "message, points, created_at, next_attempt_at, state) VALUES ('r" +
        std::to_string(n) + "', 'd" + std::to_string(n) + "', 'm1', 'x', '" + kind +
        "', 'en', 'hi', 1, 1, 1, '" + state + "')");
  };
  CHECK_THROWS(insert_reminder("birthday", "pending"));
  CHECK_THROWS(insert_reminder("dormant", "lost"));
  for (const char* kind : {"expiring_soon", "dormant", "second_purchase"}) {
    for (const char* state : {"pending", "delivered", "failed", "cancelled"}) {
      CHECK_NOTHROW(insert_reminder(kind, state));
    }
  }
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

TEST_CASE("the connection that ran migration 4 uses the rewritten CHECKs at once",
          "[ledger][sqlite][schema]") {
  // The server's writer is the connection that migrates: it must not keep the old schema.
  const auto path = temp_db_path("migrate-same-connection");
  create_at_version(path, 3);
  SQLite::Database db(path, SQLite::OPEN_READWRITE);
  REQUIRE(uses_ephemeral_table(db, insert_entry_sql));  // schema v3 loaded on this connection
  for (const auto& m : migrations()) {
    if (m.version != 4) continue;
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    db.exec(m.sql);
    tx.commit();
  }
  CHECK_FALSE(uses_ephemeral_table(db, insert_entry_sql));
  CHECK_NOTHROW(insert_entry(db, 1, "earn"));
  CHECK_THROWS(insert_entry(db, 2, "gift"));
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}
