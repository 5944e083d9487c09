// A one-page report of a study that a workshop participant takes home (issue 19): title, what was
// run (spec summary, host, date), the speedup and efficiency charts, the speedup/efficiency table,
// each fitted law in one plain sentence and a one-sentence conclusion — every number from
// core/teach/class_results.h summarize_study (core::analyze_study underneath).
//
//   OUT.html  one self-contained file: the charts are PNG images embedded as base64 data: URIs
//   OUT.pdf   one A4 page through Qt's PDF printer (QPdfWriter + QTextDocument::print)
//
// The charts are rendered offscreen in the light palette whatever the application's theme.
#pragma once

#include <QImage>
#include <QSize>
#include <QString>
#include <QStringList>

#include <cstdint>

#include "core/teach/class_results.h"

class QChart;
class QTextDocument;

namespace ss::gui {

// The speedup (or efficiency) chart of one study: the ideal line, the fitted law of the study's
// kind (Amdahl strong, Gustafson weak), the measured means, oversubscribed points marked.
QChart* studyScalingChart(const core::ScalingResult& r, bool efficiency);
// A chart laid out offscreen at `size` in the light palette and rendered at twice the pixels; the
// chart is deleted.
QImage renderChartImage(QChart* chart, QSize size);

struct ReportImages {
    QImage speedup, efficiency;
};
ReportImages reportImages(const core::StudySummary& s, QSize size = QSize(400, 290));

// The report's HTML; `speedupSrc` / `efficiencySrc` are the <img> sources (data: URIs for the
// .html file, resource names for the PDF's document).
QString studyReportHtml(const core::StudySummary& s, const QString& speedupSrc,
                        const QString& efficiencySrc);
// A PNG as a data: URI ("data:image/png;base64,…").
QString pngDataUri(const QImage& image);

// The report as a document laid out on one A4 page (the PDF's content; also what report.png shows).
void fillReportDocument(QTextDocument& doc, const core::StudySummary& s,
                        const ReportImages& images);
// The page as an image `width` pixels wide (A4 proportions).
QImage renderReportPage(const core::StudySummary& s, int width = 1240);

// Writes OUT.html or OUT.pdf (by suffix, case-insensitive). False with the reason in `error`.
bool writeStudyReport(const core::StudySummary& s, const QString& out, QString* error);
// Reads the study (`studyId`, or the file's last study when < 0) of a trace file and writes its
// report.
bool writeStudyReport(const QString& traceFile, std::int64_t studyId, const QString& out,
                      QString* error);

// `scalescope --report STUDY.sqlite OUT.html|OUT.pdf [--study ID]` (gui/main.cpp): 0 written,
// 1 the file or the study failed (the message on stderr), 2 bad arguments.
int runReportCommand(const QStringList& arguments);

}  // namespace ss::gui
