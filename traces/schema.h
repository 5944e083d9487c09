// Trace file schema: the DDL of the current version, version checks, migrations and the
// structural validation that runs before any query touches an untrusted file.
#pragma once

#include <cstdint>
#include <string>

#include "traces/sqlite_util.h"
#include "traces/types.h"

namespace ss::traces {

// PRAGMA application_id of every ScaleScope trace file: "SSTR".
inline constexpr std::int32_t kApplicationId = 0x53535452;
// The version this build writes. Files of older versions are migrated on open; newer are refused.
inline constexpr int kSchemaVersion = 4;
// The oldest version this build can migrate from.
inline constexpr int kMinReadableSchemaVersion = 1;

// Versions (SCHEMA.md "Versions and migration"):
//   1  runs, ranks, lanes, events, metrics, stats, aggregates, studies
//   2  + calibrations (measured hardware files: `scalescope-cli calibrate`)
//   3  + runs.source_tool, source_version, source_file (imported runs: `scalescope-cli import`)

// The DDL of schema kSchemaVersion (tables only; the events index is created by the writer when
// a bulk load ends, see create_indexes()).
const char* schema_ddl();
const char* index_ddl();

// Creates the schema in an empty database and stamps application_id, user_version and meta.
void create_schema(Db& db, const std::string& created_by);
void create_indexes(Db& db);

// Reads the file's schema version from meta (falling back to user_version). Throws TraceError
// "not a ScaleScope trace" for databases of other programs, and for newer versions
// "written by a newer ScaleScope (schema version N); this build reads versions up to M".
int read_schema_version(Db& db);

// Checks that every object in the file is one that ScaleScope creates for schema `version`, with
// the expected columns: no views, no triggers, no unknown tables or indexes, and no table of a later
// version. Throws TraceError naming the offending object. Call before running any other query on
// an untrusted file.
void validate_structure(Db& db, int version);

// Migrates a writable database from `from_version` to kSchemaVersion inside one transaction.
void migrate(Db& db, int from_version);

// One row of the `calibrations` table (schema version 2): a hardware file measured by
// `scalescope-cli calibrate` (docs/LAUNCH.md documents its JSON format).
using CalibrationId = Id<struct CalibrationTag>;
struct Calibration {
    CalibrationId id;
    std::int64_t created_unix_ns = 0;  // ns since the Unix epoch when the measurement ended
    std::string host;                  // host name of the rank that wrote it (rank 0)
    std::string hardware_json;         // the hardware file's JSON text, as written to HW.json
    friend bool operator==(const Calibration&, const Calibration&) = default;
};

}  // namespace ss::traces
