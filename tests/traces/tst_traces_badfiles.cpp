// Trace files are untrusted: every kind of bad file gives a clear error, never a crash.
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <sqlite3.h>

#include "trace_fixture.h"
#include "traces/reader.h"
#include "traces/schema.h"
#include "traces/writer.h"

using namespace ss::traces;

class TestTraceBadFiles : public QObject {
    Q_OBJECT
private:
    QTemporaryDir dir_;
    std::string good_;

    std::string path(const char* name) { return dir_.filePath(QString::fromUtf8(name)).toStdString(); }

    // Runs raw SQL on a file with plain SQLite (as an attacker or another program would).
    static void raw(const std::string& file, const std::string& sql) {
        sqlite3* db = nullptr;
        QCOMPARE(sqlite3_open(file.c_str(), &db), SQLITE_OK);
        char* err = nullptr;
        const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
        QVERIFY2(rc == SQLITE_OK, err ? err : "?");
        sqlite3_close(db);
    }
    std::string copy_of_good(const char* name) {
        const std::string p = path(name);
        QFile::remove(QString::fromStdString(p));
        [&] { QVERIFY(QFile::copy(QString::fromStdString(good_), QString::fromStdString(p))); }();
        return p;
    }
    // Opening and reading everything must throw TraceError whose text contains `needle`.
    static void expect_rejected(const std::string& file, const char* needle) {
        try {
            TraceReader rd(file);
            for (const auto& r : rd.runs()) {
                rd.ranks(r.id);
                rd.aggregates(r.id);
                rd.scan_events(r.id, [](const Event&) {});
            }
            QFAIL(("accepted " + file).c_str());
        } catch (const TraceError& e) {
            // `needle` may list alternatives separated by '|'.
            bool found = false;
            const std::string what = e.what(), all = needle;
            size_t from = 0;
            while (from <= all.size()) {
                const size_t bar = std::min(all.find('|', from), all.size());
                if (what.find(all.substr(from, bar - from)) != std::string::npos) found = true;
                from = bar + 1;
            }
            QVERIFY2(found, e.what());
        }
    }

private slots:
    void initTestCase() {
        good_ = path("good.sqlite");
        TraceWriter w(good_);
        RunId r = w.begin_run(fixture::run_info("good", 1));
        for (int i = 0; i < 20000; ++i)
            w.add_event(fixture::parse_event(w, r, 0, "kernel k" + std::to_string(i % 50) + " " +
                                                          std::to_string(i * 10) + " " +
                                                          std::to_string(i * 10 + 7)));
        w.finish_run(r, RunStatus::Completed, "", 200000);
    }

    void goodFileOpens() {
        TraceReader rd(good_);
        QCOMPARE(rd.runs().size(), size_t(1));
    }

    void missingFile() { expect_rejected(path("absent.sqlite"), "no such file"); }

    void directory() { expect_rejected(dir_.path().toStdString(), "is a directory"); }

    void textFile() {
        const std::string p = path("notes.txt");
        QFile f(QString::fromStdString(p));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("step,loss\n1,2.3\n2,2.1\n" + QByteArray(5000, 'x'));
        f.close();
        expect_rejected(p, "not a ScaleScope trace");
    }

    void emptyFile() {
        const std::string p = path("empty.sqlite");
        QFile f(QString::fromStdString(p));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.close();
        expect_rejected(p, "empty SQLite database");
    }

    void truncatedFile() {
        const std::string p = copy_of_good("truncated.sqlite");
        QFile f(QString::fromStdString(p));
        QVERIFY(f.resize(f.size() / 3));
        expect_rejected(p, "malformed");
    }

    void truncatedHeader() {
        const std::string p = copy_of_good("header.sqlite");
        QFile f(QString::fromStdString(p));
        QVERIFY(f.resize(50));
        expect_rejected(p, "not a ScaleScope trace");
    }

    void corruptPages() {
        const std::string p = copy_of_good("corrupt.sqlite");
        QFile f(QString::fromStdString(p));
        QVERIFY(f.open(QIODevice::ReadWrite));
        const qint64 size = f.size();
        // Overwrite the middle of the file (event pages and b-tree interior pages) with garbage.
        for (qint64 off = 8192 * 2; off < size; off += 8192 * 3) {
            f.seek(off + 100);
            f.write(QByteArray(3000, '\xA5'));
        }
        f.close();
        expect_rejected(p, "malformed|corrupt");
    }

    void otherProgramsDatabase() {
        const std::string p = path("other.sqlite");
        raw(p, "CREATE TABLE contacts(name TEXT, phone TEXT); INSERT INTO contacts VALUES('a','1');");
        expect_rejected(p, "SQLite database of another program");
        // The writer refuses to append to it too.
        QVERIFY_THROWS_EXCEPTION(TraceError, TraceWriter{p});
    }

    void newerSchemaVersion() {
        const std::string p = copy_of_good("newer.sqlite");
        raw(p, "PRAGMA user_version=7");
        expect_rejected(p, "newer ScaleScope (schema version 7)");
        try {
            TraceReader rd(p);
        } catch (const TraceError& e) {
            QVERIFY(std::string(e.what()).find("reads schema versions 1 to " + std::to_string(kSchemaVersion)) != std::string::npos);
        }
    }

    void triggerInFile() {
        const std::string p = copy_of_good("trigger.sqlite");
        raw(p, "CREATE TRIGGER evil AFTER INSERT ON runs BEGIN DELETE FROM events; END;");
        expect_rejected(p, "contains a trigger 'evil'");
    }

    void viewReplacingATable() {
        // An attacker swaps a table for a view that calls functions when read.
        const std::string p = copy_of_good("view.sqlite");
        raw(p, "DROP TABLE studies; CREATE VIEW studies AS SELECT 1 AS id, "
               "hex(randomblob(1000000)) AS name, '' AS variable, '' AS scaling;");
        expect_rejected(p, "contains a view 'studies'");
    }

    void unexpectedIndexWithFunction() {
        const std::string p = copy_of_good("index.sqlite");
        raw(p, "CREATE INDEX sneaky ON events(abs(start_ns))");
        expect_rejected(p, "unexpected index 'sneaky'");
    }

    void tableWithWrongColumns() {
        const std::string p = copy_of_good("columns.sqlite");
        raw(p, "DROP TABLE study_runs; CREATE TABLE study_runs(x INTEGER);");
        expect_rejected(p, "table 'study_runs' does not have the columns");
    }

    void missingTable() {
        const std::string p = copy_of_good("missing.sqlite");
        raw(p, "DROP TABLE metrics;");
        expect_rejected(p, "table 'metrics' is missing");
    }

    void readingNeverWritesTheFile() {
        const std::string p = copy_of_good("ro.sqlite");
        QFile f(QString::fromStdString(p));
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray before = f.readAll();
        f.close();
        {
            TraceReader rd(p);
            rd.runs();
            rd.lanes(rd.runs()[0].id);
        }
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), before);
    }
};

QTEST_GUILESS_MAIN(TestTraceBadFiles)
#include "tst_traces_badfiles.moc"
