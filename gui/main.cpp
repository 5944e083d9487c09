// scalescope: the desktop application.
//   scalescope [FILE...]                                   open trace files
//   scalescope --screenshot PAGE OUT.png FILE [--size WxH] [--dark] [--run ID] [--study ID]
//                                                          render one page offscreen and exit
//   scalescope --report STUDY.sqlite OUT.html|OUT.pdf [--study ID]
//                                                          write a study's one-page report and exit
#include <QApplication>
#include <QSettings>

#include "gui/app/screenshot.h"
#include "gui/app/mainwindow.h"
#include "gui/app/theme.h"
#include "gui/common/report.h"

int main(int argc, char** argv) {
    QApplication::setOrganizationName(QStringLiteral("ScaleScope"));
    QApplication::setApplicationName(QStringLiteral("ScaleScope"));
    QApplication::setApplicationVersion(QStringLiteral("0.1.0"));
    if (argc > 1 && qstrcmp(argv[1], "--report") == 0) {  // charts rendered offscreen: no window
        if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
        QApplication app(argc, argv);
        return ss::gui::runReportCommand(QApplication::arguments());
    }
    const ss::gui::ScreenshotRequest shot = ss::gui::parseScreenshotArgs(argc, argv);
    if (shot.wanted) qputenv("QT_QPA_PLATFORM", shot.platform.toUtf8());
    QApplication app(argc, argv);
    if (shot.wanted) {
        if (!shot.error.isEmpty()) return ss::gui::screenshotUsage(shot.error);
        return ss::gui::runScreenshot(app, shot);
    }
    QSettings settings;
    ss::gui::applyTheme(app, settings.value(QStringLiteral("view/dark"), false).toBool() ? ss::gui::ThemeKind::Dark
                                                                                          : ss::gui::ThemeKind::Light,
                        settings.value(QStringLiteral("view/zoom"), 1.0).toDouble());
    ss::gui::MainWindow w;
    w.show();
    QStringList files = QApplication::arguments();
    files.removeFirst();
    w.openFiles(files);
    return app.exec();
}
