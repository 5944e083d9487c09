// The one list of drop / error counters (Perfetto storage/stats.h style). Every place that drops or
// rejects a record increments one of these; they are stored in the `stats` table and shown.
#pragma once

#include <string_view>

namespace ss::traces::stats {

struct Key {
    std::string_view key;
    std::string_view description;
};

inline constexpr Key kEventsDroppedBufferFull{"events_dropped_buffer_full",
    "host spans dropped because a per-thread buffer was full between flushes"};
inline constexpr Key kRecordsDropped{"records_dropped", "profiler records dropped because the rank's buffer budget was full while its writer thread was behind; stored per kind as records_dropped.<kind>"};
inline constexpr Key kEventsMalformed{"events_malformed",
    "events rejected because end < start or a required field was missing"};
inline constexpr Key kCuptiRecordsDropped{"cupti_records_dropped",
    "activity records CUPTI reported as dropped (cuptiActivityGetNumDroppedRecords)"};
inline constexpr Key kCuptiRecordsUnknown{"cupti_records_unknown",
    "CUPTI activity records of a kind the converter does not handle"};
inline constexpr Key kMergeRankFileMissing{"merge_rank_files_missing",
    "ranks of the run whose trace file was missing or unreadable at merge"};
inline constexpr Key kMergeEventsOutsideRun{"merge_events_outside_run",
    "events whose corrected time fell outside the run's time span (kept, counted)"};
inline constexpr Key kClockSyncFailed{"clock_sync_failed",
    "ranks whose clock offset could not be measured (their events are uncorrected)"};
inline constexpr Key kMetricsMalformed{"metrics_malformed",
    "metric samples rejected (non-finite value)"};

inline constexpr Key kCommRecordsUnmatched{"comm_records_unmatched",
    "communication calls whose completion could not be paired with their start (not recorded)"};

inline constexpr Key kCuptiRecordsUntimed{"cupti_records_untimed",
    "CUPTI activity records without usable timestamps (zero, or end before start): not recorded"};
inline constexpr Key kCuptiNcclUnattached{"cupti_nccl_unattached",
    "NCCL kernels whose launch lay inside no recorded Comm call: recorded without collective or bytes"};

inline constexpr Key kAll[] = {kEventsDroppedBufferFull, kEventsMalformed,      kCuptiRecordsDropped,
                               kCuptiRecordsUnknown,     kMergeRankFileMissing,  kMergeEventsOutsideRun,
                               kClockSyncFailed,         kMetricsMalformed,      kCommRecordsUnmatched,
                               kCuptiRecordsUntimed,     kCuptiNcclUnattached};

// Record counts, not drops: how many CUPTI activity records of each kind a GPU rank converted and
// recorded. They share the `stats` table with the counters above; readers that sum or warn about
// drops skip these (is_count_key).
inline constexpr Key kCuptiRecordsKernel{"cupti_records_kernel",
    "CUPTI kernel records converted (compute kernels; NCCL kernels are counted apart)"};
inline constexpr Key kCuptiRecordsNccl{"cupti_records_nccl", "CUPTI kernel records of NCCL kernels (nccl*)"};
inline constexpr Key kCuptiNcclAttached{"cupti_nccl_attached",
    "NCCL kernels given the collective, bytes, group and sequence of the Comm call that launched them"};
inline constexpr Key kCuptiRecordsMemcpy{"cupti_records_memcpy", "CUPTI memcpy records converted"};
inline constexpr Key kCuptiRecordsMemset{"cupti_records_memset", "CUPTI memset records converted"};
inline constexpr Key kCuptiRecordsSync{"cupti_records_sync", "CUPTI synchronization records converted"};
inline constexpr Key kCuptiRecordsRuntime{"cupti_records_runtime", "CUPTI CUDA runtime API records converted"};
inline constexpr Key kCuptiRecordsDriver{"cupti_records_driver", "CUPTI CUDA driver API records converted"};

inline constexpr Key kCounts[] = {kCuptiRecordsKernel, kCuptiRecordsNccl,    kCuptiNcclAttached,
                                  kCuptiRecordsMemcpy, kCuptiRecordsMemset,  kCuptiRecordsSync,
                                  kCuptiRecordsRuntime, kCuptiRecordsDriver};

// True for a record count (kCounts); every other key, known or not, is a drop / error counter.
constexpr bool is_count_key(std::string_view key) {
    for (const Key& k : kCounts)
        if (k.key == key) return true;
    return false;
}

}  // namespace ss::traces::stats
