#include "gui/app/importcache.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QStandardPaths>

#include "traces/import/import.h"

namespace ss::gui {

namespace {
QString hex8(const QByteArray& bytes) {
    return QString::fromLatin1(
        QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex().left(16));
}
}  // namespace

bool isImportable(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return false;
    const QByteArray head = f.read(16);
    if (head.startsWith("\x1f\x8b")) return true;  // gzip: a .json.gz trace
    if (head.startsWith(QByteArray("SQLite format 3\0", 16))) {
        try {
            return traces::import::detect_format(path.toStdString()) ==
                   traces::import::Format::Nsys;
        } catch (const std::exception&) {
            return false;  // a ScaleScope trace, or another database: the trace reader says why
        }
    }
    // A JSON trace: an object with "traceEvents" near its start (Kineto writes it after a short
    // header); an experiment spec has none.
    f.seek(0);
    const QByteArray start = f.read(1 << 20);
    qsizetype i = start.startsWith("\xEF\xBB\xBF") ? 3 : 0;
    while (i < start.size() && QByteArrayView(" \t\r\n").contains(start[i])) ++i;
    return i < start.size() && start[i] == '{' && start.contains("\"traceEvents\"");
}

QString importCacheDir() {
    return QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation) +
           QStringLiteral("/imports");
}

QString cachedImportPath(const QString& source) {
    const QFileInfo info(source);
    const QString abs = info.absoluteFilePath();
    const QString state =
        QStringLiteral("%1\n%2").arg(info.size()).arg(info.lastModified().toMSecsSinceEpoch());
    // <name>.<path key>.<state key>.sqlite: one source's imports share the path key.
    return importCacheDir() + QLatin1Char('/') + info.fileName() + QLatin1Char('.') +
           hex8(abs.toUtf8()) + QLatin1Char('.') +
           hex8((abs + QLatin1Char('\n') + state).toUtf8()) + QStringLiteral(".sqlite");
}

QString importToCache(const QString& source, const CancelToken& cancel,
                      const std::function<void(int permille)>& progress) {
    const QString cache = cachedImportPath(source);
    if (QFileInfo::exists(cache)) return cache;  // unchanged source: imported before
    const QDir dir(importCacheDir());
    if (!dir.mkpath(QStringLiteral(".")))
        throw std::runtime_error("cannot create the import cache folder '" +
                                 importCacheDir().toStdString() + "'");
    traces::import::ImportOptions opt;
    int last = -1;
    opt.progress = [&](std::int64_t done, std::int64_t total) {
        if (cancel.cancelled()) return false;
        const int permille = total > 0 ? static_cast<int>(1000 * done / total) : 0;
        if (progress && permille != last) progress(permille);
        last = permille;
        return true;
    };
    try {
        traces::import::import_traces({source.toStdString()}, cache.toStdString(), opt);
    } catch (const traces::import::ImportError&) {
        if (cancel.cancelled()) throw JobCancelled{};
        throw;
    }
    // The source's older imports (it changed since) are not needed any more.
    const QString prefix = QFileInfo(cache).completeBaseName().section(QLatin1Char('.'), 0, -2);
    for (const QString& old : dir.entryList({prefix + QStringLiteral(".*.sqlite")}, QDir::Files))
        if (dir.filePath(old) != cache) QFile::remove(dir.filePath(old));
    return cache;
}

}  // namespace ss::gui
