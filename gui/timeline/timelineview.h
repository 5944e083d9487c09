// Phase two of timeline drawing: paints a DrawList (built off the GUI thread) at the current
// axis. A draw list built for an older axis is painted at the new one (its blocks are in ns), so
// pan and zoom repaint at once while the page builds the exact list for the new view.
// Mouse: drag pans, wheel zooms at the cursor (Shift+wheel pans), click selects an op,
// double-click zooms into a merged block. Keys: + / - (or W / S) zoom, ← → (or A / D) pan, Home fits.
// Rows that do not fit scroll vertically (scroll bar, Alt+wheel, Page Up / Page Down).
#pragma once

#include <QWidget>

#include <memory>
#include <optional>

#include "gui/timeline/drawlist.h"

class QColor;
class QScrollBar;

namespace ss::gui {

QColor categoryColor(Category c, bool dark);

class TimelineView : public QWidget {
    Q_OBJECT
    Q_PROPERTY(QString emptyText READ emptyText WRITE setEmptyText)
public:
    explicit TimelineView(QWidget* parent = nullptr);

    // keepView: keep the time axis (a lane filter changed), else fit the run.
    void setRows(std::vector<TimelineRow> rows, std::int64_t runStart, std::int64_t runEnd, bool keepView = false);
    const std::vector<TimelineRow>& rows() const { return rows_; }
    // Shown instead of the ruler and rows when there are no rows (every lane hidden, no events).
    void setEmptyText(const QString& text);
    const QString& emptyText() const { return emptyText_; }
    void setDrawList(std::shared_ptr<const DrawList> list);
    // The run's parameter server (its rows are labelled and tinted as servers; the tooltips of
    // push/pull ops name the server).
    void setParameterServer(const core::PsLayout& ps);
    const core::PsLayout& parameterServer() const { return ps_; }
    // The tooltip of the op under a point of the plot (plot coordinates), empty where none: name,
    // duration, bytes, and for a parameter-server op its peer and server.
    QString toolTipAt(double plotX, int y) const;
    std::shared_ptr<const DrawList> drawList() const { return list_; }

    const TimeAxis& axis() const { return axis_; }
    void setAxis(const TimeAxis& a);
    double plotWidth() const;
    double labelWidth() const;
    void zoomBy(double factor, double anchorPx);
    void panBy(double dxPx);
    void fitAll();
    // Selects the op under a point of the plot (plot coordinates: x from the label column's edge).
    bool selectAt(double plotX, int y);

    struct Selected {
        traces::Event event;
        std::string name;
        std::int32_t merged = 0;  // > 1: a merged block of this many ops
        double busy = -1;         // a density block: the fraction of its time the lane was busy
        std::int64_t start = 0, end = 0;
        std::int32_t row = -1;
    };
    const std::optional<Selected>& selected() const { return selected_; }
    // Modest: the page's scroll area asks for the preferred height of a page with a wrapping
    // legend; the view grows to fill whatever the window has.
    QSize sizeHint() const override { return {800, 360}; }

signals:
    void axisChanged();
    void selectionChanged();

protected:
    void paintEvent(QPaintEvent*) override;
    void resizeEvent(QResizeEvent*) override;
    void mousePressEvent(QMouseEvent*) override;
    void mouseMoveEvent(QMouseEvent*) override;
    void mouseReleaseEvent(QMouseEvent*) override;
    void mouseDoubleClickEvent(QMouseEvent*) override;
    void wheelEvent(QWheelEvent*) override;
    void keyPressEvent(QKeyEvent*) override;
    bool event(QEvent*) override;

private:
    int rulerHeight() const;
    void updateScrollBar();
    QScrollBar* vbar_;
    double rowHeight() const;
    int rowAt(int y) const;
    const Block* blockAt(double plotX, int row) const;

    std::vector<TimelineRow> rows_;
    std::int64_t runStart_ = 0, runEnd_ = 1;
    TimeAxis axis_;
    std::shared_ptr<const DrawList> list_;
    std::optional<Selected> selected_;
    QPoint pressPos_;
    TimeAxis pressAxis_;
    bool dragging_ = false;
    bool fitted_ = false;
    QString emptyText_;
    core::PsLayout ps_;
};

}  // namespace ss::gui
