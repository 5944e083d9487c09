#include "gui/learn/lessonview.h"

#include "gui/common/format.h"

#include <QApplication>
#include <QBarCategoryAxis>
#include <QBarSet>
#include <QButtonGroup>
#include <QChart>
#include <QChartView>
#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QDoubleValidator>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLegend>
#include <QLineEdit>
#include <QLineSeries>
#include <QListWidget>
#include <QLocale>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QScatterSeries>
#include <QStackedBarSeries>
#include <QStackedWidget>
#include <QStandardPaths>
#include <QTimer>
#include <QVBoxLayout>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

#include "gui/app/theme.h"
#include "gui/common/charts.h"
#include "traces/reader.h"

namespace ss::gui {

namespace {

// A font relative to the view's: `scale` × its size, bold or not. Kept as properties so that a
// new application font (the zoom, presenter mode) scales it again (LessonView::changeEvent).
const char* const kFontScale = "ss_lesson_font_scale";
const char* const kFontBold = "ss_lesson_font_bold";
void applyRelativeFont(QWidget* w, const QFont& base) {
    QFont f = base;
    f.setPointSizeF(base.pointSizeF() * w->property(kFontScale).toDouble());
    f.setBold(w->property(kFontBold).toBool());
    w->setFont(f);
}
void setRelativeFont(QWidget* w, double scale, bool bold = false) {
    w->setProperty(kFontScale, scale);
    w->setProperty(kFontBold, bold);
    applyRelativeFont(w, QApplication::font());
}

QLabel* prose(const QString& text, double scale = 1.0) {
    auto* l = new QLabel(text);
    l->setWordWrap(true);
    l->setTextFormat(Qt::PlainText);
    l->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    l->setTextInteractionFlags(Qt::TextSelectableByMouse);
    if (scale != 1.0) setRelativeFont(l, scale);
    return l;
}

// Fills the placeholders, or says which one has no value.
QString filled(const std::string& text, const core::LessonResult& r) {
    try {
        return fromStd(core::fill_placeholders(text, r));
    } catch (const std::exception& e) {
        return QCoreApplication::translate("LessonView", "(cannot show the measured numbers: %1)")
            .arg(fromStd(e.what()));
    }
}

// A short label for a point: "dp=2" for "2" of parallel.dp, the value otherwise.
QString pointLabel(const core::StudyPlan& plan, const std::string& value) {
    if (value.empty()) return QCoreApplication::translate("LessonView", "the run");
    QString v = fromStd(value);
    if (plan.variable.find(',') == std::string::npos && v.indexOf(QLatin1Char('=')) < 0) {
        QString var = fromStd(plan.variable);
        var = var.mid(var.lastIndexOf(QLatin1Char('.')) + 1);
        v = var + QLatin1Char('=') + v;
    }
    v.replace(QStringLiteral("model.hidden="), QStringLiteral("hidden "));
    v.replace(QStringLiteral("parallel."), QString());
    v.replace(QStringLiteral("training."), QString());
    return v;
}

}  // namespace

LessonView::LessonView(core::Lesson lesson, QWidget* parent)
    : QWidget(parent), lesson_(std::move(lesson)) {
    setObjectName(QStringLiteral("lessonView"));
    setFocusPolicy(Qt::StrongFocus);
    try {
        plan_ = core::plan_lesson(lesson_, false);
    } catch (const std::exception&) {
        // load_lesson planned it already; a lesson built in code may not plan: Run says why.
    }
    auto* outer = new QVBoxLayout(this);
    title_ = new QLabel(fromStd(lesson_.title));
    title_->setObjectName(QStringLiteral("lessonTitle"));
    title_->setWordWrap(true);
    setRelativeFont(title_, 1.5, true);
    outer->addWidget(title_);

    auto* steps = new QHBoxLayout;
    for (int s = 0; s < kSteps; ++s) {
        auto* l = new QLabel(QStringLiteral("%1 %2").arg(s + 1).arg(stepTitle(s)));
        l->setAlignment(Qt::AlignCenter);
        l->setMargin(4);
        stepLabels_.push_back(l);
        steps->addWidget(l, 1);
    }
    outer->addLayout(steps);

    stack_ = new QStackedWidget;
    stack_->addWidget(buildQuestion());
    stack_->addWidget(buildPredict());
    stack_->addWidget(buildRun());
    stack_->addWidget(buildLook());
    stack_->addWidget(buildAnswer());
    outer->addWidget(stack_, 1);

    auto* nav = new QHBoxLayout;
    back_ = new QPushButton(tr("← Back"));
    back_->setObjectName(QStringLiteral("lessonBack"));
    forward_ = new QPushButton(tr("Next →"));
    forward_->setObjectName(QStringLiteral("lessonNext"));
    connect(back_, &QPushButton::clicked, this, [this] { previous(); });
    connect(forward_, &QPushButton::clicked, this, [this] { next(); });
    nav->addWidget(back_);
    nav->addStretch(1);
    nav->addWidget(forward_);
    outer->addLayout(nav);

    ticker_ = new QTimer(this);
    ticker_->setInterval(200);
    connect(ticker_, &QTimer::timeout, this, &LessonView::tick);
    updateNavigation();
}

LessonView::~LessonView() {
    token_.cancel();
    loadToken_.cancel();
}

QString LessonView::entryId(const core::Lesson& lesson) {
    return QStringLiteral("lesson-") + fromStd(lesson.id);
}

QString LessonView::stepTitle(int s) {
    switch (s) {
        case Question:
            return tr("Question");
        case Predict:
            return tr("Predict");
        case Run:
            return tr("Run");
        case Look:
            return tr("Look");
        default:
            return tr("Answer");
    }
}

QWidget* LessonView::buildQuestion() {
    auto* w = new QWidget;
    auto* l = new QVBoxLayout(w);
    auto* text = prose(fromStd(lesson_.question), 1.25);
    text->setObjectName(QStringLiteral("lessonQuestion"));
    l->addWidget(text);
    l->addStretch(1);
    return w;
}

QWidget* LessonView::buildPredict() {
    auto* w = new QWidget;
    auto* l = new QVBoxLayout(w);
    l->addWidget(prose(fromStd(lesson_.predict.prompt), 1.25));
    const core::LessonPredict& p = lesson_.predict;
    if (p.kind == core::LessonPredict::Kind::Choice) {
        choices_ = new QButtonGroup(w);
        for (std::size_t i = 0; i < p.choices.size(); ++i) {
            auto* b = new QRadioButton(fromStd(p.choices[i].text));
            setRelativeFont(b, 1.15);
            choices_->addButton(b, static_cast<int>(i));
            l->addWidget(b);
        }
    } else {
        auto* row = new QHBoxLayout;
        number_ = new QLineEdit;
        number_->setObjectName(QStringLiteral("lessonNumber"));
        number_->setValidator(new QDoubleValidator(number_));
        number_->setPlaceholderText(tr("your estimate"));
        number_->setMaximumWidth(
            number_->fontMetrics().horizontalAdvance(QStringLiteral("0000000000000")));
        row->addWidget(number_);
        if (!p.unit.empty()) row->addWidget(new QLabel(fromStd(p.unit)));
        row->addStretch(1);
        l->addLayout(row);
    }
    l->addWidget(
        prose(tr("Write your prediction down before the run: the answer compares it with the "
                 "measurement.")));
    l->addStretch(1);
    return w;
}

QWidget* LessonView::buildRun() {
    auto* w = new QWidget;
    auto* l = new QVBoxLayout(w);
    QString what = plan_.points.size() == 1
                       ? tr("The experiment: one run.")
                       : tr("The experiment: %1 runs, one after another:").arg(plan_.points.size());
    for (const auto& pt : plan_.points)
        what += QStringLiteral("\n  • %1 (%2)")
                    .arg(pointLabel(plan_, pt.value),
                         pt.p == 1 ? tr("1 rank") : tr("%1 ranks").arg(pt.p));
    l->addWidget(prose(what, 1.1));
    auto* buttons = new QHBoxLayout;
    runButton_ = new QPushButton(tr("Run the experiment"));
    runButton_->setObjectName(QStringLiteral("lessonRun"));
    cancelButton_ = new QPushButton(tr("Cancel"));
    cancelButton_->setEnabled(false);
    connect(runButton_, &QPushButton::clicked, this, &LessonView::start);
    connect(cancelButton_, &QPushButton::clicked, this, &LessonView::cancel);
    buttons->addWidget(runButton_);
    buttons->addWidget(cancelButton_);
    buttons->addStretch(1);
    elapsed_ = new QLabel;
    elapsed_->setObjectName(QStringLiteral("lessonElapsed"));
    buttons->addWidget(elapsed_);
    l->addLayout(buttons);
    progress_ = new QProgressBar;
    progress_->setRange(0, 1);
    progress_->setValue(0);
    l->addWidget(progress_);
    runStatus_ = prose(QString());
    l->addWidget(runStatus_);
    log_ = new QListWidget;
    log_->setFocusPolicy(Qt::NoFocus);
    log_->setVisible(false);  // until a run has ended
    l->addWidget(log_, 1);
    l->addStretch(0);
    return w;
}

QWidget* LessonView::buildLook() {
    auto* w = new QWidget;
    auto* l = new QVBoxLayout(w);
    look_ = prose(QString(), 1.1);
    look_->setObjectName(QStringLiteral("lessonLook"));
    l->addWidget(look_);
    chart_ = makeChartView(QStringLiteral("lesson-") + fromStd(lesson_.id));
    chart_->setMinimumHeight(200);
    l->addWidget(chart_, 1);
    return w;
}

QWidget* LessonView::buildAnswer() {
    auto* w = new QWidget;
    auto* l = new QVBoxLayout(w);
    verdict_ = prose(QString(), 1.15);
    verdict_->setObjectName(QStringLiteral("lessonVerdict"));
    setRelativeFont(verdict_, 1.15, true);
    l->addWidget(verdict_);
    answer_ = prose(QString(), 1.1);
    answer_->setObjectName(QStringLiteral("lessonAnswer"));
    l->addWidget(answer_);
    // The result's chart again, beside the answer that refers to it.
    answerChart_ =
        makeChartView(QStringLiteral("lesson-") + fromStd(lesson_.id) + QStringLiteral("-answer"));
    answerChart_->setMinimumHeight(160);
    l->addWidget(answerChart_, 1);
    return w;
}

bool LessonView::setStep(int s) {
    if (s < 0 || s >= kSteps) return false;
    if (s >= Look && !result_) return false;
    step_ = s;
    stack_->setCurrentIndex(s);
    if (s == Answer) showVerdict();
    updateNavigation();
    emit stepChanged(s);
    return true;
}

bool LessonView::next() {
    return setStep(step_ + 1);
}
bool LessonView::previous() {
    return setStep(step_ - 1);
}

void LessonView::updateNavigation() {
    back_->setEnabled(step_ > 0);
    forward_->setEnabled(step_ + 1 < kSteps && (step_ + 1 < Look || result_.has_value()));
    forward_->setToolTip(step_ == Run && !result_ ? tr("Run the experiment first") : QString());
    const QPalette pal = palette();
    for (int s = 0; s < kSteps; ++s) {
        QLabel* l = stepLabels_[s];
        setRelativeFont(l, 1.0, s == step_);
        l->setAutoFillBackground(s == step_);
        QPalette lp = pal;
        lp.setColor(QPalette::Window, pal.color(QPalette::Highlight));
        lp.setColor(QPalette::WindowText, s == step_ ? pal.color(QPalette::HighlightedText)
                                                     : pal.color(QPalette::WindowText));
        l->setPalette(lp);
        l->setEnabled(s < Look || result_.has_value());
    }
}

void LessonView::changeEvent(QEvent* e) {
    QWidget::changeEvent(e);
    if (e->type() == QEvent::FontChange) {
        for (QWidget* w : findChildren<QWidget*>())
            if (w->property(kFontScale).isValid()) applyRelativeFont(w, font());
    } else if (e->type() == QEvent::PaletteChange && stack_) {
        updateNavigation();
        showVerdict();
    }
}

void LessonView::keyPressEvent(QKeyEvent* e) {
    switch (e->key()) {
        case Qt::Key_Right:
        case Qt::Key_PageDown:
            next();
            e->accept();
            return;
        case Qt::Key_Left:
        case Qt::Key_PageUp:
            previous();
            e->accept();
            return;
        default:
            QWidget::keyPressEvent(e);
    }
}

void LessonView::setPrediction(int choice, double number) {
    if (choices_) {
        if (QAbstractButton* b = choices_->button(choice))
            b->setChecked(true);
        else if (choices_->checkedButton()) {
            choices_->setExclusive(false);
            choices_->checkedButton()->setChecked(false);
            choices_->setExclusive(true);
        }
    }
    if (number_) number_->setText(std::isfinite(number) ? QString::number(number) : QString());
}

int LessonView::predictedChoice() const {
    return choices_ ? choices_->checkedId() : -1;
}

double LessonView::predictedNumber() const {
    if (!number_ || number_->text().trimmed().isEmpty()) return std::nan("");
    bool ok = false;
    const double v = QLocale().toDouble(number_->text().trimmed(), &ok);
    return ok ? v : number_->text().trimmed().toDouble();
}

QString LessonView::outputDir() const {
    if (!outputDir_.isEmpty()) return outputDir_;
    return QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation))
        .filePath(QStringLiteral("lessons/") + fromStd(lesson_.id));
}

