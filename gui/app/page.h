// A page of the main window (Experiment, Timeline, Summary, Scaling, What-if, Compare). A page owns
// its models and views, starts its own jobs when the selection changes, and says when what it
// shows is complete (isReady), which the screenshot mode waits for.
#pragma once

#include <QWidget>

#include "gui/app/documents.h"

namespace ss::gui {

class Page : public QWidget {
    Q_OBJECT
public:
    using QWidget::QWidget;
    virtual QString pageId() const = 0;     // "timeline": the name --screenshot takes
    virtual QString pageTitle() const = 0;  // "Timeline"
    virtual void setSelection(const Selection& s) = 0;
    // Every open document (the Compare page offers all their runs).
    virtual void setDocuments(const std::vector<DocumentPtr>&) {}
    bool isReady() const { return ready_; }
    // The window shows this page: work deferred while it was hidden starts now.
    virtual void activated() {}

signals:
    void readyChanged(bool ready);
    void statusMessage(const QString& text);
    // Asks the window to open a file (a finished launch).
    void openRequested(const QString& path);

protected:
    void setReady(bool r) {
        if (r == ready_) return;
        ready_ = r;
        emit readyChanged(r);
    }

private:
    bool ready_ = true;
};

}  // namespace ss::gui
