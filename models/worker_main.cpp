// scalescope-worker: see models/worker_app.h.
#include "models/worker_app.h"

int main(int argc, char** argv) { return ss::models::worker_main(argc, argv); }