void LessonView::start() {
    if (running_) return;
    const QString dir = outputDir();
    if (!QDir().mkpath(dir)) {
        onError(tr("Cannot create the folder %1").arg(dir));
        return;
    }
    running_ = true;
    runButton_->setEnabled(false);
    cancelButton_->setEnabled(true);
    log_->clear();
    totalSteps_ = 0;
    for (const auto& pt : plan_.points) totalSteps_ += pt.spec.training.steps;
    totalSteps_ = std::max(1, totalSteps_);
    doneSteps_ = 0;
    progress_->setRange(0, totalSteps_);
    progress_->setValue(0);
    runStatus_->setText(tr("Starting…"));
    startedMs_ = QDateTime::currentMSecsSinceEpoch();
    ticker_->start();
    tick();

    core::LessonRunRequest rq;
    rq.output = QDir(dir).filePath(fromStd(lesson_.id) + QStringLiteral(".sqlite")).toStdString();
    token_ = CancelToken();
    rq.cancel = token_.flag();
    // The callbacks run on the job's thread: each posts to this view, dropped once it is gone.
    QPointer<LessonView> self(this);
    auto post = [self](auto fn) {
        QMetaObject::invokeMethod(
            qApp,
            [self, fn] {
                if (self) fn(self.data());
            },
            Qt::QueuedConnection);
    };
    rq.on_point_started = [post](std::size_t i, const std::string&) {
        post([i](LessonView* v) { v->onPointStarted(i); });
    };
    rq.on_progress = [post](std::size_t i, const core::Progress& p) {
        if (p.kind != core::Progress::Kind::Step) return;
        post([i, p](LessonView* v) { v->onProgress(i, p); });
    };
    rq.on_point_finished = [post](std::size_t i, const core::RunOutcome& o) {
        post([i, o](LessonView* v) { v->onPointFinished(i, o); });
    };
    const core::Lesson lesson = lesson_;
    // Cancel sets token_'s flag, which the launcher watches (it ends the running job); the
    // result, a cancelled one too, still comes back to say so.
    startJob<core::LessonResult>(
        this,
        [lesson, rq](const CancelToken&) mutable {
            rq.env = core::LaunchEnvironment::current();
            return core::run_lesson(lesson, rq);
        },
        [this](core::LessonResult r) { onDone(std::move(r)); },
        [this](const QString& m) { onError(m); });
}

