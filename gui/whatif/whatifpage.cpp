#include "gui/whatif/whatifpage.h"

namespace ss::gui {
WhatIfPage::WhatIfPage(QWidget* parent) : Page(parent) {}
}  // namespace ss::gui
