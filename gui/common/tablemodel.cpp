#include "gui/common/tablemodel.h"

#include <cmath>

namespace ss::gui {

QVariant TableModelBase::headerData(int section, Qt::Orientation o, int role) const {
    if (o != Qt::Horizontal || section < 0 || section >= columnCount()) return {};
    if (role == Qt::DisplayRole) return columnTitle(section);
    if (role == SortRole) return columnCsvTitle(section);
    if (role == Qt::ToolTipRole) {
        const QString t = columnToolTip(section);
        return t.isEmpty() ? QVariant() : QVariant(t);
    }
    return {};
}

QString csvField(const QString& s) {
    if (s.contains(QLatin1Char(',')) || s.contains(QLatin1Char('"')) || s.contains(QLatin1Char('\n'))) {
        QString q = s;
        q.replace(QStringLiteral("\""), QStringLiteral("\"\""));
        return QLatin1Char('"') + q + QLatin1Char('"');
    }
    return s;
}

static QString cellText(const QVariant& v) {
    if (v.typeId() == QMetaType::Double) {
        const double d = v.toDouble();
        if (!std::isfinite(d)) return {};
        return QString::number(d, 'g', 12);
    }
    return v.toString();
}

QString modelToCsv(const QAbstractItemModel* model, const QList<int>& rows) {
    QString out;
    const int cols = model->columnCount();
    for (int c = 0; c < cols; ++c) {
        if (c) out += QLatin1Char(',');
        QVariant h = model->headerData(c, Qt::Horizontal, SortRole);
        if (!h.isValid()) h = model->headerData(c, Qt::Horizontal, Qt::DisplayRole);
        out += csvField(h.toString());
    }
    out += QLatin1Char('\n');
    QList<int> which = rows;
    if (which.isEmpty())
        for (int r = 0; r < model->rowCount(); ++r) which.push_back(r);
    for (int r : which) {
        for (int c = 0; c < cols; ++c) {
            if (c) out += QLatin1Char(',');
            QVariant v = model->data(model->index(r, c), SortRole);
            if (!v.isValid()) v = model->data(model->index(r, c), Qt::DisplayRole);
            out += csvField(cellText(v));
        }
        out += QLatin1Char('\n');
    }
    return out;
}

}  // namespace ss::gui