void LessonView::cancel() {
    if (!running_) return;
    token_.flag()->store(true);
    runStatus_->setText(tr("Cancelling…"));
    cancelButton_->setEnabled(false);
}

void LessonView::tick() {
    const double s = (QDateTime::currentMSecsSinceEpoch() - startedMs_) / 1000.0;
    elapsed_->setText(tr("%1 s").arg(s, 0, 'f', 1));
}

void LessonView::onPointStarted(std::size_t point) {
    if (point >= plan_.points.size()) return;
    const auto& pt = plan_.points[point];
    runStatus_->setText(tr("Run %1 of %2: %3")
                            .arg(point + 1)
                            .arg(plan_.points.size())
                            .arg(pointLabel(plan_, pt.value)));
}

void LessonView::onProgress(std::size_t point, const core::Progress& p) {
    int before = 0;
    for (std::size_t i = 0; i < point && i < plan_.points.size(); ++i)
        before += plan_.points[i].spec.training.steps;
    doneSteps_ = std::max(doneSteps_, before + static_cast<int>(p.step) + 1);
    progress_->setValue(std::min(doneSteps_, totalSteps_));
}

void LessonView::onPointFinished(std::size_t point, const core::RunOutcome& o) {
    if (point >= plan_.points.size()) return;
    const auto& pt = plan_.points[point];
    log_->setVisible(true);
    log_->addItem(tr("%1: %2 in %3 s%4")
                      .arg(pointLabel(plan_, pt.value), fromStd(std::string(traces::to_string(o.status))))
                      .arg(o.job.wall_s, 0, 'f', 1)
                      .arg(o.failure_reason.empty() ? QString()
                                                    : QStringLiteral(" — ") + fromStd(o.failure_reason)));
}

