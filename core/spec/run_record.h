// The run record (traces::RunInfo) a spec gives: what the worker writes into every rank file and
// the launcher records for a run that left no rank file. One function, so both say the same.
// Header only, no Qt: the worker includes it without linking the launcher.
#pragma once

#include <string>

#include "core/spec/spec.h"
#include "traces/types.h"

namespace ss::core {

// The `model` column of a run: "<kind>-<preset>" ("mlp-default", "gpt-tiny"), the kind alone
// when there is no preset.
inline std::string model_label(const ModelSpec& m) {
    return m.preset.empty() ? m.kind : m.kind + "-" + m.preset;
}

// Name, the resolved spec, model, backend, world size and layout of a run of `s`. Hosts, times,
// status and oversubscription are the caller's (they are not in the spec).
inline traces::RunInfo run_record(const ExperimentSpec& s) {
    traces::RunInfo info;
    info.name = s.name;
    info.spec_json = s.to_json().dump();
    info.model = model_label(s.model);
    info.backend = s.backend.device;
    info.world_size = s.parallel.world();
    info.dp = s.parallel.dp;
    info.tp = s.parallel.tp;
    info.pp = s.parallel.pp;
    info.micro_batches = s.parallel.micro_batches;
    info.schedule = s.parallel.pp > 1 ? s.parallel.schedule : "";
    return info;
}

}  // namespace ss::core
