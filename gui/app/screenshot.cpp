#include "gui/app/screenshot.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QPixmap>
#include <QSettings>
#include <QTemporaryDir>
#include <QTimer>

#include <cstdio>
#include <cstring>
#include <string>

#include "gui/app/importcache.h"
#include "gui/app/mainwindow.h"
#include "gui/app/page.h"
#include "gui/app/theme.h"
#include "gui/learn/learnpage.h"
#include "gui/timeline/timelinepage.h"

namespace ss::gui {

ScreenshotRequest parseScreenshotArgs(int argc, char** argv) {
    ScreenshotRequest r;
    QStringList positional;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> QString {
            if (i + 1 >= argc) {
                r.error = QStringLiteral("%1 needs a value").arg(QString::fromStdString(a));
                return {};
            }
            return QString::fromLocal8Bit(argv[++i]);
        };
        if (a == "--screenshot") r.wanted = true;
        else if (a == "--size") {
            const QStringList wh = next().split(QLatin1Char('x'));
            if (wh.size() != 2 || wh[0].toInt() < 200 || wh[1].toInt() < 150) r.error = QStringLiteral("--size takes WxH, e.g. 1280x800");
            else { r.width = wh[0].toInt(); r.height = wh[1].toInt(); }
        } else if (a == "--dark") r.dark = true;
        else if (a == "--presenter") r.presenter = true;
        else if (a == "--zoom") r.zoom = next().toDouble();
        else if (a == "--run") r.run = next().toLongLong();
        else if (a == "--study") r.study = next().toLongLong();
        else if (a == "--platform") r.platform = next();
        else if (a == "--window") {
            const QStringList w = next().split(QLatin1Char(','));
            if (w.size() != 2 || w[0].toDouble() >= w[1].toDouble()) r.error = QStringLiteral("--window takes FROM_MS,TO_MS");
            else { r.windowFromMs = w[0].toDouble(); r.windowToMs = w[1].toDouble(); }
        } else if (a == "--timeout") r.timeoutMs = static_cast<int>(next().toDouble() * 1000);
        else positional << QString::fromLocal8Bit(argv[i]);
    }
    if (!r.wanted) return r;
    if (r.error.isEmpty() && (positional.size() < 2 || positional.size() > 4))
        r.error = QStringLiteral("expected PAGE OUT.png [FILE [FILE2]]");
    if (r.error.isEmpty()) {
        r.page = positional.value(0);
        r.out = positional.value(1);
        r.file = positional.value(2);
        r.file2 = positional.value(3);
    }
    return r;
}

int screenshotUsage(const QString& error) {
    std::fprintf(stderr,
                 "scalescope: %s\nusage: scalescope --screenshot PAGE OUT.png [FILE [FILE2]] [--size WxH] [--dark] [--presenter] "
                 "[--zoom Z] [--run ID] [--study ID] [--window FROM_MS,TO_MS]\npages: experiment timeline summary scaling whatif compare learn learn-<entry> (learn-amdahl, learn-ring, ...)\n",
                 error.toLocal8Bit().constData());
    return 2;
}