void LessonView::onDone(core::LessonResult r) {
    running_ = false;
    ticker_->stop();
    runButton_->setEnabled(true);
    runButton_->setText(tr("Run again"));
    cancelButton_->setEnabled(false);
    elapsed_->setText(tr("%1 s").arg(r.elapsed_s, 0, 'f', 1));
    const QString trace = fromStd(r.output);
    if (r.complete()) {
        progress_->setValue(totalSteps_);
        runStatus_->setText(
            tr("Finished in %1 s. Next: look at the result.").arg(r.elapsed_s, 0, 'f', 1));
        setResult(r);
    } else {
        QString why =
            r.cancelled ? tr("Cancelled.") : tr("A run did not complete: no answer to reveal.");
        for (const auto& f : r.failures) why += QLatin1Char('\n') + fromStd(f);
        runStatus_->setText(why);
    }
    emit finished(trace);
}

void LessonView::onError(const QString& message) {
    running_ = false;
    ticker_->stop();
    runButton_->setEnabled(true);
    cancelButton_->setEnabled(false);
    runStatus_->setText(tr("The lesson could not run: %1").arg(message));
}

void LessonView::setResult(const core::LessonResult& r) {
    result_ = r;
    showResult();
    updateNavigation();
}

void LessonView::setSelection(const Selection& s) {
    if (!s.doc || running_) return;
    const std::string path = s.doc->path().toStdString();
    const core::Lesson lesson = lesson_;
    loadToken_.cancel();
    loadToken_ = startJob<std::optional<core::LessonResult>>(
        this,
        [path, lesson](const CancelToken&) -> std::optional<core::LessonResult> {
            traces::TraceReader reader(path);
            const traces::StudyId study = core::find_lesson_study(reader, lesson);
            if (!study.valid()) return std::nullopt;
            core::LessonResult r = core::lesson_result_from_study(reader, lesson, study);
            r.output = path;
            return r.complete() ? std::optional(r) : std::nullopt;
        },
        [this](std::optional<core::LessonResult> r) {
            if (r && !running_) setResult(*r);
        },
        {});
}

