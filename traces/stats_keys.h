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

inline constexpr Key kAll[] = {kEventsDroppedBufferFull, kEventsMalformed,      kCuptiRecordsDropped,
                               kCuptiRecordsUnknown,     kMergeRankFileMissing,  kMergeEventsOutsideRun,
                               kClockSyncFailed,         kMetricsMalformed,      kCommRecordsUnmatched};

}  // namespace ss::traces::stats
