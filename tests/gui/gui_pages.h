// Helpers for the tests that drive pages of a MainWindow (tst_gui_charts, tst_gui_chartpages):
// open a file and show a page, wait for a page to be ready and drawn, and find elided texts.
#pragma once

#include <QChar>
#include <QSignalSpy>
#include <QString>
#include <QStringList>
#include <QTest>

#include <functional>
#include <type_traits>

#include "gui/app/mainwindow.h"

namespace pages {

// Opens `path` in the window and shows page `id`; false when the file did not open in 20 s.
inline bool openAndShow(ss::gui::MainWindow& w, const QString& path, const QString& id) {
    QSignalSpy opened(&w, &ss::gui::MainWindow::documentOpened);
    w.openFile(path);
    if (!QTest::qWaitFor([&] { return opened.count() > 0; }, 20000)) return false;
    return w.showPage(id);
}

// The window's page of type P once it is ready and `done` holds (30 s at most), else nullptr.
template <typename P>
P* waitPage(ss::gui::MainWindow& w, const std::type_identity_t<std::function<bool(P*)>>& done) {
    P* p = w.findChild<P*>();
    if (!p) return nullptr;
    if (!QTest::qWaitFor([&] { return p->isReady() && done(p); }, 30000)) return nullptr;
    QTest::qWait(50);  // let the views lay out what was set
    return p;
}

// Qt elides with "..." (charts) or "…" (widgets).
inline bool elided(const QString& s) { return s.contains(QStringLiteral("...")) || s.contains(QChar(0x2026)); }
inline QStringList elidedOf(const QStringList& texts) {
    QStringList out;
    for (const QString& t : texts)
        if (elided(t)) out << t;
    return out;
}

}  // namespace pages
