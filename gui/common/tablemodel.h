// Item-model plumbing written once (STYLE.md "Write item-model plumbing once"): a table over a
// vector of value structs, described by columns. Concrete tables only list their columns.
//
//   TableModel<KernelSummary> m({
//       {tr("Kernel"), [](auto& k) { return fromStd(k.name); }},
//       {tr("Total (ns)"), [](auto& k) { return qlonglong(k.total_ns); }, formatNsCell},
//   });
//   m.setRows(analysis.kernels);  // a model reset
//
// Roles: DisplayRole shows the formatted text; SortRole (= Qt::UserRole) holds the raw value that
// sorting and CSV export use, so "1.2 ms" sorts after "900 µs" and CSV keeps full precision.
// The header's SortRole is the CSV title, which names the raw value's unit ("Total (ns)") where
// the shown title names none because the cells carry their units.
#pragma once

#include <QAbstractTableModel>
#include <QString>
#include <QVariant>

#include <functional>
#include <utility>
#include <vector>

namespace ss::gui {

inline constexpr int SortRole = Qt::UserRole;

class TableModelBase : public QAbstractTableModel {
    Q_OBJECT
public:
    using QAbstractTableModel::QAbstractTableModel;
    QVariant headerData(int section, Qt::Orientation o, int role) const override;

protected:
    virtual QString columnTitle(int column) const = 0;
    virtual QString columnToolTip(int column) const = 0;
    virtual QString columnCsvTitle(int column) const { return columnTitle(column); }
};

template <typename Row>
class TableModel : public TableModelBase {
public:
    struct Column {
        QString title;                                // with its unit: "Total (ns)"
        std::function<QVariant(const Row&)> value;    // raw value: sorting and CSV
        std::function<QString(const QVariant&)> text = {};  // display text; default: the value
        QString toolTip = {};
        std::function<QString(const Row&)> rowText = {};  // display text that needs the whole row
        QString csvTitle = {};  // CSV header naming the raw value's unit when the title names none
    };

    explicit TableModel(std::vector<Column> columns, QObject* parent = nullptr)
        : TableModelBase(parent), columns_(std::move(columns)) {}

    void setRows(std::vector<Row> rows) {
        beginResetModel();
        rows_ = std::move(rows);
        endResetModel();
    }
    const std::vector<Row>& rows() const { return rows_; }
    const Row& row(int r) const { return rows_.at(static_cast<size_t>(r)); }

    int rowCount(const QModelIndex& parent = {}) const override {
        return parent.isValid() ? 0 : static_cast<int>(rows_.size());
    }
    int columnCount(const QModelIndex& parent = {}) const override {
        return parent.isValid() ? 0 : static_cast<int>(columns_.size());
    }
    QVariant data(const QModelIndex& index, int role) const override {
        if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
            return {};
        const Column& c = columns_[static_cast<size_t>(index.column())];
        const Row& r = rows_[static_cast<size_t>(index.row())];
        switch (role) {
        case Qt::DisplayRole: {
            if (c.rowText) return c.rowText(r);
            QVariant v = c.value(r);
            return c.text ? QVariant(c.text(v)) : v;
        }
        case SortRole:
            return c.value(r);
        case Qt::TextAlignmentRole: {
            const QVariant v = c.value(r);
            const bool numeric = v.typeId() == QMetaType::Double || v.typeId() == QMetaType::LongLong ||
                                 v.typeId() == QMetaType::Int;
            return QVariant::fromValue(Qt::Alignment((numeric ? Qt::AlignRight : Qt::AlignLeft) | Qt::AlignVCenter));
        }
        default:
            return {};
        }
    }

protected:
    QString columnTitle(int column) const override { return columns_[static_cast<size_t>(column)].title; }
    QString columnToolTip(int column) const override { return columns_[static_cast<size_t>(column)].toolTip; }
    QString columnCsvTitle(int column) const override {
        const Column& c = columns_[static_cast<size_t>(column)];
        return c.csvTitle.isEmpty() ? c.title : c.csvTitle;
    }

private:
    std::vector<Column> columns_;
    std::vector<Row> rows_;
};

// CSV (RFC 4180) of a model's rows as they are shown (sorted, filtered), raw values (SortRole).
// `rows` empty = every row.
QString modelToCsv(const QAbstractItemModel* model, const QList<int>& rows = {});
QString csvField(const QString& s);

}  // namespace ss::gui