void LessonView::showVerdict() {
    if (!result_) return;
    const core::LessonVerdict v =
        core::judge_prediction(lesson_, *result_, predictedChoice(), predictedNumber());
    verdict_->setText(fromStd(v.text));
    QPalette p = verdict_->palette();
    // Okabe-Ito bluish green for a right prediction, vermillion for a wrong one (colour-blind safe,
    // and the words say it too).
    p.setColor(QPalette::WindowText,
               !v.judged || (predictedChoice() < 0 && !std::isfinite(predictedNumber()))
                   ? palette().color(QPalette::WindowText)
                   : (v.right ? okabeIto(2).darker(130) : okabeIto(5)));
    verdict_->setPalette(p);
}

QString LessonView::lookText() const {
    return result_ ? filled(lesson_.look, *result_) : fromStd(lesson_.look);
}
QString LessonView::answerText() const {
    return result_ ? filled(lesson_.answer, *result_) : QString();
}

QString LessonView::verdictText() const {
    if (!result_) return {};
    return fromStd(core::judge_prediction(lesson_, *result_, predictedChoice(), predictedNumber()).text);
}

void LessonView::showResult() {
    if (!result_) return;
    look_->setText(lookText());
    answer_->setText(answerText());
    showVerdict();
    for (QChartView* view : {chart_, answerChart_}) {
        QChart* chart = buildChart();
        setChart(view, chart);
        stylePresenterChart(chart);
    }
}

