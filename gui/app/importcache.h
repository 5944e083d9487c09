// Traces of other tools opened in the application (File ▸ Open, drag and drop): a PyTorch profiler
// (Kineto) JSON or an Nsight Systems SQLite export is imported (traces/import/import.h) into a
// ScaleScope trace in a cache folder next to the user's other data
// (QStandardPaths::AppLocalDataLocation/imports), then opened like any trace file. A cache file is
// named after the source's path, size and modification time: opening an unchanged source again
// reuses it without importing; a changed source is imported again and its older cache file removed.
#pragma once

#include <QString>

#include <functional>

#include "gui/common/jobs.h"

namespace ss::gui {

// Whether `path` is a trace of another tool to import: gzip (a .json.gz), a JSON whose first MiB
// has "traceEvents" (Kineto), or a SQLite database with Nsight Systems' tables. ScaleScope traces,
// experiment specs and anything else are not.
bool isImportable(const QString& path);

QString importCacheDir();
// The cache file for the source as it is now (its path, size and modification time).
QString cachedImportPath(const QString& source);

// Imports `source` into its cache file unless that exists already; returns the cache file's path.
// `progress` gets 0..1000 (may be empty); a cancelled token ends the import with nothing cached
// (JobCancelled). Throws std::exception with a message naming the source on a bad file.
QString importToCache(const QString& source, const CancelToken& cancel,
                      const std::function<void(int permille)>& progress = {});

}  // namespace ss::gui
