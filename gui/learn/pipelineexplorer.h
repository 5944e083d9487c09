// The Learn page's pipeline explorer (issue 19): GPipe, 1F1B and interleaved 1F1B drawn as Gantt
// charts (stages as rows, time as x, forward and backward boxes labelled with their micro-batch,
// idle time shaded as bubble) for chosen p, m, v and backward/forward cost, with the bubble
// measured on the boxes beside the simulator's formula; below, the same chart drawn from the open
// file's pipeline run. Every number comes from core/teach/pipeline_gantt.h.
#pragma once

#include <QWidget>

#include <optional>

#include "core/teach/pipeline_gantt.h"
#include "gui/app/documents.h"
#include "gui/common/jobs.h"
#include "gui/learn/learnpage.h"

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QPushButton;
class QSpinBox;

namespace ss::gui {

// A Gantt chart painted from core::teach::Gantt boxes: one row per stage, a time axis with nice
// ticks, forward boxes blue and backward orange (Okabe-Ito, readable in both palettes and by
// colour-blind viewers; interleaved chunks in lighter shades), the micro-batch number on every box
// wide enough for it, idle time hatched grey.
class GanttView : public QWidget {
    Q_OBJECT
public:
    explicit GanttView(QWidget* parent = nullptr);
    void setGantt(const core::teach::Gantt& g, const QString& rowPrefix = QString());
    void clear();
    const core::teach::Gantt& gantt() const { return g_; }
    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;
    // The pixel rectangle of box `i` of gantt().boxes in the current geometry (tests, tooltips).
    QRectF boxRect(std::size_t i) const;

protected:
    void paintEvent(QPaintEvent*) override;
    bool event(QEvent* e) override;  // tooltips: the box under the cursor

private:
    QRectF plotRect() const;
    core::teach::Gantt g_;
    QString rowPrefix_;
};

class PipelineExplorer : public QWidget, public LearnEntry {
    Q_OBJECT
public:
    explicit PipelineExplorer(QWidget* parent = nullptr);
    // The open file: its pipeline run (the selected run when it has pp > 1, else the file's first
    // such run) is drawn below the schedule, read on the thread pool.
    void setSelection(const Selection& s) override;
    // Drawn schedule controls (tests and lessons).
    void setSchedule(core::teach::PipelineKind kind, int stages, int microBatches,
                     int virtualStages = 2, double backwardOverForward = 2.0);
    core::teach::PipelineParams params() const;
    const GanttView* scheduleView() const { return drawn_; }
    const GanttView* recordedView() const { return recorded_; }
    QString bubbleText() const;
    QString recordedText() const;
    // false while a recorded run is being read.
    bool isReady() const { return entryReady(); }

signals:
    void readyChanged(bool ready);

private:
    void redraw();
    void loadRecorded();
    void showRecorded(const core::teach::RecordedGantt& r);
    void useRecordedLayout();
    void setReady(bool r);

    QComboBox* kind_;
    QSpinBox* stages_;
    QSpinBox* micro_;
    QSpinBox* virtual_;
    QDoubleSpinBox* ratio_;
    QLabel* bubble_;
    GanttView* drawn_;
    QLabel* recordedTitle_;
    QLabel* recordedInfo_;
    GanttView* recorded_;
    QPushButton* useLayout_;
    Selection sel_;
    CancelToken job_;
    std::optional<core::teach::RecordedGantt> rec_;
};

}  // namespace ss::gui
