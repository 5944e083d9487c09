#include "gui/app/page.h"
