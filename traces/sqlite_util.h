// Thin RAII wrappers over the SQLite C API. Every failing call throws TraceError with the call,
// the SQLite message and the source location, so nothing fails silently.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <source_location>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ss::traces {

// Every error from the trace store: open, schema, query, write.
class TraceError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Throws TraceError "CALL failed: <sqlite message> (code N) at file:line" when rc is not one of
// the accepted codes.
void check_sqlite(int rc, sqlite3* db, std::string_view call,
                  std::source_location where = std::source_location::current());

#define SS_SQLITE_CHECK(db, call) ::ss::traces::check_sqlite((call), (db), #call)

class Stmt;

// Owns one sqlite3 connection.
class Db {
public:
    enum class Mode { ReadOnly, ReadWrite, Create };

    Db() = default;
    // Opens `path`. ReadOnly never writes the file; Create makes it when missing. Defensive
    // settings are applied to every connection: defensive mode, trusted_schema off, no extension
    // loading, no views or triggers executed for read-only opens.
    Db(const std::string& path, Mode mode);
    // An in-memory database (used for migrating a read-only older file into memory).
    static Db memory();
    ~Db();
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;
    Db(Db&& o) noexcept : db_(o.db_), path_(std::move(o.path_)) { o.db_ = nullptr; }
    Db& operator=(Db&& o) noexcept;

    sqlite3* handle() const { return db_; }
    const std::string& path() const { return path_; }
    bool open() const { return db_ != nullptr; }

    // Runs SQL with no result rows (may hold several statements).
    void exec(std::string_view sql, std::source_location where = std::source_location::current());
    Stmt prepare(std::string_view sql, std::source_location where = std::source_location::current());
    std::int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
    // Value of a single-integer query, or `fallback` when it returns no row.
    std::int64_t query_int(std::string_view sql, std::int64_t fallback = 0);
    bool table_exists(std::string_view name);

private:
    sqlite3* db_ = nullptr;
    std::string path_;
};

// One prepared statement; bind by 1-based index; step() returns true while a row is available.
class Stmt {
public:
    Stmt() = default;
    Stmt(sqlite3* db, sqlite3_stmt* st, std::string sql) : db_(db), st_(st), sql_(std::move(sql)) {}
    ~Stmt() { sqlite3_finalize(st_); }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;
    Stmt(Stmt&& o) noexcept : db_(o.db_), st_(o.st_), sql_(std::move(o.sql_)) { o.st_ = nullptr; }
    Stmt& operator=(Stmt&& o) noexcept {
        if (this != &o) {
            sqlite3_finalize(st_);
            db_ = o.db_;
            st_ = o.st_;
            sql_ = std::move(o.sql_);
            o.st_ = nullptr;
        }
        return *this;
    }

    Stmt& bind(int i, std::int64_t v) { return checked(sqlite3_bind_int64(st_, i, v), i); }
    Stmt& bind(int i, int v) { return checked(sqlite3_bind_int64(st_, i, v), i); }
    Stmt& bind(int i, double v) { return checked(sqlite3_bind_double(st_, i, v), i); }
    Stmt& bind(int i, std::string_view v) {
        return checked(sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()),
                                         SQLITE_TRANSIENT),
                       i);
    }
    Stmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
    Stmt& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
    Stmt& bind_null(int i) { return checked(sqlite3_bind_null(st_, i), i); }
    // Binds NULL when v equals `absent` (optional columns store NULL, not a sentinel).
    Stmt& bind_opt(int i, std::int64_t v, std::int64_t absent) {
        return v == absent ? bind_null(i) : bind(i, v);
    }

    bool step(std::source_location where = std::source_location::current());
    void reset() {
        sqlite3_reset(st_);
        sqlite3_clear_bindings(st_);
    }
    // Runs a statement that returns no rows, then resets it for reuse.
    void run(std::source_location where = std::source_location::current()) {
        step(where);
        reset();
    }

    std::int64_t col_int(int i) const { return sqlite3_column_int64(st_, i); }
    std::int64_t col_int_or(int i, std::int64_t absent) const {
        return sqlite3_column_type(st_, i) == SQLITE_NULL ? absent : sqlite3_column_int64(st_, i);
    }
    double col_double(int i) const { return sqlite3_column_double(st_, i); }
    bool col_null(int i) const { return sqlite3_column_type(st_, i) == SQLITE_NULL; }
    std::string col_text(int i) const {
        const auto* p = sqlite3_column_text(st_, i);
        return p ? std::string(reinterpret_cast<const char*>(p),
                               static_cast<size_t>(sqlite3_column_bytes(st_, i)))
                 : std::string();
    }
    sqlite3_stmt* handle() const { return st_; }

private:
    Stmt& checked(int rc, int index) {
        if (rc != SQLITE_OK) [[unlikely]]
            bind_failed(rc, index);
        return *this;
    }
    [[noreturn]] void bind_failed(int rc, int index) const;
    sqlite3* db_ = nullptr;
    sqlite3_stmt* st_ = nullptr;
    std::string sql_;
};

// BEGIN on construction, COMMIT on commit(), ROLLBACK when destroyed uncommitted.
class Transaction {
public:
    explicit Transaction(Db& db) : db_(db) { db_.exec("BEGIN"); }
    ~Transaction() {
        if (!done_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
    void commit() {
        db_.exec("COMMIT");
        done_ = true;
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

private:
    Db& db_;
    bool done_ = false;
};

}  // namespace ss::traces
