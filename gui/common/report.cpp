#include "gui/common/report.h"

#include <QAbstractTextDocumentLayout>
#include <QBuffer>
#include <QChart>
#include <QChartView>
#include <QCoreApplication>
#include <QFile>
#include <QFileInfo>
#include <QGraphicsLayout>
#include <QGraphicsScene>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QPainter>
#include <QPdfWriter>
#include <QScatterSeries>
#include <QTextDocument>
#include <QUrl>
#include <QValueAxis>

#include <cmath>
#include <cstdio>
#include <memory>

#include "gui/app/theme.h"
#include "gui/common/chartexport.h"
#include "gui/common/charts.h"
#include "gui/common/format.h"
#include "traces/reader.h"

namespace ss::gui {

using namespace ss::core;

namespace {

const QColor kFitColor(0x00, 0x72, 0xb2);   // Okabe-Ito blue: the fitted law
const QColor kOverColor(0xd5, 0x5e, 0x00);  // Okabe-Ito vermillion: oversubscribed points
// A4 at 96 px per inch: the page the document is laid out on (the PDF scales it to its resolution).
constexpr double kPageW = 794, kPageH = 1123;
// Each chart's width on the page (two side by side in the 714 px between the margins).
constexpr int kChartShownWidth = 330;

const LawFit* lawOfKind(const ScalingResult& r) {
    for (const LawFit& f : r.fits)
        if (f.ok && f.matches_scaling && f.law != Law::Usl) return &f;
    return nullptr;
}

QString esc(const std::string& s) {
    return fromStd(s).toHtmlEscaped();
}

}  // namespace

QChart* studyScalingChart(const ScalingResult& r, bool efficiency) {
    auto* c = new QChart;
    c->setTitle(efficiency ? QObject::tr("Efficiency E(p) = S(p)/p")
                           : QObject::tr("Speedup S(p) = T(1)/T(p)"));
    double pMax = 2, sMax = 1;
    std::vector<int> measured;
    for (const ScalingPoint& p : r.points) {
        pMax = std::max(pMax, double(p.p));
        sMax = std::max(sMax, p.speedup);
        measured.push_back(p.p);
    }
    const double xHi =
        pMax <= 4 ? pMax * 1.08 : pMax;  // room for the last marker where p = 2 keeps its tick
    const double yHi = efficiency ? 1.15 : std::max(sMax * 1.15, pMax * 1.05);
    c->addAxis(makePAxis(false, 1, xHi, measured), Qt::AlignBottom);
    c->addAxis(
        makeValueAxis(0, yHi, efficiency ? QObject::tr("efficiency") : QObject::tr("speedup (×)")),
        Qt::AlignLeft);
    auto add = [c](QAbstractSeries* s) {
        c->addSeries(s);
        s->attachAxis(c->axes(Qt::Horizontal).first());
        s->attachAxis(c->axes(Qt::Vertical).first());
    };
    if (efficiency)
        add(idealSeries(
            QObject::tr("ideal (E = 1)"), [](double) { return 1.0; }, 1, xHi, false));
    else
        add(idealSeries(
            QObject::tr("ideal (S = p)"), [](double p) { return p; }, 1, xHi, false));
    if (const LawFit* f = lawOfKind(r)) {
        const QString name =
            f->law == Law::Amdahl
                ? QObject::tr("Amdahl, f = %1").arg(formatNumber(f->params.front().value, 2))
                : QObject::tr("Gustafson, f = %1").arg(formatNumber(f->params.front().value, 2));
        if (efficiency)
            add(curveSeries(
                name, [f](double p) { return f->efficiency(p); }, 1, xHi, false, kFitColor));
        else
            add(curveSeries(
                name, [f](double p) { return f->speedup(p); }, 1, xHi, false, kFitColor));
    }
    auto* means = new QScatterSeries;
    means->setName(QObject::tr("measured"));
    means->setMarkerSize(11);
    markForeground(means);
    auto* over = new QScatterSeries;
    over->setName(QObject::tr("oversubscribed"));
    over->setMarkerShape(QScatterSeries::MarkerShapeRectangle);
    over->setMarkerSize(12);
    over->setColor(kOverColor);
    for (const ScalingPoint& p : r.points)
        (p.oversubscribed ? over : means)->append(p.p, efficiency ? p.efficiency : p.speedup);
    add(means);
    if (over->count())
        add(over);
    else
        delete over;
    c->legend()->hide();  // one legend under both charts (studyReportHtml): whole at this size
    return c;
}

QImage renderChartImage(QChart* chart, QSize size) {
    // Laid out at `size` (fonts at their normal size), painted at twice the pixels: sharp in the
    // PDF and on high-density screens.
    std::unique_ptr<QChartView> view(
        static_cast<QChartView*>(makeChartView(QStringLiteral("report"))));
    view->setPalette(themePalette(ThemeKind::Light));
    view->resize(size);
    setChart(view.get(), chart);
    chart->setGeometry(QRectF(QPointF(0, 0), QSizeF(size)));
    if (chart->layout()) chart->layout()->activate();
    QCoreApplication::sendPostedEvents(nullptr, QEvent::LayoutRequest);
    QImage img(size * 2, QImage::Format_ARGB32_Premultiplied);
    img.fill(Qt::white);
    QPainter p(&img);
    p.setRenderHint(QPainter::Antialiasing);
    p.setRenderHint(QPainter::TextAntialiasing);
    chart->scene()->render(&p, QRectF(QPointF(0, 0), QSizeF(size * 2)),
                           QRectF(QPointF(0, 0), QSizeF(size)));
    return img;
}

ReportImages reportImages(const StudySummary& s, QSize size) {
    return {renderChartImage(studyScalingChart(s.scaling, false), size),
            renderChartImage(studyScalingChart(s.scaling, true), size)};
}

QString pngDataUri(const QImage& image) {
    QByteArray png;
    QBuffer buf(&png);
    buf.open(QIODevice::WriteOnly);
    image.save(&buf, "PNG");
    return QStringLiteral("data:image/png;base64,") + QString::fromLatin1(png.toBase64());
}

QString studyReportHtml(const StudySummary& s, const QString& speedupSrc,
                        const QString& efficiencySrc) {
    const QString host = s.host.empty() ? QObject::tr("an unknown host") : esc(s.host);
    const QString study =
        s.study.name.empty() ? QObject::tr("study %1").arg(s.study.id.value) : esc(s.study.name);
    QString h;
    h += QStringLiteral("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%1</title>\n")
             .arg(QObject::tr("ScaleScope report: %1 on %2").arg(study, host));
    h += QStringLiteral(
        "<style>body{font-family:'DejaVu "
        "Sans',Arial,sans-serif;font-size:10pt;color:#1a1a1a;max-width:760px;margin:auto}"
        "h1{font-size:17pt;margin-bottom:2px}h2{font-size:12pt;margin-top:10px;margin-bottom:4px}"
        "p{margin-top:3px;margin-bottom:3px}.meta{color:#444}.conclusion{font-size:11pt;background:"
        "#eef4fb;padding:6px}"
        "table.data{border-collapse:collapse}table.data th,table.data td{padding:3px "
        "10px;border-bottom:1px solid #bbb}"
        "table.data "
        "th{text-align:left;background:#f0f0f0}.num{text-align:right}.note{color:#666;font-size:"
        "8pt}"
        ".over{color:#d55e00}</style></head><body>\n");
    h += QStringLiteral("<h1>%1</h1>\n").arg(QObject::tr("How %1 scaled on %2").arg(study, host));
    h += QStringLiteral(
             "<p class=\"meta\"><b>%1</b> %2<br><b>%3</b> %4%5 &nbsp;·&nbsp; <b>%6</b> %7 "
             "&nbsp;·&nbsp; <b>%8</b> %9</p>\n")
             .arg(QObject::tr("What was run:"), esc(s.what), QObject::tr("Host:"), host,
                  s.device.empty() ? QString() : QStringLiteral(" (%1)").arg(esc(s.device)),
                  QObject::tr("Date:"), s.date.empty() ? QObject::tr("not recorded") : esc(s.date),
                  QObject::tr("File:"), QFileInfo(fromStd(s.file)).fileName().toHtmlEscaped());
    h += QStringLiteral("<p class=\"conclusion\"><b>%1</b> %2</p>\n")
             .arg(QObject::tr("Conclusion."), esc(s.conclusion));
    h += QStringLiteral(
             "<table cellspacing=\"0\" cellpadding=\"0\"><tr><td><img src=\"%1\" width=\"%5\" "
             "alt=\"%2\"></td><td><img src=\"%3\" width=\"%5\" alt=\"%4\"></td></tr></table>\n")
             .arg(speedupSrc.toHtmlEscaped(), QObject::tr("speedup chart"),
                  efficiencySrc.toHtmlEscaped(), QObject::tr("efficiency chart"),
                  QString::number(kChartShownWidth));
    {
        const LawFit* f = lawOfKind(s.scaling);
        h += QStringLiteral("<p class=\"note\"><span style=\"color:#777\">- - -</span> %1 &nbsp; ")
                 .arg(QObject::tr("ideal"));
        if (f)
            h += QStringLiteral("<span style=\"color:#0072b2\"><b>—</b></span> %1 &nbsp; ")
                     .arg(QObject::tr("%1's law fitted (f = %2)")
                              .arg(f->law == Law::Amdahl ? QStringLiteral("Amdahl")
                                                         : QStringLiteral("Gustafson"),
                                   formatNumber(f->params.front().value, 2)));
        h += QStringLiteral("<b>●</b> %1").arg(QObject::tr("measured (mean of the repeats)"));
        if (s.oversubscribed_points)
            h += QStringLiteral(" &nbsp; <span style=\"color:#d55e00\">■</span> %1")
                     .arg(QObject::tr("oversubscribed"));
        h += QStringLiteral("</p>\n");
    }
    h += QStringLiteral("<h2>%1</h2>\n").arg(QObject::tr("Speedup and efficiency"));
    h += QStringLiteral(
             "<table class=\"data\" cellspacing=\"0\" "
             "cellpadding=\"3\"><tr><th>p</th><th>%1</th><th>%2</th><th>%3</th><th>%4</th><th>%5</"
             "th></tr>\n")
             .arg(QObject::tr("runs"), QObject::tr("step time"), QObject::tr("speedup"),
                  QObject::tr("efficiency"), QObject::tr("note"));
    for (const ScalingPoint& p : s.scaling.points)
        h += QStringLiteral(
                 "<tr><td class=\"num\">%1</td><td class=\"num\">%2</td><td class=\"num\">%3</td>"
                 "<td class=\"num\">%4×</td><td class=\"num\">%5</td><td "
                 "class=\"over\">%6</td></tr>\n")
                 .arg(p.p)
                 .arg(p.runs)
                 .arg(formatDuration(p.time_ns), QString::number(p.speedup, 'f', 2),
                      formatPercent(p.efficiency, 0),
                      p.oversubscribed ? QObject::tr("oversubscribed: more ranks than cores")
                                       : QString());
    h += QStringLiteral("</table>\n");
    h += QStringLiteral("<h2>%1</h2>\n<ul>\n").arg(QObject::tr("The fitted laws"));
    for (const std::string& line : s.law_sentences)
        h += QStringLiteral("<li>%1</li>\n").arg(esc(line));
    h += QStringLiteral("</ul>\n");
    h +=
        QStringLiteral("<p class=\"note\">%1</p>\n")
            .arg(QObject::tr(
                     "Made by ScaleScope from %1, study %2. Speedup S(p) = T(1)/T(p) from each "
                     "run's median "
                     "step time after warm-up (weak scaling: p·T(1)/T(p)); efficiency E = S/p; the "
                     "laws are "
                     "least-squares fits over the measured points (docs/ANALYSIS.md, \"Scaling\"). "
                     "Oversubscribed points ran more ranks than the machine has cores: their "
                     "timings are contended.")
                     .arg(QFileInfo(fromStd(s.file)).fileName().toHtmlEscaped())
                     .arg(s.study.id.value));
    h += QStringLiteral("</body></html>\n");
    return h;
}

void fillReportDocument(QTextDocument& doc, const StudySummary& s, const ReportImages& images) {
    doc.addResource(QTextDocument::ImageResource, QUrl(QStringLiteral("speedup.png")),
                    images.speedup);
    doc.addResource(QTextDocument::ImageResource, QUrl(QStringLiteral("efficiency.png")),
                    images.efficiency);
    doc.setDocumentMargin(40);
    doc.setPageSize(QSizeF(kPageW, kPageH));
    QFont f(QStringLiteral("DejaVu Sans"));
    f.setPointSizeF(9);
    doc.setDefaultFont(f);
    doc.setHtml(
        studyReportHtml(s, QStringLiteral("speedup.png"), QStringLiteral("efficiency.png")));
}

QImage renderReportPage(const StudySummary& s, int width) {
    QTextDocument doc;
    fillReportDocument(doc, s, reportImages(s));
    const double scale = width / kPageW;
    QImage img(QSize(width, int(std::lround(kPageH * scale))), QImage::Format_ARGB32_Premultiplied);
    img.fill(Qt::white);
    QPainter p(&img);
    p.setRenderHint(QPainter::Antialiasing);
    p.setRenderHint(QPainter::SmoothPixmapTransform);
    p.scale(scale, scale);
    QAbstractTextDocumentLayout::PaintContext ctx;
    ctx.clip = QRectF(0, 0, kPageW, kPageH);
    ctx.palette.setColor(QPalette::Text, Qt::black);
    doc.documentLayout()->draw(&p, ctx);
    return img;
}

bool writeStudyReport(const StudySummary& s, const QString& out, QString* error) {
    auto fail = [error](const QString& why) {
        if (error) *error = why;
        return false;
    };
    const QString suffix = QFileInfo(out).suffix().toLower();
    if (suffix != QStringLiteral("html") && suffix != QStringLiteral("htm") &&
        suffix != QStringLiteral("pdf"))
        return fail(QObject::tr("'%1': the report is written as .html or .pdf").arg(out));
    QFile file(out);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return fail(QObject::tr("cannot write '%1': %2").arg(out, file.errorString()));
    const ReportImages images = reportImages(s);
    if (suffix != QStringLiteral("pdf")) {
        const QByteArray html =
            studyReportHtml(s, pngDataUri(images.speedup), pngDataUri(images.efficiency)).toUtf8();
        if (file.write(html) != html.size() || !file.flush())
            return fail(QObject::tr("cannot write '%1': %2").arg(out, file.errorString()));
        return true;
    }
    file.close();
    QTextDocument doc;
    fillReportDocument(doc, s, images);
    QPdfWriter pdf(out);
    pdf.setPageSize(QPageSize(QPageSize::A4));
    pdf.setPageMargins(QMarginsF(0, 0, 0, 0));
    pdf.setResolution(300);
    pdf.setCreator(QStringLiteral("ScaleScope"));
    pdf.setTitle(QObject::tr("ScaleScope report: %1").arg(fromStd(s.host)));
    doc.print(&pdf);
    if (QFileInfo(out).size() <= 0)
        return fail(QObject::tr("'%1': Qt's PDF writer wrote nothing").arg(out));
    return true;
}

bool writeStudyReport(const QString& traceFile, std::int64_t studyId, const QString& out,
                      QString* error) {
    try {
        traces::TraceReader reader(traceFile.toStdString());
        const auto studies = reader.studies();
        if (studies.empty()) {
            if (error)
                *error =
                    QObject::tr("'%1' has no scaling study: record one with 'scalescope-cli study'")
                        .arg(traceFile);
            return false;
        }
        const traces::StudyId id = studyId < 0 ? studies.back().id : traces::StudyId(studyId);
        return writeStudyReport(summarize_study(reader, id), out, error);
    } catch (const std::exception& e) {
        if (error) *error = QString::fromUtf8(e.what());
        return false;
    }
}

int runReportCommand(const QStringList& arguments) {
    const QString usage =
        QStringLiteral("usage: scalescope --report STUDY.sqlite OUT.html|OUT.pdf [--study ID]\n");
    QStringList args = arguments.mid(1);
    args.removeAll(QStringLiteral("--report"));
    std::int64_t study = -1;
    const int si = args.indexOf(QStringLiteral("--study"));
    if (si >= 0) {
        bool ok = false;
        study = si + 1 < args.size() ? args[si + 1].toLongLong(&ok) : 0;
        if (!ok || study < 1) {
            std::fputs(
                qPrintable(QStringLiteral("scalescope --report: --study needs a study id\n") +
                           usage),
                stderr);
            return 2;
        }
        args.remove(si, 2);
    }
    if (args.size() != 2) {
        std::fputs(qPrintable(usage), stderr);
        return 2;
    }
    QString error;
    if (!writeStudyReport(args[0], study, args[1], &error)) {
        std::fputs(qPrintable(QStringLiteral("scalescope --report: %1\n").arg(error)), stderr);
        return 1;
    }
    std::fputs(qPrintable(QStringLiteral("wrote %1\n").arg(args[1])), stdout);
    return 0;
}

}  // namespace ss::gui