int runScreenshot(QApplication& app, const ScreenshotRequest& r) {
    // The window as on a first start: the user's saved geometry, splitter and page are not read,
    // and the files opened here do not enter their recent list (settings go to a throwaway folder).
    QTemporaryDir settingsDir;
    if (!settingsDir.isValid()) {
        std::fprintf(stderr, "scalescope: cannot create a temporary folder for the settings: %s\n",
                     settingsDir.errorString().toLocal8Bit().constData());
        return 1;
    }
    QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, settingsDir.path());
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, settingsDir.path());
    applyTheme(app, r.dark ? ThemeKind::Dark : ThemeKind::Light, r.zoom);
    MainWindow w;
    w.setInteractiveErrors(false);
    w.resize(r.width, r.height);
    // "learn-<id>": the Learn page with its entry <id> on screen.
    QString page = r.page;
    if (page.startsWith(QStringLiteral("learn-"))) {
        page = QStringLiteral("learn");
        auto* learn = qobject_cast<LearnPage*>(w.page(page));
        const QString entry = r.page.mid(6);
        if (!learn || !learn->showEntry(entry))
            return screenshotUsage(QStringLiteral("unknown Learn entry '%1' (entries: %2)")
                                       .arg(entry, learn ? learn->entryIds().join(QLatin1Char(' ')) : QString()));
    }
    if (!w.showPage(page)) return screenshotUsage(QStringLiteral("unknown page '%1' (pages: %2)").arg(r.page, w.pageIds().join(QLatin1Char(' '))));
    w.show();
    if (r.presenter) w.setPresenterMode(true);  // app/theme.h presenter mode, as F5 turns it on
    int rc = -1;
    QObject::connect(&w, &MainWindow::openFailed, &app, [&](const QString& path, const QString& msg) {
        std::fprintf(stderr, "scalescope: cannot open %s: %s\n", path.toLocal8Bit().constData(), msg.toLocal8Bit().constData());
        rc = 1;
        app.quit();
    });
    QObject::connect(&w, &MainWindow::documentOpened, &app, [&](const QString& path) {
        // A trace of another tool opens as its import in the cache (app/importcache.h).
        const QString file = QFileInfo(r.file).absoluteFilePath();
        if (path != file && path != cachedImportPath(file)) return;
        if (r.run < 0 && r.study < 0) return;  // the window selected the first run already
        Selection s = w.selection();
        if (r.run >= 0) s.run = traces::RunId(r.run);
        if (r.study >= 0) s.study = traces::StudyId(r.study);
        w.select(s);
    });
    if (!r.file.isEmpty()) w.openFile(r.file);
    if (!r.file2.isEmpty()) w.openFile(r.file2);
    w.showPage(page);

    QElapsedTimer clock;
    clock.start();
    int readyPolls = 0;
    bool windowApplied = r.windowFromMs < 0;
    QTimer poll;
    QObject::connect(&poll, &QTimer::timeout, &app, [&] {
        Page* p = w.currentPage();
        const bool opened = w.pendingOpens() == 0 && (r.file.isEmpty() || w.documents()->rowCount() > 0);
        readyPolls = (opened && p && p->isReady()) ? readyPolls + 1 : 0;
        if (readyPolls >= 2 && !windowApplied) {
            windowApplied = true;
            auto* tl = qobject_cast<TimelinePage*>(p);
            const RunData* run = w.selection().runData();
            if (tl && run) {
                const auto t0 = run->info.start_ns + static_cast<std::int64_t>(r.windowFromMs * 1e6);
                const auto t1 = run->info.start_ns + static_cast<std::int64_t>(r.windowToMs * 1e6);
                tl->view()->setAxis(TimeAxis::fit(t0, t1, tl->view()->plotWidth()));
                readyPolls = 0;
                return;
            }
        }
        if (readyPolls >= 3) {  // ready for 3 polls in a row: nothing left to arrive
            const QPixmap pix = w.grab();
            // A window whose minimum size exceeds --size grows: say so, the picture is not at the size asked.
            if (w.width() != r.width || w.height() != r.height)
                std::fprintf(stderr, "scalescope: the window needs %dx%d; it cannot be %dx%d\n", w.width(),
                             w.height(), r.width, r.height);
            if (!pix.save(r.out, "PNG")) {
                std::fprintf(stderr, "scalescope: cannot write %s\n", r.out.toLocal8Bit().constData());
                rc = 1;
            } else {
                std::printf("wrote %s (%dx%d, page %s)\n", r.out.toLocal8Bit().constData(), pix.width(), pix.height(),
                            r.page.toLocal8Bit().constData());
                rc = 0;
            }
            app.quit();
        } else if (clock.elapsed() > r.timeoutMs) {
            std::fprintf(stderr, "scalescope: page %s not ready after %d ms\n", r.page.toLocal8Bit().constData(), r.timeoutMs);
            rc = 1;
            app.quit();
        }
    });
    poll.start(100);
    app.exec();
    return rc < 0 ? 1 : rc;
}

}  // namespace ss::gui
