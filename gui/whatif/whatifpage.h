#pragma once

#include "gui/app/page.h"

namespace ss::gui {

class WhatIfPage : public Page {
    Q_OBJECT
public:
    explicit WhatIfPage(QWidget* parent = nullptr);
    QString pageId() const override { return QStringLiteral("whatif"); }
    QString pageTitle() const override { return tr("What-if"); }
    void setSelection(const Selection&) override {}
};

}  // namespace ss::gui
