// A table with a filter field, sorting by the raw values, "Copy as CSV" (Ctrl+C: the selected rows,
// or all) and "Export CSV…" (in the CSV button's menu and the table's context menu). Every table of
// the application is one of these; its toolbar shrinks (the title elides) to fit a narrow page.
#pragma once

#include <QWidget>

class QAbstractItemModel;
class QLineEdit;
class QSortFilterProxyModel;
class QTableView;

namespace ss::gui {

class ElidedLabel;

class TablePanel : public QWidget {
    Q_OBJECT
public:
    TablePanel(const QString& title, QAbstractItemModel* model, QWidget* parent = nullptr);
    QTableView* view() const { return view_; }
    QSortFilterProxyModel* proxy() const { return proxy_; }
    QLineEdit* filterEdit() const { return filter_; }
    // CSV of what is shown: the selected rows if any are selected, else every visible row.
    QString csv(bool selectionOnly = true) const;
    void copyCsv();
    // The order shown until the user clicks a header.
    void setDefaultSort(int column, Qt::SortOrder order);
    // Writes every visible row; false (and the reason in `error`) when the file cannot be written.
    bool exportCsv(const QString& path, QString* error = nullptr) const;

private:
    QTableView* view_;
    QSortFilterProxyModel* proxy_;
    QLineEdit* filter_;
    ElidedLabel* title_;
    QString name_;
};

}  // namespace ss::gui
