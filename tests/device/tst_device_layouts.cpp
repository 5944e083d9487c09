// THE invariant (DESIGN.md, "Parallel layouts") on a GPU: with the same seed, data order and
// global batch, every layout gives the same loss per step as the single-rank run (relative
// difference <= 1e-4). The GPU version of tests/models/tst_models_layouts.cpp: the real
// scalescope-worker under mpirun with backend.device=cuda and backend.comm=mpi, so that every
// rank of a layout can share ONE device (NCCL refuses two ranks on one GPU; "mpi" stages device
// buffers through pinned host memory). Layouts: dp2 (small buckets, overlapped), tp2, pp2 (1F1B,
// 4 micro-batches), dp2 x pp2, for the tiny GPT and the MLP, each against the 1-rank CUDA run.
//
// Without a usable device it checks what a user would see (the worker with device "cuda" exits
// non-zero with a line starting "no CUDA device:") and exits 77: CTest reports it as skipped.
// Data: $SCALESCOPE_TEXT_DATA (default /usr/share/games/fortunes) and $SCALESCOPE_IMAGE_DATA
// (default /usr/share/datasets/fashion-mnist); scripts/device-check.sh points them at the data
// it carries. Plain C++ (check.h), no Qt.
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "check.h"
#include "core/spec/progress_protocol.h"
#include "kernels/cuda/cuda_backend.h"
#include "process.h"

namespace fs = std::filesystem;
namespace progress = ss::core::progress;
using ss::check::ProcessResult;

namespace {

constexpr int kSteps = 6;
constexpr double kRelTol = 1e-4;
constexpr double kRunTimeoutS = 180;

// Every run of this test: on the GPU, the layouts' ranks sharing it through comm "mpi".
const std::vector<std::string> kDeviceSets = {"backend.device=cuda", "backend.comm=mpi"};

const char* kGptSpec = R"({
  "name": "device-layouts-gpt-tiny",
  "model": { "kind": "gpt", "preset": "tiny" },
  "data": { "path": "" },
  "training": { "steps": 6, "global_batch": 8, "lr": 0.002, "seed": 11, "grad_clip": 1.0,
                "weight_decay": 0.01, "warmup_steps": 2 },
  "parallel": { "dp": 1, "tp": 1, "pp": 1, "micro_batches": 1 },
  "backend": { "device": "cuda", "blas_threads": 1 }
})";

const char* kMlpSpec = R"({
  "name": "device-layouts-mlp",
  "model": { "kind": "mlp", "preset": "default", "hidden": [128, 64] },
  "data": { "path": "" },
  "training": { "steps": 6, "global_batch": 32, "lr": 0.002, "seed": 11, "grad_clip": 1.0 },
  "parallel": { "dp": 1, "tp": 1, "pp": 1, "micro_batches": 1 },
  "backend": { "device": "cuda", "blas_threads": 1 }
})";

std::string env_or(const char* name, const char* fallback) {
    const char* v = std::getenv(name);
    return v && *v ? v : fallback;
}

std::string mpirun_path() {
    const std::string configured = SCALESCOPE_MPIEXEC;
    return configured.empty() ? "mpirun" : configured;
}

// `np` ranks of the worker on `spec` with `sets` (np == 0: the worker alone, a singleton).
ProcessResult worker(int np, const fs::path& spec, const std::vector<std::string>& sets) {
    std::vector<std::string> argv;
    if (np > 0)
        argv = {mpirun_path(), "--allow-run-as-root", "--oversubscribe", "-np", std::to_string(np)};
    argv.push_back(SCALESCOPE_WORKER);
    argv.push_back(spec.string());
    for (const std::string& s : sets) {
        argv.push_back("--set");
        argv.push_back(s);
    }
    return ss::check::run_process(argv, kRunTimeoutS);
}

std::vector<nlohmann::json> events(const std::string& out, const char* event) {
    std::vector<nlohmann::json> v;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
        const auto j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_object() && j.value(progress::kEvent, std::string()) == event) v.push_back(j);
    }
    return v;
}

std::vector<double> losses(const ProcessResult& r) {
    std::vector<double> v;
    for (const auto& e : events(r.out, progress::kStepEvent))
        v.push_back(e.at(progress::kLoss).get<double>());
    return v;
}

std::string tail(const std::string& s, std::size_t n = 2000) {
    return s.size() <= n ? s : "..." + s.substr(s.size() - n);
}

std::string describe(const ProcessResult& r) {
    return "exit " + std::to_string(r.exit_code) + (r.finished ? "" : " (killed: hung)") +
           "\nstderr: " + tail(r.err) + "\nstdout: " + tail(r.out);
}

struct Model {
    std::string name;
    fs::path spec;
    bool have_data = false;
    std::string data_reason;  // why the model is skipped
    std::vector<double> baseline;
};

struct Layout {
    std::string name, model;
    int np;
    std::vector<std::string> sets;
};

// A private scratch folder, removed at exit.
struct TempDir {
    fs::path path;
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "tst_device_layouts-XXXXXX").string();
        if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp(" + tmpl + ") failed");
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

void write_spec(const fs::path& path, const char* text, const std::string& data_path) {
    auto j = nlohmann::json::parse(text);
    j["data"]["path"] = data_path;
    std::ofstream(path) << j.dump(2) << "\n";
}

}  // namespace

