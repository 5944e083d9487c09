#include "gui/app/documents.h"

#include <QCoreApplication>
#include <QFileInfo>

#include "core/analysis/analysis.h"
#include "gui/app/importcache.h"
#include "gui/common/format.h"

namespace ss::gui {

using namespace ss::traces;

const RunData* DocumentData::run(RunId id) const {
    for (const RunData& r : runs)
        if (r.info.id == id) return &r;
    return nullptr;
}

const StudyData* DocumentData::study(StudyId id) const {
    for (const StudyData& s : studies)
        if (s.info.id == id) return &s;
    return nullptr;
}

DocumentData loadDocument(const QString& path, const CancelToken& cancel) {
    DocumentData d;
    d.path = path;
    TraceReader reader(path.toStdString());  // throws TraceError naming the problem
    d.schemaVersion = reader.schema_version();
    cancel.check();
    for (RunInfo& info : reader.runs()) {
        RunData r;
        r.ranks = reader.ranks(info.id);
        r.lanes = reader.lanes(info.id);
        r.aggregates = reader.aggregates(info.id);
        r.stats = reader.stats(info.id);
        for (const StatRow& s : r.stats)
            if (core::is_loss_counter(s.key)) r.dropped += s.value;  // not the CUPTI record counts
        r.info = std::move(info);
        d.runs.push_back(std::move(r));
        cancel.check();
    }
    for (StudyInfo& s : reader.studies()) {
        StudyData sd;
        sd.runs = reader.study_runs(s.id);
        sd.info = std::move(s);
        d.studies.push_back(std::move(sd));
    }
    return d;
}

QString Document::displayName() const {
    // An import in the cache (app/importcache.h) goes by its source's name.
    const QFileInfo file(data_.path);
    if (file.absolutePath() == QFileInfo(importCacheDir()).absoluteFilePath() && !data_.runs.empty() &&
        data_.runs.front().info.imported()) {
        const std::string& sources = data_.runs.front().info.source_file;
        return QCoreApplication::translate("Document", "%1 (imported)").arg(QFileInfo(fromStd(sources.substr(0, sources.find('\n')))).fileName());
    }
    return file.fileName();
}

Document::Slot& Document::slot(const std::string& purpose) const {
    std::lock_guard lock(slotsMutex_);
    auto& s = slots_[purpose];
    if (!s) s = std::make_unique<Slot>();
    return *s;
}

QString runLabel(const RunInfo& r) {
    return QStringLiteral("#%1 %2  dp%3×tp%4×pp%5  (%6)")
        .arg(r.id.value)
        .arg(fromStd(r.model.empty() ? r.name : r.model))
        .arg(r.dp)
        .arg(r.tp)
        .arg(r.pp)
        .arg(fromStd(std::string(to_string(r.status))));
}

Selection selectionAfterLoad(const DocumentPtr& before, const DocumentPtr& after, const Selection& current) {
    const DocumentData& d = after->data();
    if (before) {
        const DocumentData& old = before->data();
        const StudyData* newStudy = nullptr;
        for (const StudyData& s : d.studies)
            if (!old.study(s.info.id) && (!newStudy || s.info.id.value > newStudy->info.id.value)) newStudy = &s;
        if (newStudy)
            return {after, newStudy->runs.empty() ? RunId{} : newStudy->runs.front().run, newStudy->info.id};
        const RunData* newRun = nullptr;
        for (const RunData& r : d.runs)
            if (!old.run(r.info.id) && (!newRun || r.info.id.value > newRun->info.id.value)) newRun = &r;
        if (newRun) return {after, newRun->info.id, {}};
        // Nothing added: the same run or study stays selected (a file opened again while another
        // is selected shows its first run: the user asked to see it).
        if (current.doc == before) {
            const bool runKept = !current.run.valid() || d.run(current.run);
            const bool studyKept = !current.study.valid() || d.study(current.study);
            if (runKept && studyKept && (current.run.valid() || current.study.valid()))
                return {after, current.run, current.study};
        }
    }
    Selection s{after, {}, {}};
    if (!d.runs.empty()) s.run = d.runs.front().info.id;
    else if (!d.studies.empty()) {
        s.study = d.studies.front().info.id;
        if (!d.studies.front().runs.empty()) s.run = d.studies.front().runs.front().run;
    }
    return s;
}

Selection latestSelection(const DocumentPtr& doc) {
    const DocumentData& d = doc->data();
    const RunData* run = nullptr;
    for (const RunData& r : d.runs)
        if (!run || r.info.id.value > run->info.id.value) run = &r;
    const StudyData* study = nullptr;
    for (const StudyData& s : d.studies)
        if (!study || s.info.id.value > study->info.id.value) study = &s;
    if (study && run)
        for (const StudyRun& sr : study->runs)
            if (sr.run == run->info.id) return {doc, study->runs.front().run, study->info.id};
    if (run) return {doc, run->info.id, {}};
    return selectionAfterLoad(nullptr, doc, {});
}

// ---- DocumentModel: top-level items have internalId 0; a child's internalId is its file row + 1.

void DocumentModel::addDocument(DocumentPtr doc) {
    const int row = static_cast<int>(docs_.size());
    beginInsertRows({}, row, row);
    docs_.push_back(std::move(doc));
    endInsertRows();
}

void DocumentModel::removeDocument(int row) {
    if (row < 0 || row >= static_cast<int>(docs_.size())) return;
    beginRemoveRows({}, row, row);
    docs_.erase(docs_.begin() + row);
    endRemoveRows();
}

void DocumentModel::replaceDocument(int row, DocumentPtr doc) {
    if (row < 0 || row >= static_cast<int>(docs_.size())) return;
    // The children change: remove and insert so views and the tester see consistent counts.
    removeDocument(row);
    beginInsertRows({}, row, row);
    docs_.insert(docs_.begin() + row, std::move(doc));
    endInsertRows();
}

int DocumentModel::indexOfPath(const QString& path) const {
    const QString canon = QFileInfo(path).absoluteFilePath();
    for (size_t i = 0; i < docs_.size(); ++i)
        if (QFileInfo(docs_[i]->path()).absoluteFilePath() == canon) return static_cast<int>(i);
    return -1;
}

DocumentPtr DocumentModel::documentAt(const QModelIndex& index) const {
    if (!index.isValid()) return {};
    const size_t file = index.internalId() == 0 ? static_cast<size_t>(index.row()) : index.internalId() - 1;
    return file < docs_.size() ? docs_[file] : DocumentPtr{};
}

Selection DocumentModel::selectionAt(const QModelIndex& index) const {
    Selection s;
    s.doc = documentAt(index);
    if (!s.doc) return s;
    const DocumentData& d = s.doc->data();
    if (index.internalId() == 0) {
        if (!d.runs.empty()) s.run = d.runs.front().info.id;
        if (!d.studies.empty()) s.study = d.studies.front().info.id;
        return s;
    }
    const size_t r = static_cast<size_t>(index.row());
    if (r < d.runs.size()) {
        s.run = d.runs[r].info.id;
    } else if (r - d.runs.size() < d.studies.size()) {
        s.study = d.studies[r - d.runs.size()].info.id;
        const auto& sr = d.studies[r - d.runs.size()].runs;
        if (!sr.empty()) s.run = sr.front().run;
    }
    return s;
}

QModelIndex DocumentModel::indexOf(const Selection& s) const {
    for (size_t f = 0; f < docs_.size(); ++f) {
        if (docs_[f] != s.doc) continue;
        const DocumentData& d = docs_[f]->data();
        if (s.study.valid())
            for (size_t i = 0; i < d.studies.size(); ++i)
                if (d.studies[i].info.id == s.study)
                    return createIndex(static_cast<int>(d.runs.size() + i), 0, quintptr(f + 1));
        for (size_t i = 0; i < d.runs.size(); ++i)
            if (d.runs[i].info.id == s.run) return createIndex(static_cast<int>(i), 0, quintptr(f + 1));
        return createIndex(static_cast<int>(f), 0, quintptr(0));
    }
    return {};
}

QModelIndex DocumentModel::index(int row, int column, const QModelIndex& parent) const {
    if (!hasIndex(row, column, parent)) return {};
    if (!parent.isValid()) return createIndex(row, column, quintptr(0));
    if (parent.internalId() != 0) return {};
    return createIndex(row, column, quintptr(parent.row() + 1));
}

QModelIndex DocumentModel::parent(const QModelIndex& child) const {
    if (!child.isValid() || child.internalId() == 0) return {};
    return createIndex(static_cast<int>(child.internalId() - 1), 0, quintptr(0));
}

int DocumentModel::rowCount(const QModelIndex& parent) const {
    if (!parent.isValid()) return static_cast<int>(docs_.size());
    if (parent.column() != 0 || parent.internalId() != 0) return 0;
    const DocumentData& d = docs_[static_cast<size_t>(parent.row())]->data();
    return static_cast<int>(d.runs.size() + d.studies.size());
}

int DocumentModel::columnCount(const QModelIndex&) const { return 1; }

QVariant DocumentModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid)) return {};
    const DocumentPtr doc = documentAt(index);
    if (!doc) return {};
    const DocumentData& d = doc->data();
    if (index.internalId() == 0) {
        switch (role) {
        case Qt::DisplayRole: return doc->displayName();
        case Qt::ToolTipRole:
            return tr("%1\nschema version %2, %3 run(s), %4 study(ies)")
                .arg(d.path).arg(d.schemaVersion).arg(d.runs.size()).arg(d.studies.size());
        case KindRole: return QStringLiteral("file");
        default: return {};
        }
    }
    const size_t r = static_cast<size_t>(index.row());
    if (r < d.runs.size()) {
        const RunInfo& info = d.runs[r].info;
        switch (role) {
        case Qt::DisplayRole: return runLabel(info);
        case Qt::ToolTipRole:
            return tr("%1 (%2)\n%3 ranks, %4 events%5")
                .arg(fromStd(info.name), fromStd(std::string(to_string(info.status))))
                .arg(info.world_size)
                .arg(info.event_count)
                .arg(info.oversubscribed ? tr("\noversubscribed: timings are contended") : QString());
        case KindRole: return QStringLiteral("run");
        case IdRole: return qlonglong(info.id.value);
        default: return {};
        }
    }
    const StudyData& s = d.studies[r - d.runs.size()];
    switch (role) {
    case Qt::DisplayRole:
        return tr("Study #%1 %2 (%3, %4 points)")
            .arg(s.info.id.value)
            .arg(fromStd(s.info.variable))
            .arg(fromStd(s.info.scaling))
            .arg(s.runs.size());
    case Qt::ToolTipRole: return fromStd(s.info.name);
    case KindRole: return QStringLiteral("study");
    case IdRole: return qlonglong(s.info.id.value);
    default: return {};
    }
}

}  // namespace ss::gui
