// The Timeline page: one row per rank and lane, zoom and pan, level of detail, colours by
// category, links between the ranks of a collective and from each send to its recv, step
// boundaries, and the selected op's details. Draw lists are built on the job pool; one build at a
// time, and the newest view wins.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gui/app/page.h"
#include "gui/timeline/timelineview.h"

class QLabel;
class QMenu;
class QStackedWidget;
class QTextBrowser;
class QTimer;

namespace ss::gui {

class TimelinePage : public Page {
    Q_OBJECT
public:
    explicit TimelinePage(QWidget* parent = nullptr);
    QString pageId() const override { return QStringLiteral("timeline"); }
    QString pageTitle() const override { return tr("Timeline"); }
    void setSelection(const Selection& s) override;
    TimelineView* view() const { return view_; }

private:
    void scheduleBuild();
    void startBuild();
    void showDetails();
    void applyLaneFilter(bool keepView);
    void rebuildLaneMenu();
    void showEmptyState();  // no run selected: say how to get one; run controls off

    TimelineView* view_;
    QTextBrowser* details_;
    QLabel* info_;
    QLabel* legend_;
    QLabel* empty_;
    QStackedWidget* stack_;
    std::vector<QWidget*> runControls_;  // disabled while there is no run
    QTimer* buildTimer_;
    QMenu* laneMenu_;
    std::set<std::string> hiddenLanes_;
    Selection sel_;
    CancelToken job_;
    // The selected run's level of detail, opened (or computed, for a run stored without one) by
    // the first build on the job pool and kept for the next ones.
    struct LodSlot;
    std::shared_ptr<LodSlot> lod_;
    bool building_ = false;
    bool pending_ = false;
};

}  // namespace ss::gui
