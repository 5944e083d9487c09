// The main window's chrome, driven through its widgets: the side panel shows whole run labels and
// leaves the pages room in a 1024×700 window (and hides), a finished launch selects the run it
// appended while a plain reload keeps the user's run, the font zoom keeps every page of the selector
// visible and Actual Size gives every label the application's font back, disabled controls look
// disabled in both palettes, and Help offers the documentation and the shortcuts of every action.
#include <QAction>
#include <QApplication>
#include <QDialog>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLabel>
#include <QListWidget>
#include <QMenuBar>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>
#include <QStyle>
#include <QTableWidget>
#include <QTest>
#include <QTextBrowser>
#include <QTreeView>

#include "gui/app/helpdialogs.h"
#include "gui/app/mainwindow.h"
#include "gui/app/page.h"
#include "gui/app/theme.h"
#include "gui_fixture.h"

using namespace ss::gui;
using namespace ss::traces;

namespace {

struct RunSpec {
    std::string model;
    RunStatus status;
    int dp = 2, tp = 1, pp = 2;
};

// Appends runs (no events: the labels and the selection are what is tested) to the trace at `path`.
void appendRuns(const QString& path, const std::vector<RunSpec>& runs) {
    TraceWriter w(path.toStdString());
    for (const RunSpec& r : runs) {
        RunInfo info;
        info.name = r.model + "-run";
        info.spec_json = "{}";
        info.model = r.model;
        info.backend = "cpu";
        info.dp = r.dp;
        info.tp = r.tp;
        info.pp = r.pp;
        info.world_size = r.dp * r.tp * r.pp;
        info.start_ns = 0;
        const RunId id = w.begin_run(info);
        w.finish_run(id, r.status, "", 1'000'000);
    }
}

double luminance(const QColor& c) { return 0.2126 * c.redF() + 0.7152 * c.greenF() + 0.0722 * c.blueF(); }

QAction* menuAction(MainWindow& w, const QString& menu, const QString& text) {
    for (QAction* top : w.menuBar()->actions()) {
        if (!top->menu() || !top->text().remove(QLatin1Char('&')).contains(menu)) continue;
        for (QAction* a : top->menu()->actions())
            if (a->text().remove(QLatin1Char('&')).contains(text)) return a;
    }
    return nullptr;
}

// The splitter between the side panel and the pages, and the side panel.
QSplitter* mainSplitter(MainWindow& w) {
    for (QSplitter* s : w.findChildren<QSplitter*>())
        if (s->orientation() == Qt::Horizontal && s->parentWidget() == &w) return s;
    return nullptr;
}
QWidget* sidePanel(MainWindow& w) {
    QSplitter* s = mainSplitter(w);
    return s ? s->widget(0) : nullptr;
}

}  // namespace

