#include "gui/common/tablepanel.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QFile>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>

#include "gui/common/tablemodel.h"

namespace ss::gui {

TablePanel::TablePanel(const QString& title, QAbstractItemModel* model, QWidget* parent)
    : QWidget(parent), name_(title) {
    proxy_ = new QSortFilterProxyModel(this);
    proxy_->setSourceModel(model);
    proxy_->setSortRole(SortRole);
    proxy_->setFilterCaseSensitivity(Qt::CaseInsensitive);
    proxy_->setFilterKeyColumn(-1);

    view_ = new QTableView(this);
    view_->setModel(proxy_);
    view_->setSortingEnabled(true);
    view_->sortByColumn(-1, Qt::AscendingOrder);  // the model's own order until a header is clicked
    view_->setSelectionBehavior(QAbstractItemView::SelectRows);
    view_->setAlternatingRowColors(true);
    view_->verticalHeader()->hide();
    view_->horizontalHeader()->setStretchLastSection(true);
    view_->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    view_->setContextMenuPolicy(Qt::ActionsContextMenu);

    title_ = new QLabel(QStringLiteral("<b>%1</b>").arg(title.toHtmlEscaped()), this);
    filter_ = new QLineEdit(this);
    filter_->setPlaceholderText(tr("Filter…"));
    filter_->setClearButtonEnabled(true);
    filter_->setMaximumWidth(240);
    connect(filter_, &QLineEdit::textChanged, proxy_, &QSortFilterProxyModel::setFilterFixedString);

    auto* copy = new QAction(tr("Copy as CSV"), this);
    copy->setShortcut(QKeySequence::Copy);
    copy->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(copy, &QAction::triggered, this, &TablePanel::copyCsv);
    auto* exp = new QAction(tr("Export CSV…"), this);
    connect(exp, &QAction::triggered, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export %1").arg(name_), name_ + QStringLiteral(".csv"),
                                                          tr("CSV files (*.csv)"));
        if (!path.isEmpty()) exportCsv(path);
    });
    view_->addAction(copy);
    view_->addAction(exp);

    auto* copyButton = new QToolButton(this);
    copyButton->setDefaultAction(copy);
    auto* exportButton = new QToolButton(this);
    exportButton->setDefaultAction(exp);

    auto* top = new QHBoxLayout;
    top->addWidget(title_);
    top->addStretch(1);
    top->addWidget(filter_);
    top->addWidget(copyButton);
    top->addWidget(exportButton);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(top);
    layout->addWidget(view_, 1);
}

QString TablePanel::csv(bool selectionOnly) const {
    QList<int> rows;
    if (selectionOnly && view_->selectionModel()) {
        for (const QModelIndex& i : view_->selectionModel()->selectedRows()) rows.push_back(i.row());
        std::sort(rows.begin(), rows.end());
    }
    return modelToCsv(proxy_, rows);
}

void TablePanel::setDefaultSort(int column, Qt::SortOrder order) { view_->sortByColumn(column, order); }

void TablePanel::copyCsv() { QApplication::clipboard()->setText(csv(true)); }

bool TablePanel::exportCsv(const QString& path) const {
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text)) return false;
    return f.write(csv(false).toUtf8()) >= 0;
}

}  // namespace ss::gui
