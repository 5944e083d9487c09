// A table with a filter field, sorting by the raw values, "Copy as CSV" (Ctrl+C: the selected rows,
// or all) and "Export CSV…". Every table of the application is one of these.
#pragma once

#include <QWidget>

class QAbstractItemModel;
class QLineEdit;
class QSortFilterProxyModel;
class QTableView;
class QLabel;

namespace ss::gui {

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
    bool exportCsv(const QString& path) const;

private:
    QTableView* view_;
    QSortFilterProxyModel* proxy_;
    QLineEdit* filter_;
    QLabel* title_;
    QString name_;
};

}  // namespace ss::gui
