// The Learn page's "What each parallelism splits" explorer (issue 19): for the open run's model
// (else a chosen example) and chosen dp, tp, pp, micro-batches and ZeRO-1, what one rank of each
// stage holds (stacked bar and table: weights, gradients, optimizer state, activations, buffers
// against a device's memory), what it sends per step on each group, and a few plain sentences.
// Every number comes from core/teach/parallel_splits.h (the simulator's workload and memory model).
#pragma once

#include <QWidget>

#include <optional>

#include "core/spec/spec.h"
#include "core/teach/parallel_splits.h"
#include "gui/app/documents.h"
#include "gui/learn/learnpage.h"

class QCheckBox;
class QChartView;
class QComboBox;
class QLabel;
class QSpinBox;
class QTextBrowser;

namespace ss::gui {

template <typename Row>
class TableModel;
class TablePanel;

class SplitsExplorer : public QWidget, public LearnEntry {
    Q_OBJECT
public:
    explicit SplitsExplorer(QWidget* parent = nullptr);
    // The selected run's spec becomes the first model choice ("the open run: gpt-tiny …") with its
    // layout; without a run the examples stay.
    void setSelection(const Selection& s) override;
    // The layout shown (tests, lessons). `model`: an index into the model list.
    void setLayout(int dp, int tp, int pp, int microBatches, bool zero);
    void setModelIndex(int index);
    void setCapacityIndex(int index);
    const std::optional<core::teach::Splits>& splits() const { return splits_; }
    TablePanel* memoryTable() const { return memPanel_; }
    TablePanel* commTable() const { return commPanel_; }
    QString sentencesText() const;
    QString errorText() const;

private:
    void recompute();
    core::ExperimentSpec currentSpec() const;

    QComboBox* model_;
    QSpinBox* dp_;
    QSpinBox* tp_;
    QSpinBox* pp_;
    QSpinBox* micro_;
    QCheckBox* zero_;
    QComboBox* capacity_;
    QLabel* error_;
    QTextBrowser* sentences_;
    QLabel* legend_;
    QChartView* chart_;
    TableModel<core::teach::StageSplit>* memModel_;
    TableModel<core::teach::CommSplit>* commModel_;
    TablePanel* memPanel_;
    TablePanel* commPanel_;
    std::optional<core::ExperimentSpec> runSpec_;  // the selected run's spec
    std::optional<core::teach::Splits> splits_;
};

}  // namespace ss::gui