QChart* LessonView::buildChart() const {
    const core::LessonResult& r = *result_;
    auto* chart = new QChart;
    chart->legend()->setAlignment(Qt::AlignBottom);
    if (lesson_.chart == core::LessonChart::Scaling && r.scaling) {
        chart->setTitle(tr("Speedup over the process count"));
        auto* ideal = new QLineSeries;
        ideal->setName(tr("ideal (S = p)"));
        auto* measured = new QLineSeries;
        measured->setName(tr("measured"));
        double maxP = 1, maxS = 1;
        for (const auto& pt : r.scaling->points) {
            measured->append(pt.p, pt.speedup);
            maxP = std::max(maxP, static_cast<double>(pt.p));
            maxS = std::max(maxS, pt.speedup);
        }
        ideal->append(1, 1);
        ideal->append(maxP, maxP);
        QPen ip(QColor(0x80, 0x80, 0x80), seriesLineWidth() * 0.75, Qt::DashLine);
        ideal->setPen(ip);
        QPen mp(seriesColor(0), seriesLineWidth());
        measured->setPen(mp);
        chart->addSeries(ideal);
        chart->addSeries(measured);
        auto* x = makeValueAxis(1, maxP, tr("processes p"));
        auto* y = makeValueAxis(0, std::max(maxP, maxS) * 1.05, tr("speedup S"));
        chart->addAxis(x, Qt::AlignBottom);
        chart->addAxis(y, Qt::AlignLeft);
        for (auto* s : {ideal, measured}) {
            s->attachAxis(x);
            s->attachAxis(y);
        }
    } else {
        chart->setTitle(tr("Where a step's time goes, per run"));
        auto* series = new QStackedBarSeries;
        struct Part {
            QString name, key;
            double core::LessonPoint::*field;
        };
        const Part parts[] = {
            {tr("compute"), QStringLiteral("compute"), &core::LessonPoint::compute_ms},
            {tr("communication"), QStringLiteral("comm"), &core::LessonPoint::comm_ms},
            {tr("pipeline bubble"), QStringLiteral("bubble"), &core::LessonPoint::bubble_ms},
            {tr("idle (waiting)"), QStringLiteral("idle"), &core::LessonPoint::idle_ms},
            {tr("other host work"), QStringLiteral("other"), &core::LessonPoint::other_ms}};
        double top = 0;
        for (const auto& pt : r.points)
            top =
                std::max(top, pt.compute_ms + pt.comm_ms + pt.bubble_ms + pt.idle_ms + pt.other_ms);
        for (const Part& part : parts) {
            bool any = false;
            for (const auto& pt : r.points) any |= pt.*(part.field) > 0.005 * top;
            if (!any) continue;  // a part no run has stays out of the legend
            auto* set = new QBarSet(part.name);
            set->setColor(partColor(part.key));
            set->setBorderColor(partColor(part.key));
            for (const auto& pt : r.points)
                set->append(std::isfinite(pt.*(part.field)) ? pt.*(part.field) : 0.0);
            series->append(set);
        }
        chart->addSeries(series);
        QStringList cats;
        for (const auto& pt : r.points)
            cats << pointLabel(plan_, pt.value) +
                        (pt.oversubscribed ? QStringLiteral(" *") : QString());
        auto* x = new QBarCategoryAxis;
        x->append(cats);
        auto* y = makeValueAxis(0, std::max(top, 1e-3) * 1.08, tr("time per step (ms)"));
        chart->addAxis(x, Qt::AlignBottom);
        chart->addAxis(y, Qt::AlignLeft);
        series->attachAxis(x);
        series->attachAxis(y);
    }
    return chart;
}

QString lessonsDirectory() {
    QStringList c;
    const QString env = qEnvironmentVariable("SCALESCOPE_LESSONS_DIR");
    if (!env.isEmpty()) c << env;
#ifdef SCALESCOPE_SOURCE_LESSONS
    c << QStringLiteral(SCALESCOPE_SOURCE_LESSONS);
#endif
    c << QDir::cleanPath(QCoreApplication::applicationDirPath() +
                         QStringLiteral("/../share/scalescope/lessons"));
    for (const QString& d : c)
        if (QFileInfo(d).isDir()) return QDir(d).absolutePath();
    return {};
}

std::vector<core::Lesson> loadLessonFiles(const QString& dir, QStringList* errors) {
    std::vector<core::Lesson> out;
    const QDir d(dir);
    for (const QString& f : d.entryList({QStringLiteral("*.json")}, QDir::Files, QDir::Name)) {
        try {
            out.push_back(core::load_lesson(d.filePath(f).toStdString()));
        } catch (const std::exception& e) {
            if (errors) errors->push_back(fromStd(e.what()));
        }
    }
    return out;
}

}  // namespace ss::gui
