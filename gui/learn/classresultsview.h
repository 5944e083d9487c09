// Class results (issue 19, Learn page entry "class-results"): the teacher opens a folder of the
// participants' study files and sees every machine's speedup curve on one chart (labelled by
// host, each with its fitted serial fraction), a table of whose machine scaled how, and the files
// that could not be read with the reason. The numbers are core::class_results' (no fit here);
// the folder is read on the thread pool. "Save report…" writes the selected machine's one-page
// report (gui/common/report.h).
#pragma once

#include <QString>
#include <QWidget>

#include <memory>
#include <optional>

#include "core/teach/class_results.h"
#include "gui/common/jobs.h"
#include "gui/common/tablemodel.h"

class QChartView;
class QLabel;
class QLineEdit;
class QPushButton;

namespace ss::gui {

class TablePanel;

class ClassResultsView : public QWidget {
    Q_OBJECT
public:
    explicit ClassResultsView(QWidget* parent = nullptr);
    ~ClassResultsView() override;

    // Reads the folder's *.sqlite files on the thread pool; loaded() or failed() follows.
    void setFolder(const QString& folder);
    QString folder() const;
    // The last folder read (nullptr before the first, or after a folder that could not be listed).
    const core::ClassResults* results() const { return results_ ? &*results_ : nullptr; }

    // The selected machine's entry index in results()->entries (-1: none selected).
    int selectedEntry() const;
    void selectEntry(int entry);
    // Writes the report of entry `entry` to `out` (.html or .pdf).
    bool saveReport(int entry, const QString& out, QString* error = nullptr) const;

    QChartView* chartView() const { return chart_; }
    TablePanel* machinesPanel() const { return machinesPanel_; }
    TablePanel* badFilesPanel() const { return badPanel_; }
    QLabel* statusLabel() const { return status_; }

signals:
    void loaded();                        // results() holds the folder's results and they are shown
    void failed(const QString& message);  // the folder could not be listed

private:
    void chooseFolder();
    void saveReportInteractive();
    void showResults(core::ClassResults r);
    void redraw();

    QLineEdit* path_;
    QPushButton* open_;
    QPushButton* report_;
    QLabel* status_;
    QChartView* chart_;
    TablePanel* machinesPanel_;
    TablePanel* badPanel_;
    std::unique_ptr<TableModel<core::ClassEntry>> machines_;
    std::unique_ptr<TableModel<core::ClassBadFile>> bad_;
    std::optional<core::ClassResults> results_;
    CancelToken job_;
};

}  // namespace ss::gui
