#pragma once

#include "gui/app/page.h"

namespace ss::gui {

class ComparePage : public Page {
    Q_OBJECT
public:
    explicit ComparePage(QWidget* parent = nullptr);
    QString pageId() const override { return QStringLiteral("compare"); }
    QString pageTitle() const override { return tr("Compare"); }
    void setSelection(const Selection&) override {}
};

}  // namespace ss::gui
