// `scalescope --screenshot PAGE OUT.png FILE`: opens FILE in a window of a fixed size (offscreen
// unless a display is asked for), shows PAGE once its data is in (Page::isReady), saves the window
// as PNG and exits: 0 on success, 1 when the file or page failed, 2 for bad arguments.
#pragma once

#include <QString>

class QApplication;

namespace ss::gui {

struct ScreenshotRequest {
    bool wanted = false;
    QString error;     // bad arguments
    QString page, out, file, file2;
    int width = 1280, height = 800;
    bool dark = false;
    bool presenter = false;  // --presenter: presenter mode (large fonts, high contrast, no side panel)
    double zoom = 1.0;
    long long run = -1, study = -1;
    QString platform = QStringLiteral("offscreen");
    int timeoutMs = 120000;
    double windowFromMs = -1, windowToMs = -1;  // timeline: show [from, to) ms after the run's start
};

ScreenshotRequest parseScreenshotArgs(int argc, char** argv);
int screenshotUsage(const QString& error);
int runScreenshot(QApplication& app, const ScreenshotRequest& r);

}  // namespace ss::gui
