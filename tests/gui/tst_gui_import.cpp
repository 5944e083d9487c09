// Opening traces of other tools in the main window (gui/app/importcache.h): which files are
// imported (not specs, not ScaleScope traces), the cache key, the import of a tiny Kineto trace
// written here into the cache and its opening (the run selected), the reuse of the cache for an
// unchanged file (the cache file is not written again), a new import for a changed file, and Cancel
// leaving no cache entry. The parts that import need the Kineto reader (skipped in a build without
// it).
#include <QApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProgressDialog>
#include <QPushButton>
#include <QSemaphore>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QThreadPool>

#include <sqlite3.h>

#include "gui/app/importcache.h"
#include "gui/app/mainwindow.h"
#include "gui_fixture.h"

using namespace ss::gui;

namespace {
QByteArray kinetoTrace(int steps) {
    QByteArray events;
    for (int s = 0; s < steps; ++s) {
        const double t = 1000.0 + s * 1000.0;
        if (s) events += ",\n";
        events +=
            QStringLiteral(
                R"({"ph": "X", "cat": "user_annotation", "name": "ProfilerStep#%1", "pid": 10, "tid": 11, "ts": %2, "dur": 900.000},
{"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": 10, "tid": 11, "ts": %3, "dur": 5.000, "args": {"correlation": %1}},
{"ph": "X", "cat": "kernel", "name": "gemm_kernel", "pid": 0, "tid": 7, "ts": %4, "dur": 300.500, "args": {"device": 0, "stream": 7, "correlation": %1}})")
                .arg(s)
                .arg(t, 0, 'f', 3)
                .arg(t + 10, 0, 'f', 3)
                .arg(t + 20, 0, 'f', 3)
                .toUtf8();
    }
    return R"({"schemaVersion": 1, "traceEvents": [)" + events + "]}\n";
}
}  // namespace

