#include "gui/experiment/experimentpage.h"

namespace ss::gui {
ExperimentPage::ExperimentPage(QWidget* parent) : Page(parent) {}
}  // namespace ss::gui
