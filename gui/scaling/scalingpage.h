#pragma once

#include "gui/app/page.h"

namespace ss::gui {

class ScalingPage : public Page {
    Q_OBJECT
public:
    explicit ScalingPage(QWidget* parent = nullptr);
    QString pageId() const override { return QStringLiteral("scaling"); }
    QString pageTitle() const override { return tr("Scaling"); }
    void setSelection(const Selection&) override {}
};

}  // namespace ss::gui