class ImportTest : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

    QString write(const QString& name, const QByteArray& bytes) {
        const QString p = dir_.filePath(name);
        QFile f(p);
        f.open(QIODevice::WriteOnly | QIODevice::Truncate);
        f.write(bytes);
        return p;
    }
    QStringList cacheFiles() { return QDir(importCacheDir()).entryList(QDir::Files); }
    // Opens `path`; returns the error message (empty when a document opened).
    QString openAndWait(MainWindow& w, const QString& path) {
        QSignalSpy failed(&w, &MainWindow::openFailed);
        QSignalSpy opened(&w, &MainWindow::documentOpened);
        w.openFile(path);
        if (!QTest::qWaitFor([&] { return failed.count() + opened.count() > 0; }, 60000))
            return QStringLiteral("timeout");
        return failed.isEmpty() ? QString() : failed.first().at(1).toString();
    }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        QStandardPaths::setTestModeEnabled(true);  // the cache goes to a test folder
        QCoreApplication::setOrganizationName(QStringLiteral("ScaleScopeTest"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_gui_import"));
        QDir(importCacheDir()).removeRecursively();
    }
    void cleanupTestCase() { QDir(importCacheDir()).removeRecursively(); }

    void whatIsImported() {
        QVERIFY(isImportable(write(QStringLiteral("t.json"), kinetoTrace(1))));
        QVERIFY(
            isImportable(write(QStringLiteral("t.json.gz"), QByteArray("\x1f\x8b\x08\x00", 4))));
        QVERIFY(!isImportable(
            write(QStringLiteral("spec.json"), R"({"name": "x", "model": {"kind": "mlp"}})")));
        QVERIFY(!isImportable(QString::fromStdString(fixture::writeTinyTrace(dir_))));
        const QString nsys = dir_.filePath(QStringLiteral("report.sqlite"));
        sqlite3* db = nullptr;
        QCOMPARE(sqlite3_open(nsys.toUtf8().constData(), &db), SQLITE_OK);
        QCOMPARE(sqlite3_exec(db,
                              "CREATE TABLE StringIds(id INT, value TEXT); CREATE TABLE "
                              "CUPTI_ACTIVITY_KIND_KERNEL(start INT);",
                              nullptr, nullptr, nullptr),
                 SQLITE_OK);
        sqlite3_close(db);
        QVERIFY(isImportable(nsys));
        QVERIFY(!isImportable(dir_.filePath(QStringLiteral("missing.json"))));
    }

    void cacheKeyFollowsTheFile() {
        const QString src = write(QStringLiteral("key.json"), kinetoTrace(1));
        const QString a = cachedImportPath(src);
        QVERIFY(a.startsWith(importCacheDir() + QLatin1Char('/')));
        QCOMPARE(cachedImportPath(src), a);
        QFile f(src);
        QVERIFY(f.open(QIODevice::ReadWrite));
        QVERIFY(f.setFileTime(QDateTime::currentDateTime().addSecs(-3600),
                              QFileDevice::FileModificationTime));
        f.close();
        const QString b = cachedImportPath(src);
        QVERIFY(b != a);  // modified: another key
        // Same path: same prefix (older imports of it are found and removed).
        QCOMPARE(a.section(QLatin1Char('.'), 0, -3), b.section(QLatin1Char('.'), 0, -3));
        QVERIFY(cachedImportPath(write(QStringLiteral("other.json"), kinetoTrace(1)))
                    .section(QLatin1Char('.'), 0, -3) != a.section(QLatin1Char('.'), 0, -3));
    }

    void importsOpensAndReuses() {
#ifndef SCALESCOPE_IMPORT_KINETO
        QSKIP("this build has no Kineto reader (traces/import/kineto.cpp)");
#else
        const QString src = write(QStringLiteral("rank0.json"), kinetoTrace(3));
        QString cache;
        QDateTime written;
        {
            MainWindow w;
            w.setInteractiveErrors(false);
            QCOMPARE(openAndWait(w, src), QString());
            QCOMPARE(w.documents()->rowCount(), 1);
            cache = w.documents()->documents().front()->path();
            QCOMPARE(cache, cachedImportPath(src));
            QCOMPARE(w.documents()->documents().front()->displayName(),
                     QStringLiteral("rank0.json (imported)"));
            QVERIFY(w.selection().run.valid());
            const ss::traces::RunInfo& run = w.selection().runData()->info;
            QVERIFY(run.imported());
            QCOMPARE(run.source_file, src.toStdString());
            QVERIFY(run.event_count >= 6);
            QCOMPARE(cacheFiles().size(), qsizetype(1));
            written = QFileInfo(cache).lastModified();
        }
        {
            MainWindow w;  // a new session: the unchanged source is not imported again
            w.setInteractiveErrors(false);
            QCOMPARE(openAndWait(w, src), QString());
            QCOMPARE(w.documents()->documents().front()->path(), cache);
            QCOMPARE(QFileInfo(cache).lastModified(), written);
            QCOMPARE(cacheFiles().size(), qsizetype(1));
        }
        {
            // A changed source is imported again and replaces its old cache file.
            write(QStringLiteral("rank0.json"), kinetoTrace(5));
            MainWindow w;
            w.setInteractiveErrors(false);
            QCOMPARE(openAndWait(w, src), QString());
            const QString again = w.documents()->documents().front()->path();
            QVERIFY(again != cache);
            QCOMPARE(cacheFiles(), QStringList{QFileInfo(again).fileName()});
        }
        // A bad trace: the usual error path, naming the file; nothing cached.
        const QString bad = write(QStringLiteral("cut.json"), kinetoTrace(3).left(150));
        MainWindow w;
        w.setInteractiveErrors(false);
        const QString msg = openAndWait(w, bad);
        QVERIFY2(msg.contains(bad) && msg != QStringLiteral("timeout"), qPrintable(msg));
        QCOMPARE(cacheFiles().size(), qsizetype(1));
#endif
    }

    void cancelLeavesNoCacheEntry() {
        const QString src = write(QStringLiteral("cancel.json"), kinetoTrace(50));
        QDir(importCacheDir()).removeRecursively();
        MainWindow w;
        w.setInteractiveErrors(false);
        QSignalSpy failed(&w, &MainWindow::openFailed);
        QSignalSpy opened(&w, &MainWindow::documentOpened);
        // Hold every thread of the job pool, so the import starts only after the Cancel.
        QThreadPool* pool = jobPool();
        QSemaphore release;
        const int threads = pool->maxThreadCount();
        for (int i = 0; i < threads; ++i) pool->start([&release] { release.acquire(); });
        struct Release {
            QSemaphore& s;
            int n;
            ~Release() { s.release(n); }  // also when a check below fails
        } releaseAtEnd{release, threads};
        w.openFile(src);
        auto* dialog = w.findChild<QProgressDialog*>(QStringLiteral("importProgress"));
        QVERIFY(dialog);
        QCOMPARE(w.pendingOpens(), 1);
        auto* cancel = dialog->findChild<QPushButton*>();
        QVERIFY(cancel);
        cancel->click();  // the dialog's Cancel button
        QCOMPARE(w.pendingOpens(), 0);
        release.release(threads);
        releaseAtEnd.n = 0;
        pool->waitForDone();
        QCoreApplication::processEvents();
        QVERIFY(cacheFiles().isEmpty());
        QCOMPARE(failed.count() + opened.count(), 0);  // cancelled: neither opened nor an error
        QVERIFY(
            !w.findChild<QProgressDialog*>(QStringLiteral("importProgress")) ||
            QTest::qWaitFor(
                [&] { return !w.findChild<QProgressDialog*>(QStringLiteral("importProgress")); },
                5000));
    }
};

QTEST_MAIN(ImportTest)
#include "tst_gui_import.moc"
