// The Learn page's "Ring all-reduce, step by step" explorer: p ranks (2..8) on a ring, each
// rank's buffer in p chunks, each chunk drawn with a stripe per rank whose contribution it holds;
// the reduce-scatter and all-gather steps animated (Play, Step, Back, Reset) with the current
// step's sends drawn as arrows; the bytes per link per step (n/p) and per rank (2(p−1)/p·n); and
// beside it the α-β time of ring, tree and a parameter server over message size for this p, with
// this machine's calibrated all-reduce points when a calibration is at hand (the open trace's
// newest `calibrations` row, else the user's newest What-if calibration, else a shipped example,
// said as such). Every number: core/teach/ring_allreduce.h.
#pragma once

#include <QWidget>

#include "core/teach/ring_allreduce.h"
#include "gui/common/jobs.h"
#include "gui/learn/learnpage.h"

class QChartView;
class QComboBox;
class QLabel;
class QPushButton;
class QSpinBox;
class QTimer;

namespace ss::gui {

// The ring drawn from a state: ranks on a circle, chunks as cells, contributions as stripes.
class RingView : public QWidget {
    Q_OBJECT
public:
    explicit RingView(QWidget* parent = nullptr);
    void setState(const core::teach::RingState& s);
    const core::teach::RingState& state() const { return state_; }
    QSize sizeHint() const override { return {460, 380}; }
    QSize minimumSizeHint() const override { return {240, 200}; }
    // The colour of rank r's contribution (Okabe–Ito, 8 colours).
    static QColor rankColor(int r);

protected:
    void paintEvent(QPaintEvent*) override;

private:
    core::teach::RingState state_ = core::teach::ring_initial(4);
};

class RingExplorer : public QWidget, public LearnEntry {
    Q_OBJECT
public:
    explicit RingExplorer(QWidget* parent = nullptr);
    void setSelection(const Selection& s) override;

    // The controls (tests and the lessons drive them).
    void setRanks(int p);
    void setBufferBytes(double n);
    void setServers(int s);
    bool stepForward();
    bool stepBack();
    void reset();
    void setPlaying(
        bool on);  // Play: a step every 1.2 s until the end (from the start when at the end)
    bool isPlaying() const;
    const core::teach::RingAllReduce& ring() const { return ring_; }
    double bufferBytes() const;
    int servers() const;
    const core::teach::CalibrationView& calibration() const { return cal_; }

private:
    void rebuildRing();
    void updateState();
    void updateChart();
    void loadCalibration();
    void fallbackCalibration(const QString& why);

    Selection sel_;
    CancelToken job_;
    bool calLoaded_ = false;
    core::teach::RingAllReduce ring_{4};
    core::teach::CalibrationView cal_;
    QString calNote_;
    QSpinBox* p_;
    QComboBox* n_;
    QSpinBox* servers_;
    QPushButton* play_;
    QPushButton* step_;
    QPushButton* back_;
    QPushButton* reset_;
    QTimer* timer_;
    RingView* view_;
    QLabel* stepLabel_;
    QLabel* perLink_;
    QLabel* perRank_;
    QLabel* sentences_;
    QChartView* chart_;
    QLabel* calLabel_;
    QLabel* timesLabel_;
};

}  // namespace ss::gui
