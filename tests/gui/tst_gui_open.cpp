// Opening files in the main window: a good trace opens off the GUI thread and selects its first
// run; each kind of bad file (not a trace, newer schema, corrupt, missing) gives an error with the
// reader's message, shows the error dialog, and leaves the window usable (a good file opens after).
#include <QApplication>
#include <QFile>
#include <QMessageBox>
#include <QSignalSpy>
#include <QTest>

#include <sqlite3.h>

#include "gui/app/mainwindow.h"
#include "gui/app/page.h"
#include "gui/timeline/timelinepage.h"
#include "gui_fixture.h"

using namespace ss::gui;

class OpenTest : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    QString good_;

    QString write(const QString& name, const QByteArray& bytes) {
        const QString p = dir_.filePath(name);
        QFile f(p);
        f.open(QIODevice::WriteOnly);
        f.write(bytes);
        return p;
    }

    // Opens `path` in `w`; returns the error message (empty when it opened).
    QString openAndWait(MainWindow& w, const QString& path) {
        QSignalSpy failed(&w, &MainWindow::openFailed);
        QSignalSpy opened(&w, &MainWindow::documentOpened);
        w.openFile(path);
        if (!QTest::qWaitFor([&] { return failed.count() + opened.count() > 0; }, 20000)) return QStringLiteral("timeout");
        return failed.isEmpty() ? QString() : failed.first().at(1).toString();
    }

    void expectUsable(MainWindow& w) {
        const int before = w.documents()->rowCount();
        QCOMPARE(openAndWait(w, good_), QString());
        QVERIFY(w.documents()->rowCount() >= before);
        QVERIFY(w.selection().run.valid());
        QVERIFY(w.statusHeadline().contains(QStringLiteral("Run #1")));
    }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        QCoreApplication::setOrganizationName(QStringLiteral("ScaleScopeTest"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_gui_open"));
        good_ = QString::fromStdString(fixture::writeTinyTrace(dir_));
    }

    void goodFileOpensAndSelectsFirstRun() {
        MainWindow w;
        w.setInteractiveErrors(false);
        QCOMPARE(openAndWait(w, good_), QString());
        QCOMPARE(w.documents()->rowCount(), 1);
        QCOMPARE(w.selection().run.value, std::int64_t(1));
        // Every page got the selection and finishes its work.
        for (const QString& id : w.pageIds()) {
            w.showPage(id);
            QVERIFY2(QTest::qWaitFor([&] { return w.page(id)->isReady(); }, 20000), qPrintable(id));
        }
        // Opening the same file again does not add it twice.
        QCOMPARE(openAndWait(w, good_), QString());  // read again, not added twice
        QCOMPARE(w.documents()->rowCount(), 1);
    }

    void notATrace() {
        MainWindow w;
        w.setInteractiveErrors(false);
        const QString msg = openAndWait(w, write(QStringLiteral("notes.sqlite"), "just some text\nnot a database\n"));
        QVERIFY2(!msg.isEmpty() && msg != QStringLiteral("timeout"), qPrintable(msg));
        QCOMPARE(w.documents()->rowCount(), 0);
        expectUsable(w);
    }

    void newerSchema() {
        const QString p = dir_.filePath(QStringLiteral("newer.sqlite"));
        QFile::copy(good_, p);
        sqlite3* db = nullptr;
        QCOMPARE(sqlite3_open(p.toUtf8().constData(), &db), SQLITE_OK);
        QCOMPARE(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(db);
        MainWindow w;
        w.setInteractiveErrors(false);
        const QString msg = openAndWait(w, p);
        QVERIFY2(msg.contains(QStringLiteral("99")) || msg.contains(QStringLiteral("newer")), qPrintable(msg));
        expectUsable(w);
    }

    void corrupt() {
        QFile f(good_);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QByteArray bytes = f.readAll();
        // Keep the header, scribble over the pages after it.
        for (qsizetype i = 200; i < bytes.size(); i += 7) bytes[i] = static_cast<char>(0xA5);
        MainWindow w;
        w.setInteractiveErrors(false);
        const QString msg = openAndWait(w, write(QStringLiteral("corrupt.sqlite"), bytes));
        QVERIFY2(!msg.isEmpty() && msg != QStringLiteral("timeout"), qPrintable(msg));
        // Truncated to half.
        const QString half = write(QStringLiteral("half.sqlite"), bytes.left(bytes.size() / 2));
        QVERIFY(!openAndWait(w, half).isEmpty());
        QVERIFY(!openAndWait(w, dir_.filePath(QStringLiteral("missing.sqlite"))).isEmpty());
        QCOMPARE(w.documents()->rowCount(), 0);
        expectUsable(w);
    }

    void errorDialogShowsTheReadersMessage() {
        MainWindow w;
        w.show();
        const QString msg = openAndWait(w, write(QStringLiteral("text.sqlite"), "hello"));
        QVERIFY(!msg.isEmpty());
        QMessageBox* box = w.findChild<QMessageBox*>(QStringLiteral("openErrorDialog"));
        QVERIFY(box);
        QVERIFY(box->isVisible());
        QCOMPARE(box->informativeText(), msg);
        box->accept();
        expectUsable(w);
    }

    void timelineBuildsADrawList() {
        MainWindow w;
        w.setInteractiveErrors(false);
        w.resize(1000, 700);
        w.show();
        w.showPage(QStringLiteral("timeline"));
        QCOMPARE(openAndWait(w, good_), QString());
        auto* page = qobject_cast<TimelinePage*>(w.page(QStringLiteral("timeline")));
        QVERIFY(QTest::qWaitFor([&] { return page->isReady() && page->view()->drawList(); }, 20000));
        QCOMPARE(page->view()->rows().size(), size_t(3));  // run 1: one rank, three lanes
        // Zooming makes a new draw list for the new view.
        auto first = page->view()->drawList();
        page->view()->zoomBy(4, 10);
        QVERIFY(QTest::qWaitFor([&] { return page->isReady() && page->view()->drawList() != first; }, 20000));
        QCOMPARE(page->view()->drawList()->axis, page->view()->axis());
    }
};

QTEST_MAIN(OpenTest)
#include "tst_gui_open.moc"
