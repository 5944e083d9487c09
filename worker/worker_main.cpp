// scalescope-worker: see worker/worker_app.h.
#include "worker/worker_app.h"

int main(int argc, char** argv) { return ss::models::worker_main(argc, argv); }