int main() {
    ss::check::Suite suite("tst_device_layouts");
    TempDir dir;
    const std::string text = env_or("SCALESCOPE_TEXT_DATA", "/usr/share/games/fortunes");
    const std::string images = env_or("SCALESCOPE_IMAGE_DATA", "/usr/share/datasets/fashion-mnist");
    std::map<std::string, Model> models;
    Model& gpt = models["gpt"];
    gpt.name = "gpt";
    gpt.spec = dir.path / "gpt.json";
    gpt.have_data = fs::exists(text);
    gpt.data_reason = text + " not found";
    Model& mlp = models["mlp"];
    mlp.name = "mlp";
    mlp.spec = dir.path / "mlp.json";
    mlp.have_data = fs::exists(fs::path(images) / "t10k-labels-idx1-ubyte.gz");
    mlp.data_reason = images + " holds no Fashion-MNIST";
    write_spec(models["gpt"].spec, kGptSpec, text);
    write_spec(models["mlp"].spec, kMlpSpec, images);
    const auto sets = [&](const std::string& model, std::vector<std::string> extra) {
        std::vector<std::string> s = kDeviceSets;
        s.push_back("trace.dir=" + (dir.path / ("trace-" + model)).string());
        s.insert(s.end(), extra.begin(), extra.end());
        return s;
    };

    std::string why;
    if (!ss::kernels::cuda::device_available(&why)) {
        // What a user without a device sees: one clear line and a non-zero exit, never a crash.
        const Model& m = models["gpt"].have_data ? models["gpt"] : models["mlp"];
        suite.run("workerReportsNoDevice", [&] {
            const ProcessResult r = worker(1, m.spec, sets(m.name, {}));
            CHECK_MSG(r.finished, "the worker hung");
            CHECK_MSG(r.exit_code != 0 && r.exit_code < 128, describe(r));
            const std::string all = "\n" + r.err + "\n" + r.out;
            CHECK_MSG(all.find("\nno CUDA device: ") != std::string::npos,
                      "no line starts with \"no CUDA device: \"\n" + describe(r));
        });
        return suite.skip("no CUDA device: " + why);
    }
    if (!models["gpt"].have_data && !models["mlp"].have_data)
        return suite.skip("no data: " + models["gpt"].data_reason + "; " +
                          models["mlp"].data_reason);

    for (auto& [name, m] : models) {
        if (!m.have_data) {
            suite.info(name + " skipped: " + m.data_reason);
            continue;
        }
        suite.run(name + " 1 rank (baseline)", [&, &m = m] {
            const ProcessResult r = worker(1, m.spec, sets(m.name, {}));
            CHECK_MSG(r.finished && r.exit_code == 0, describe(r));
            const auto starts = events(r.out, progress::kStartEvent);
            CHECK_MSG(starts.size() == 1, describe(r));
            const std::string backend = starts.front().value(progress::kBackend, std::string());
            CHECK_MSG(backend.rfind("cuda", 0) == 0, "the run's backend is \"" + backend + "\"");
            m.baseline = losses(r);
            CHECK_EQ(m.baseline.size(), std::size_t(kSteps));
            // The loss must actually move, or equal curves would prove nothing.
            CHECK_MSG(m.baseline.back() < m.baseline.front() - 0.05,
                      "the loss did not fall: " + std::to_string(m.baseline.front()) + " -> " +
                          std::to_string(m.baseline.back()));
            char buf[160];
            std::snprintf(buf, sizeof buf, "%s 1 rank on %s: losses %.6f .. %.6f (%.1f s)",
                          name.c_str(), backend.c_str(), m.baseline.front(), m.baseline.back(),
                          r.wall_s);
            suite.info(buf);
        });
    }

    const std::string dp2 = "parallel.dp=2", tp2 = "parallel.tp=2", pp2 = "parallel.pp=2",
                      mb2 = "parallel.micro_batches=2", mb4 = "parallel.micro_batches=4",
                      f1b = "parallel.schedule=1f1b";
    // 0.1 MiB buckets: the tiny GPT's 135k parameters fill 6 buckets, so bucketing and the
    // overlapped non-blocking all-reduce are exercised.
    const std::vector<Layout> layouts = {
        {"gpt dp2", "gpt", 2, {dp2, "parallel.bucket_mb=0.1"}},
        {"gpt tp2", "gpt", 2, {tp2}},
        {"gpt pp2 1f1b", "gpt", 2, {pp2, mb4, f1b}},
        {"gpt dp2xpp2", "gpt", 4, {dp2, pp2, mb2}},
        {"mlp dp2", "mlp", 2, {dp2}},
        {"mlp tp2", "mlp", 2, {tp2}},
        {"mlp pp2 1f1b", "mlp", 2, {pp2, mb4, f1b}},
        {"mlp dp2xpp2", "mlp", 4, {dp2, pp2, mb2}},
    };
    for (const Layout& l : layouts) {
        const Model& m = models[l.model];
        if (m.baseline.empty()) continue;  // no data, or the baseline failed (reported)
        suite.run(l.name, [&] {
            const ProcessResult r = worker(l.np, m.spec, sets(m.name, l.sets));
            CHECK_MSG(r.finished, "the job hung\n" + describe(r));
            CHECK_MSG(r.exit_code == 0, describe(r));
            const std::vector<double> got = losses(r);
            CHECK_MSG(got.size() == m.baseline.size(), describe(r));
            double worst = 0;
            for (std::size_t s = 0; s < got.size(); ++s) {
                const double rel = std::abs(got[s] - m.baseline[s]) / std::abs(m.baseline[s]);
                worst = std::max(worst, rel);
                char buf[200];
                std::snprintf(buf, sizeof buf,
                              "step %zu: loss %.9g vs single rank %.9g (relative %.3g > %g)", s,
                              got[s], m.baseline[s], rel, kRelTol);
                CHECK_MSG(rel <= kRelTol, buf);
            }
            char buf[160];
            std::snprintf(buf, sizeof buf, "%s: max relative loss difference %.2e (%.1f s)",
                          l.name.c_str(), worst, r.wall_s);
            suite.info(buf);
        });
    }
    return suite.finish();
}
