// Open trace files. A document is loaded once, off the GUI thread, into plain value structs
// (runs, ranks, lanes, stored aggregates, studies); the pages query it further through their own
// TraceReader connections (one per purpose, so a slow analysis never blocks the timeline).
#pragma once

#include <QAbstractItemModel>
#include <QString>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gui/common/jobs.h"
#include "traces/reader.h"
#include "traces/types.h"

namespace ss::gui {

struct RunData {
    traces::RunInfo info;
    std::vector<traces::RankInfo> ranks;
    std::vector<traces::Lane> lanes;
    std::vector<traces::Aggregate> aggregates;
    std::vector<traces::StatRow> stats;
    std::int64_t dropped = 0;  // sum of every drop/malformed counter (stats table; core::is_loss_counter)
};

struct StudyData {
    traces::StudyInfo info;
    std::vector<traces::StudyRun> runs;
};

struct DocumentData {
    QString path;
    int schemaVersion = 0;
    std::vector<RunData> runs;
    std::vector<StudyData> studies;
    const RunData* run(traces::RunId id) const;
    const StudyData* study(traces::StudyId id) const;
};

// Reads the document; throws traces::TraceError with the reader's message for a bad file, and
// JobCancelled when `cancel` is set between steps.
DocumentData loadDocument(const QString& path, const CancelToken& cancel = {});

// One open file: its loaded data and lazily opened readers, one per purpose ("timeline",
// "analysis", ...). withReader() serialises the users of one purpose.
class Document {
public:
    explicit Document(DocumentData data) : data_(std::move(data)) {}
    const DocumentData& data() const { return data_; }
    const QString& path() const { return data_.path; }
    QString displayName() const;

    template <typename F>
    auto withReader(const std::string& purpose, F&& f) const {
        Slot& s = slot(purpose);
        std::lock_guard lock(s.mutex);
        if (!s.reader) s.reader = std::make_unique<traces::TraceReader>(data_.path.toStdString());
        return f(*s.reader);
    }

private:
    struct Slot {
        std::mutex mutex;
        std::unique_ptr<traces::TraceReader> reader;
    };
    Slot& slot(const std::string& purpose) const;
    DocumentData data_;
    mutable std::mutex slotsMutex_;
    mutable std::map<std::string, std::unique_ptr<Slot>> slots_;
};
using DocumentPtr = std::shared_ptr<const Document>;

// What the pages show: one run, or one study, of one document.
struct Selection {
    DocumentPtr doc;
    traces::RunId run;
    traces::StudyId study;
    const RunData* runData() const { return doc ? doc->data().run(run) : nullptr; }
    const StudyData* studyData() const { return doc ? doc->data().study(study) : nullptr; }
    bool operator==(const Selection& o) const { return doc == o.doc && run == o.run && study == o.study; }
};

// The document list: files at the top level; each file's runs, then its studies, below it.
class DocumentModel : public QAbstractItemModel {
    Q_OBJECT
public:
    enum Roles { KindRole = Qt::UserRole + 1, IdRole };  // kind: "file", "run", "study"
    using QAbstractItemModel::QAbstractItemModel;

    void addDocument(DocumentPtr doc);
    void removeDocument(int row);
    void replaceDocument(int row, DocumentPtr doc);
    int indexOfPath(const QString& path) const;
    const std::vector<DocumentPtr>& documents() const { return docs_; }
    DocumentPtr documentAt(const QModelIndex& index) const;
    Selection selectionAt(const QModelIndex& index) const;
    QModelIndex indexOf(const Selection& s) const;

    QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
    QModelIndex parent(const QModelIndex& child) const override;
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;

private:
    std::vector<DocumentPtr> docs_;
};

QString runLabel(const traces::RunInfo& r);  // "#1 gpt-tiny dp2×tp1×pp2 (completed)"

// What to select once `after` is loaded, `before` being the same file as it was (null: newly opened)
// and `current` the selection until now. A reload that added a study selects the newest added study;
// one that added runs (a finished launch appends its run to the file) selects the newest added run.
// Otherwise a selection in this file stays on its run or study when the file still holds it; a
// newly opened file (or one opened again while another was selected, or whose selected run is gone)
// selects its first run.
Selection selectionAfterLoad(const DocumentPtr& before, const DocumentPtr& after, const Selection& current);
// The last thing written to `doc`: its newest study when the newest run belongs to it (a study
// launch), else its newest run. What a launch that appended to a file not open yet produced.
Selection latestSelection(const DocumentPtr& doc);

}  // namespace ss::gui