class WindowTest : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    QTemporaryDir settingsDir_;
    int files_ = 0;

    QString newFile() { return dir_.filePath(QStringLiteral("t%1.sqlite").arg(++files_)); }

    // Opens (or reopens) `path` and waits until it is read.
    bool openAndWait(MainWindow& w, const QString& path) {
        QSignalSpy opened(&w, &MainWindow::documentOpened);
        QSignalSpy failed(&w, &MainWindow::openFailed);
        w.openFile(path);
        return QTest::qWaitFor([&] { return opened.count() + failed.count() > 0; }, 20000) && failed.isEmpty();
    }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        QVERIFY(settingsDir_.isValid());
        QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, settingsDir_.path());
        QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, settingsDir_.path());
        QCoreApplication::setOrganizationName(QStringLiteral("ScaleScopeTest"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_gui_window"));
        applyTheme(*qApp, ThemeKind::Light, 1.0);
    }

    void init() { QSettings().clear(); }
    void cleanup() { applyTheme(*qApp, ThemeKind::Light, 1.0); }

    // Item 8: the default side panel shows the whole label, status included, of every run.
    void sidePanelShowsWholeRunLabels() {
        const QString path = newFile();
        appendRuns(path, {{"gpt-small", RunStatus::Completed}, {"gpt-small", RunStatus::Cancelled},
                          {"mlp-fashion", RunStatus::Completed, 4, 1, 1}});
        MainWindow w;
        w.setInteractiveErrors(false);
        w.show();  // the default size
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QVERIFY(openAndWait(w, path));
        QApplication::processEvents();
        auto* view = w.findChild<QTreeView*>(QStringLiteral("documentList"));
        QVERIFY(view);
        const QModelIndex file = view->model()->index(0, 0);
        QCOMPARE(view->model()->rowCount(file), 3);
        const int pad = 2 * (view->style()->pixelMetric(QStyle::PM_FocusFrameHMargin, nullptr, view) + 1);
        for (int r = 0; r < 3; ++r) {
            const QModelIndex i = view->model()->index(r, 0, file);
            const QString text = i.data().toString();
            QVERIFY(text.endsWith(QLatin1String(r == 1 ? "(cancelled)" : "(completed)")));
            const QRect rect = view->visualRect(i);
            const int need = view->fontMetrics().horizontalAdvance(text) + pad;
            QVERIFY2(rect.width() >= need && rect.right() < view->viewport()->width(),
                     qPrintable(QStringLiteral("'%1' needs %2 px, gets %3 (viewport %4)")
                                    .arg(text).arg(need).arg(rect.width()).arg(view->viewport()->width())));
        }
    }

    // Item 8: a finished launch appends its run to the open file and asks the window to open it:
    // the new run is selected and the status bar names it.
    void finishedLaunchSelectsTheNewRun() {
        const QString path = newFile();
        appendRuns(path, {{"gpt-tiny", RunStatus::Completed}});
        MainWindow w;
        w.setInteractiveErrors(false);
        QVERIFY(openAndWait(w, path));
        QCOMPARE(w.selection().run.value, std::int64_t(1));

        appendRuns(path, {{"gpt-tiny", RunStatus::Completed}, {"gpt-tiny", RunStatus::Cancelled}});
        QSignalSpy opened(&w, &MainWindow::documentOpened);
        emit w.page(QStringLiteral("experiment"))->openRequested(path);
        QVERIFY(QTest::qWaitFor([&] { return opened.count() > 0; }, 20000));
        QCOMPARE(w.documents()->rowCount(), 1);
        QCOMPARE(w.selection().run.value, std::int64_t(3));  // the newest of the two appended
        QVERIFY2(w.statusHeadline().startsWith(QStringLiteral("Run #3 ")), qPrintable(w.statusHeadline()));
        auto* view = w.findChild<QTreeView*>(QStringLiteral("documentList"));
        QCOMPARE(view->currentIndex().data().toString().left(3), QStringLiteral("#3 "));

        // A study launch appends a study: the study is selected.
        {
            TraceWriter tw(path.toStdString());
            StudyInfo st;
            st.name = "dp sweep";
            st.variable = "parallel.dp";
            st.scaling = "strong";
            const StudyId sid = tw.add_study(st);
            tw.add_study_run(StudyRun{sid, RunId(2), "1", 1, 0});
            tw.add_study_run(StudyRun{sid, RunId(3), "2", 2, 0});
        }
        emit w.page(QStringLiteral("experiment"))->openRequested(path);
        QVERIFY(QTest::qWaitFor([&] { return opened.count() > 1; }, 20000));
        QVERIFY(w.selection().study.valid());
        QCOMPARE(w.selection().run.value, std::int64_t(2));
    }

    // Item 8: a launch that appended to a trace file not open in the window: once opened, the run
    // it wrote (the file's newest) is selected, or the study when the launch was a study.
    void launchIntoAFileNotOpenSelectsWhatItWrote() {
        const QString path = newFile();
        appendRuns(path, {{"gpt-tiny", RunStatus::Completed}, {"gpt-tiny", RunStatus::Completed},
                          {"gpt-tiny", RunStatus::Cancelled}});
        {
            MainWindow w;
            w.setInteractiveErrors(false);
            QSignalSpy opened(&w, &MainWindow::documentOpened);
            emit w.page(QStringLiteral("experiment"))->openRequested(path);
            QVERIFY(QTest::qWaitFor([&] { return opened.count() > 0; }, 20000));
            QCOMPARE(w.selection().run.value, std::int64_t(3));
            QVERIFY(!w.selection().study.valid());
            QVERIFY(w.statusHeadline().startsWith(QStringLiteral("Run #3 ")));
            // Opened by the user (File ▸ Open), a file still shows its first run.
            MainWindow w2;
            w2.setInteractiveErrors(false);
            QVERIFY(openAndWait(w2, path));
            QCOMPARE(w2.selection().run.value, std::int64_t(1));
        }
        // A study launch: its runs and then the study were appended.
        appendRuns(path, {{"gpt-tiny", RunStatus::Completed}, {"gpt-tiny", RunStatus::Completed}});
        {
            TraceWriter tw(path.toStdString());
            StudyInfo st;
            st.name = "dp sweep";
            const StudyId sid = tw.add_study(st);
            tw.add_study_run(StudyRun{sid, RunId(4), "1", 1, 0});
            tw.add_study_run(StudyRun{sid, RunId(5), "2", 2, 0});
        }
        MainWindow w;
        w.setInteractiveErrors(false);
        QSignalSpy opened(&w, &MainWindow::documentOpened);
        emit w.page(QStringLiteral("experiment"))->openRequested(path);
        QVERIFY(QTest::qWaitFor([&] { return opened.count() > 0; }, 20000));
        QVERIFY(w.selection().study.valid());
        QCOMPARE(w.selection().run.value, std::int64_t(4));
    }

    // Item 8: reading the file again with nothing added keeps the run the user selected.
    void reloadKeepsTheSelectedRun() {
        const QString path = newFile();
        appendRuns(path, {{"gpt-tiny", RunStatus::Completed}, {"gpt-tiny", RunStatus::Completed}});
        MainWindow w;
        w.setInteractiveErrors(false);
        QVERIFY(openAndWait(w, path));
        Selection s = w.selection();
        s.run = RunId(2);
        w.select(s);
        QVERIFY(openAndWait(w, path));  // File ▸ Open of the open file: read again
        QCOMPARE(w.selection().run.value, std::int64_t(2));
        QVERIFY(w.selection().doc != s.doc);  // the document read again
        QVERIFY(w.statusHeadline().startsWith(QStringLiteral("Run #2 ")));
    }

    // Item 10: zoomed fonts make the page selector taller: every page stays visible.
    void zoomInKeepsEveryPageVisible() {
        MainWindow w;
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        auto* pages = w.findChild<QListWidget*>(QStringLiteral("pageSelector"));
        QVERIFY(pages);
        QCOMPARE(pages->count(), 7);  // Experiment … Compare, Learn
        const auto allInside = [&] {
            for (int i = 0; i < pages->count(); ++i)
                if (!pages->viewport()->rect().contains(pages->visualItemRect(pages->item(i)))) return false;
            return true;
        };
        const int rowHeight = pages->visualItemRect(pages->item(0)).height();
        for (const double zoom : {1.0, 1.15, 1.15 * 1.15, 1.15 * 1.15 * 1.15, 2.0}) {
            if (zoom != 1.0) applyTheme(*qApp, ThemeKind::Light, zoom);
            // The list has the new font and has laid its rows out again (or the time is up).
            (void)QTest::qWaitFor([&] { return pages->font() == QApplication::font() && allInside(); }, 2000);
            for (int i = 0; i < pages->count(); ++i) {
                const QRect r = pages->visualItemRect(pages->item(i));
                QVERIFY2(pages->viewport()->rect().contains(r),
                         qPrintable(QStringLiteral("zoom %1: '%2' at y %3..%4, viewport height %5")
                                        .arg(zoom)
                                        .arg(pages->item(i)->text())
                                        .arg(r.top())
                                        .arg(r.bottom())
                                        .arg(pages->viewport()->height())));
            }
        }
        QVERIFY(pages->visualItemRect(pages->item(0)).height() >= 1.5 * rowHeight);  // the rows did grow
    }

    // Item 10: zoom in, then Actual Size: every label follows the application's font at each step
    // (the warning labels with a style sheet of their own kept an older size).
    void zoomResetRestoresEveryLabel() {
        MainWindow w;
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        const double base = QApplication::font().pointSizeF();
        for (const QString& id : w.pageIds()) w.showPage(id);  // every page polished and shown once
        for (const double zoom : {1.15, 1.15 * 1.15, 1.0}) {
            applyTheme(*qApp, ThemeKind::Light, zoom);
            QApplication::processEvents();
            const double want = QApplication::font().pointSizeF();
            QStringList wrong;
            // A label inside a lesson's view may be drawn at a declared multiple of the font (its
            // title, its question): then it follows the zoom at that multiple.
            auto scale_of = [](const QWidget* x) {
                for (; x; x = x->parentWidget())
                    if (const QVariant v = x->property("ss_lesson_font_scale"); v.isValid()) return v.toDouble();
                return 1.0;
            };
            for (const QLabel* l : w.findChildren<QLabel*>())
                if (!qFuzzyCompare(l->font().pointSizeF(), want * scale_of(l)))
                    wrong << QStringLiteral("%1 in %2 '%3': %4 pt")
                                 .arg(l->objectName(), QString::fromLatin1(l->parent()->metaObject()->className()),
                                      l->text().left(40))
                                 .arg(l->font().pointSizeF());
            QVERIFY2(wrong.isEmpty(), qPrintable(QStringLiteral("zoom %1, %2 pt: ").arg(zoom).arg(want) +
                                                 wrong.join(QStringLiteral("; "))));
        }
        QCOMPARE(QApplication::font().pointSizeF(), base);
    }

    // Item 14: both palettes make disabled text clearly fainter than enabled text.
    void disabledControlsLookDisabled() {
        for (const ThemeKind kind : {ThemeKind::Light, ThemeKind::Dark}) {
            const QPalette p = themePalette(kind);
            for (const auto& [role, bg] : {std::pair{QPalette::ButtonText, QPalette::Button},
                                          std::pair{QPalette::WindowText, QPalette::Window},
                                          std::pair{QPalette::Text, QPalette::Base}}) {
                const double active =
                    std::abs(luminance(p.color(QPalette::Active, role)) - luminance(p.color(QPalette::Active, bg)));
                const double disabled = std::abs(luminance(p.color(QPalette::Disabled, role)) -
                                                 luminance(p.color(QPalette::Disabled, bg)));
                QVERIFY2(disabled < 0.6 * active,
                         qPrintable(QStringLiteral("%1 theme, role %2: contrast %3 disabled vs %4 enabled")
                                        .arg(kind == ThemeKind::Light ? QStringLiteral("light")
                                                                      : QStringLiteral("dark"))
                                        .arg(int(role))
                                        .arg(disabled)
                                        .arg(active)));
                QVERIFY(disabled > 0.12);  // still readable
            }
            // A real disabled button paints with those colours.
            applyTheme(*qApp, kind, 1.0);
            QPushButton b(QStringLiteral("Launch"));
            b.setEnabled(false);
            QCOMPARE(b.palette().color(QPalette::Disabled, QPalette::ButtonText),
                     p.color(QPalette::Disabled, QPalette::ButtonText));
            QVERIFY(b.palette().color(QPalette::Disabled, QPalette::ButtonText) !=
                    b.palette().color(QPalette::Active, QPalette::ButtonText));
        }
    }

    // Item 20: Help ▸ Documentation shows the GUI guide and the README, rendered from Markdown.
    void helpShowsTheDocumentation() {
        MainWindow w;
        w.show();
        QAction* docs = menuAction(w, QStringLiteral("Help"), QStringLiteral("Documentation"));
        QVERIFY(docs);
        docs->trigger();
        auto* dialog = w.findChild<QDialog*>(QStringLiteral("documentationDialog"));
        QVERIFY(dialog);
        QVERIFY(dialog->isVisible());
        auto* browser = dialog->findChild<QTextBrowser*>(QStringLiteral("docBrowser"));
        auto* contents = dialog->findChild<QListWidget*>(QStringLiteral("docContents"));
        QVERIFY(browser && contents);
        QVERIFY(browser->source().toLocalFile().endsWith(QLatin1String("/docs/GUI.md")));
        // Rendered, not shown as source: the heading's '#' and the code fences are gone.
        const QString text = browser->toPlainText();
        QVERIFY2(text.startsWith(QStringLiteral("The desktop application")), qPrintable(text.left(80)));
        QVERIFY(!text.contains(QStringLiteral("```")));
        QVERIFY(contents->count() >= 5);  // GUI, README, ANALYSIS, LAUNCH, SIMULATOR, SPEC
        int readme = -1;
        for (int i = 0; i < contents->count(); ++i)
            if (contents->item(i)->data(Qt::UserRole).toString().endsWith(QLatin1String("/README.md"))) readme = i;
        QVERIFY(readme >= 0);
        contents->setCurrentRow(readme);
        QVERIFY(browser->toPlainText().startsWith(QStringLiteral("ScaleScope")));
        // README's link to the GUI guide (what a click does: the link resolved against the page) shows
        // it here, and the contents list follows.
        browser->setSource(browser->source().resolved(QUrl(QStringLiteral("docs/GUI.md"))));
        QVERIFY(browser->source().toLocalFile().endsWith(QLatin1String("/docs/GUI.md")));
        QCOMPARE(contents->currentRow(), 0);
    }

    // Item 20: an installed copy of the guides (README beside them) is found through
    // $SCALESCOPE_DOCS_DIR before the source tree's, and listed with the GUI guide first.
    void documentationFromAnInstalledFolder() {
        QTemporaryDir installed;
        QVERIFY(installed.isValid());
        for (const char* name : {"SPEC.md", "README.md", "GUI.md"}) {
            QFile f(installed.filePath(QString::fromLatin1(name)));
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("# " + QByteArray(name) + "\n\ntext\n");
        }
        qputenv("SCALESCOPE_DOCS_DIR", installed.path().toUtf8());
        const QString found = documentationDir();
        qunsetenv("SCALESCOPE_DOCS_DIR");
        QCOMPARE(found, QDir(installed.path()).absolutePath());
        QStringList names;
        for (const QString& f : documentationFiles(found)) names << QFileInfo(f).fileName();
        QCOMPARE(names,
                 (QStringList{QStringLiteral("GUI.md"), QStringLiteral("README.md"), QStringLiteral("SPEC.md")}));
        // Without it, the source tree's docs/ (this build's).
        QCOMPARE(documentationDir(), QDir(QStringLiteral(SCALESCOPE_SOURCE_DIR "/docs")).absolutePath());
    }

    // Item 20: Help ▸ Keyboard Shortcuts lists every action that has a shortcut, with its keys.
    void helpListsEveryShortcut() {
        MainWindow w;
        w.show();
        QAction* keys = menuAction(w, QStringLiteral("Help"), QStringLiteral("Keyboard Shortcuts"));
        QVERIFY(keys);
        keys->trigger();
        auto* dialog = w.findChild<QDialog*>(QStringLiteral("shortcutsDialog"));
        QVERIFY(dialog && dialog->isVisible());
        auto* table = dialog->findChild<QTableWidget*>(QStringLiteral("shortcutsTable"));
        QVERIFY(table);
        QSet<QPair<QString, QString>> rows;  // (keys, action)
        for (int r = 0; r < table->rowCount(); ++r)
            rows.insert(QPair<QString, QString>(table->item(r, 0)->text(), table->item(r, 1)->text()));
        int withKeys = 0;
        for (const QAction* a : w.findChildren<QAction*>()) {
            if (a->shortcuts().isEmpty()) continue;
            ++withKeys;
            QStringList k;
            for (const QKeySequence& s : a->shortcuts()) k << s.toString(QKeySequence::NativeText);
            const QPair<QString, QString> row{k.join(QStringLiteral(", ")), a->text().remove(QLatin1Char('&'))};
            QVERIFY2(rows.contains(row), qPrintable(row.first + QStringLiteral(" ") + row.second));
        }
        QVERIFY(withKeys >= 15);  // File, View, pages, Help, the tables' Copy
        const auto keysOf = [&](const QString& action) {
            for (int r = 0; r < table->rowCount(); ++r)
                if (table->item(r, 1)->text() == action) return table->item(r, 0)->text().split(QStringLiteral(", "));
            return QStringList();
        };
        QCOMPARE(keysOf(QStringLiteral("Open…")), QStringList{QStringLiteral("Ctrl+O")});
        QCOMPARE(keysOf(QStringLiteral("Compare")), QStringList{QStringLiteral("Alt+6")});
        // The keys docs/GUI.md promises, also where the platform has no binding for them.
        QVERIFY(keysOf(QStringLiteral("Close")).contains(QStringLiteral("Ctrl+W")));
        QVERIFY(keysOf(QStringLiteral("Quit")).contains(QStringLiteral("Ctrl+Q")));
        // One row for the tables' Copy as CSV, naming the pages that have such tables.
        int copies = 0;
        for (int r = 0; r < table->rowCount(); ++r)
            if (table->item(r, 1)->text() == QStringLiteral("Copy as CSV")) {
                ++copies;
                QVERIFY(table->item(r, 2)->text().contains(QStringLiteral("Summary")));
            }
        QCOMPARE(copies, 1);
    }

    // Item 9 (the window's share): at 1024×700 the side panel leaves the pages most of the width,
    // a long status headline does not widen the window, and the panel can be hidden.
    void smallWindowLeavesThePagesRoom() {
        const QString path = newFile();
        appendRuns(path, {{"gpt-small-with-a-long-name", RunStatus::Cancelled, 16, 2, 2}});
        MainWindow w;
        w.setInteractiveErrors(false);
        w.resize(1024, 700);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QVERIFY(openAndWait(w, path));
        QApplication::processEvents();
        QVERIFY(w.statusBar()->fontMetrics().horizontalAdvance(w.statusHeadline()) > 500);
        // The headline gives way: it never sets the window's minimum width, and all of it is in the tooltip.
        auto* headline = w.findChild<QLabel*>(QStringLiteral("headline"));
        QVERIFY(headline);
        QCOMPARE(headline->toolTip(), w.statusHeadline());
        QVERIFY2(w.minimumSizeHint().width() <= 640, qPrintable(QString::number(w.minimumSizeHint().width())));
        w.resize(640, 480);
        QApplication::processEvents();
        QCOMPARE(w.width(), 640);
        w.resize(1024, 700);
        QApplication::processEvents();
        QCOMPARE(w.width(), 1024);
        auto* stack = w.findChild<QStackedWidget*>();
        QVERIFY(stack && sidePanel(w));
        QVERIFY2(sidePanel(w)->width() <= 1024 / 4 + 10, qPrintable(QString::number(sidePanel(w)->width())));
        QVERIFY2(stack->width() >= 740, qPrintable(QString::number(stack->width())));
        // View ▸ Side Panel hides it: the pages get the whole width.
        QAction* side = menuAction(w, QStringLiteral("View"), QStringLiteral("Side Panel"));
        QVERIFY(side);
        side->trigger();
        QApplication::processEvents();
        QVERIFY(!sidePanel(w)->isVisible());
        QVERIFY2(stack->width() >= 1000, qPrintable(QString::number(stack->width())));
        side->trigger();
        QApplication::processEvents();
        QVERIFY(sidePanel(w)->isVisible());
        QVERIFY(sidePanel(w)->width() > 100);
    }

    // Item 8: a width the user drags the side panel to is kept, also in the next session.
    void draggedSidePanelWidthIsKept() {
        {
            MainWindow w;
            w.resize(1280, 800);
            w.show();
            QVERIFY(QTest::qWaitForWindowExposed(&w));
            QSplitter* split = mainSplitter(w);
            QVERIFY(split);
            // What a drag of the handle does: move it, which emits splitterMoved.
            QSplitterHandle* handle = split->handle(1);
            QTest::mousePress(handle, Qt::LeftButton, {}, QPoint(2, 100));
            QTest::mouseMove(handle, QPoint(2 + 380 - split->sizes().value(0), 100));
            QTest::mouseRelease(handle, Qt::LeftButton, {}, QPoint(2 + 380 - split->sizes().value(0), 100));
            QApplication::processEvents();
            QVERIFY(std::abs(sidePanel(w)->width() - 380) <= 8);
            w.close();  // saves the settings
        }
        MainWindow w2;
        w2.resize(1280, 800);
        w2.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w2));
        QVERIFY2(std::abs(sidePanel(w2)->width() - 380) <= 8, qPrintable(QString::number(sidePanel(w2)->width())));
    }
};

QTEST_MAIN(WindowTest)
#include "tst_gui_window.moc"
