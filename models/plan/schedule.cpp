#include "models/plan/schedule.h"

#include <algorithm>
#include <stdexcept>

namespace ss::models {

PipeSchedule parse_pipe_schedule(const std::string& name) {
    if (name == "gpipe") return PipeSchedule::GPipe;
    if (name == "1f1b") return PipeSchedule::OneFOneB;
    throw std::invalid_argument("unknown pipeline schedule '" + name + "' (gpipe | 1f1b)");
}

const char* to_string(PipeSchedule s) {
    return s == PipeSchedule::GPipe ? "gpipe" : "1f1b";
}

std::vector<PipeAction> pipeline_schedule(PipeSchedule schedule, int stages, int stage,
                                          int micro_batches) {
    if (stages <= 0 || micro_batches <= 0 || stage < 0 || stage >= stages)
        throw std::invalid_argument("pipeline_schedule: stages=" + std::to_string(stages) +
                                    " stage=" + std::to_string(stage) +
                                    " micro_batches=" + std::to_string(micro_batches));
    std::vector<PipeAction> out;
    out.reserve(2 * static_cast<std::size_t>(micro_batches));
    const int m = micro_batches;
    if (schedule == PipeSchedule::GPipe) {
        for (int i = 0; i < m; ++i) out.push_back({PipeAction::Forward, i});
        for (int i = 0; i < m; ++i) out.push_back({PipeAction::Backward, i});
        return out;
    }
    const int warmup = std::min(stages - stage - 1, m);
    int f = 0, b = 0;
    for (; f < warmup; ++f) out.push_back({PipeAction::Forward, f});
    while (f < m) {
        out.push_back({PipeAction::Forward, f++});
        out.push_back({PipeAction::Backward, b++});
    }
    while (b < m) out.push_back({PipeAction::Backward, b++});
    return out;
}

PipePeers pipe_peers(PipeAction::Kind kind, int stages, int stage) {
    if (stages <= 0 || stage < 0 || stage >= stages)
        throw std::invalid_argument("pipe_peers: stage " + std::to_string(stage) + " of " +
                                    std::to_string(stages));
    const int before = stage > 0 ? stage - 1 : -1, after = stage + 1 < stages ? stage + 1 : -1;
    return kind == PipeAction::Forward ? PipePeers{before, after} : PipePeers{after, before};
}

int max_in_flight(const std::vector<PipeAction>& actions) {
    int live = 0, most = 0;
    for (const auto& a : actions) {
        live += a.kind == PipeAction::Forward ? 1 : -1;
        most = std::max(most, live);
    }
    return most;
}

std::string to_string(const std::vector<PipeAction>& actions) {
    std::string s;
    for (const auto& a : actions) {
        if (!s.empty()) s += ' ';
        s += a.kind == PipeAction::Forward ? 'F' : 'B';
        s += std::to_string(a.micro_batch);
    }
    return s;
}

UnitRange stage_units(int units, int stages, int stage) {
    if (stages <= 0 || stage < 0 || stage >= stages || units < stages)
        throw std::invalid_argument("cannot split " + std::to_string(units) + " units into " +
                                    std::to_string(stages) + " pipeline stages");
    return {static_cast<int>(static_cast<long long>(units) * stage / stages),
            static_cast<int>(static_cast<long long>(units) * (stage + 1) / stages)};
}

int mlp_pair_blocks(int linear_layers) {
    return (linear_layers + 1) / 2;
}

}  // namespace ss::models
