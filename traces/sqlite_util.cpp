#include "traces/sqlite_util.h"

#include <filesystem>

namespace ss::traces {

namespace {
std::string location(const std::source_location& w) {
    std::string file = w.file_name();
    if (auto pos = file.rfind("/traces/"); pos != std::string::npos) file = file.substr(pos + 1);
    return file + ":" + std::to_string(w.line());
}
}  // namespace

void check_sqlite(int rc, sqlite3* db, std::string_view call, std::source_location where) {
    if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE) return;
    std::string msg(call);
    msg += " failed: ";
    msg += db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    msg += " (SQLite code " + std::to_string(rc) + ") at " + location(where);
    throw TraceError(msg);
}

Db::Db(const std::string& path, Mode mode) : path_(path) {
    int flags = SQLITE_OPEN_NOMUTEX;
    switch (mode) {
        case Mode::ReadOnly: flags |= SQLITE_OPEN_READONLY; break;
        case Mode::ReadWrite: flags |= SQLITE_OPEN_READWRITE; break;
        case Mode::Create: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE; break;
    }
    if (mode != Mode::Create) {
        std::error_code ec;
        if (!std::filesystem::exists(path, ec))
            throw TraceError("cannot open trace file '" + path + "': no such file");
        if (std::filesystem::is_directory(path, ec))
            throw TraceError("cannot open trace file '" + path + "': it is a directory");
    }
    int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = "cannot open trace file '" + path + "': " +
                          (db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
        sqlite3_close_v2(db_);
        db_ = nullptr;
        throw TraceError(msg);
    }
    sqlite3_extended_result_codes(db_, 1);
    // Untrusted-input hardening (https://sqlite.org/security.html): no schema-defined functions
    // with side effects, no writes to the schema through PRAGMA writable_schema, no extensions.
    SS_SQLITE_CHECK(db_, sqlite3_db_config(db_, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr));
    SS_SQLITE_CHECK(db_, sqlite3_db_config(db_, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr));
    SS_SQLITE_CHECK(db_, sqlite3_db_config(db_, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, nullptr));
    if (mode == Mode::ReadOnly) {
        SS_SQLITE_CHECK(db_, sqlite3_db_config(db_, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, nullptr));
        SS_SQLITE_CHECK(db_, sqlite3_db_config(db_, SQLITE_DBCONFIG_ENABLE_VIEW, 0, nullptr));
    }
    // A corrupt file must not make one query run forever or allocate without bound.
    sqlite3_limit(db_, SQLITE_LIMIT_LENGTH, 256 * 1024 * 1024);
    sqlite3_busy_timeout(db_, 5000);
}

Db Db::memory() {
    Db d;
    d.path_ = ":memory:";
    int rc = sqlite3_open_v2(":memory:", &d.db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_MEMORY, nullptr);
    check_sqlite(rc, d.db_, "sqlite3_open_v2(:memory:)");
    SS_SQLITE_CHECK(d.db_, sqlite3_db_config(d.db_, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr));
    SS_SQLITE_CHECK(d.db_, sqlite3_db_config(d.db_, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr));
    return d;
}

Db::~Db() { sqlite3_close_v2(db_); }

Db& Db::operator=(Db&& o) noexcept {
    if (this != &o) {
        sqlite3_close_v2(db_);
        db_ = o.db_;
        path_ = std::move(o.path_);
        o.db_ = nullptr;
    }
    return *this;
}

void Db::exec(std::string_view sql, std::source_location where) {
    char* err = nullptr;
    std::string s(sql);
    int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        std::string msg = "SQL '" + s.substr(0, 80) + "' failed on '" + path_ + "': " +
                          (err ? err : sqlite3_errstr(rc)) + " (SQLite code " +
                          std::to_string(rc) + ") at " + location(where);
        sqlite3_free(err);
        throw TraceError(msg);
    }
}

Stmt Db::prepare(std::string_view sql, std::source_location where) {
    sqlite3_stmt* st = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &st, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = "sqlite3_prepare_v3('" + std::string(sql.substr(0, 80)) +
                          "') failed on '" + path_ + "': " + sqlite3_errmsg(db_) +
                          " (SQLite code " + std::to_string(rc) + ") at " + location(where);
        sqlite3_finalize(st);
        throw TraceError(msg);
    }
    return Stmt(db_, st, std::string(sql));
}

std::int64_t Db::query_int(std::string_view sql, std::int64_t fallback) {
    Stmt st = prepare(sql);
    return st.step() ? st.col_int(0) : fallback;
}

bool Db::table_exists(std::string_view name) {
    Stmt st = prepare("SELECT 1 FROM sqlite_schema WHERE type='table' AND name=?1");
    st.bind(1, name);
    return st.step();
}

bool Stmt::step(std::source_location where) {
    int rc = sqlite3_step(st_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    std::string msg = "sqlite3_step('" + sql_.substr(0, 80) + "') failed: " + sqlite3_errmsg(db_) +
                      " (SQLite code " + std::to_string(rc) + ") at " + location(where);
    sqlite3_reset(st_);
    throw TraceError(msg);
}

void Stmt::bind_failed(int rc, int index) const {
    throw TraceError("sqlite3_bind #" + std::to_string(index) + " for '" + sql_.substr(0, 80) +
                         "' failed: " + sqlite3_errstr(rc));
}

}  // namespace ss::traces
