// Chrome Trace Event export, parsed back and checked field by field.
#include <QTemporaryDir>
#include <QTest>

#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "trace_fixture.h"
#include "traces/export_chrome.h"
#include "traces/merge.h"
#include "traces/reader.h"

using namespace ss::traces;
using fixture::RankFile;
using nlohmann::json;

class TestTraceExport : public QObject {
    Q_OBJECT
private:
    QTemporaryDir dir_;
    std::string merged_;
    RunId run_;

private slots:
    void initTestCase() {
        // Two pipeline stages: rank 0 sends activations to rank 1; both join a dp all-reduce
        // (a toy, but every field the exporter writes is exercised). Times chosen so nanoseconds
        // matter: 1'000'000'123 ns -> 1000000.123 us after the base.
        std::vector<std::string> files;
        for (int r = 0; r < 2; ++r) {
            RankFile f;
            f.rank = r;
            f.world = 2;
            f.end_ns = 3000000000;
            std::ostringstream ev;
            ev << "step step 1000000000 2000000000 step=0 lane=2\n";
            ev << "kernel matmul\"q 1000000123 1000500456 step=0 mb=1 layer=3 flops=2000000 lane=0\n";
            if (r == 0)
                ev << "comm send 1000600000 1000700001 lane=1 coll=send group=pp gid=0 gsize=2 peer=1 seq=0 bytes=512\n";
            else
                ev << "comm recv 1000650000 1000710000 lane=1 coll=recv group=pp gid=0 gsize=2 peer=0 seq=0 bytes=512\n";
            ev << "comm all_reduce " << (1001000000 + r * 300) << " 1001200000 lane=1 coll=all_reduce group=dp gid=0 gsize=2 seq=4 bytes=8192\n";
            f.events = ev.str();
            files.push_back(fixture::write_rank_file(dir_, "exp", f));
        }
        merged_ = dir_.filePath(QStringLiteral("exp.sqlite")).toStdString();
        run_ = merge_rank_files(files, merged_).run;
    }

    void exportsEveryEventFieldByField() {
        TraceReader rd(merged_);
        std::ostringstream out;
        ChromeExportResult res = export_chrome(rd, out);
        QCOMPARE(res.events, std::int64_t(8));
        QCOMPARE(res.flows, std::int64_t(2));  // one send->recv, one all-reduce rank 0 -> rank 1
        QCOMPARE(res.base_ns, std::int64_t(1000000000));
        const std::string text = out.str();
        json doc = json::parse(text);  // throws if not valid JSON
        QVERIFY(doc["traceEvents"].is_array());

        std::map<std::string, json> byName;  // "pid/name" -> X event
        std::map<std::int64_t, std::string> procNames;
        std::map<std::pair<std::int64_t, std::int64_t>, std::string> threadNames;
        std::vector<json> flowsS, flowsF;
        for (const auto& e : doc["traceEvents"]) {
            const std::string ph = e["ph"];
            if (ph == "X") byName[std::to_string(e["pid"].get<std::int64_t>()) + "/" + e["name"].get<std::string>()] = e;
            if (ph == "M" && e["name"] == "process_name") procNames[e["pid"]] = e["args"]["name"];
            if (ph == "M" && e["name"] == "thread_name") threadNames[{e["pid"], e["tid"]}] = e["args"]["name"];
            if (ph == "s") flowsS.push_back(e);
            if (ph == "f") flowsF.push_back(e);
        }
        const std::int64_t p0 = run_.value * 100000, p1 = p0 + 1;
        QCOMPARE(procNames[p0], std::string("rank 0 (node0)"));
        QCOMPARE(procNames[p1], std::string("rank 1 (node0)"));
        QCOMPARE(threadNames[std::make_pair(p0, std::int64_t(0))], std::string("compute"));
        QCOMPARE(threadNames[std::make_pair(p1, std::int64_t(1))], std::string("comm"));

        // Field by field on the kernel (its name has a quote: escaping must hold).
        const json& k = byName[std::to_string(p0) + "/matmul\"q"];
        QCOMPARE(k["cat"].get<std::string>(), std::string("kernel"));
        QCOMPARE(k["tid"].get<int>(), 0);
        // ts and dur are microseconds with three decimals: check the exact text in the file.
        QVERIFY(text.find("\"ts\":0.123,\"dur\":500.333") != std::string::npos);
        QCOMPARE(k["ts"].get<double>(), 0.123);
        QCOMPARE(k["dur"].get<double>(), 500.333);
        QCOMPARE(k["args"]["start_ns"].get<std::int64_t>(), std::int64_t(1000000123));
        QCOMPARE(k["args"]["dur_ns"].get<std::int64_t>(), std::int64_t(500333));
        QCOMPARE(k["args"]["step"].get<int>(), 0);
        QCOMPARE(k["args"]["micro_batch"].get<int>(), 1);
        QCOMPARE(k["args"]["layer"].get<int>(), 3);
        QCOMPARE(k["args"]["flops"].get<std::int64_t>(), std::int64_t(2000000));
        QVERIFY(!k["args"].contains("bytes"));

        const json& s = byName[std::to_string(p0) + "/send"];
        QCOMPARE(s["args"]["collective"].get<std::string>(), std::string("send"));
        QCOMPARE(s["args"]["group"].get<std::string>(), std::string("pp"));
        QCOMPARE(s["args"]["peer"].get<int>(), 1);
        QCOMPARE(s["args"]["bytes"].get<int>(), 512);
        QCOMPARE(s["dur"].get<double>(), 100.001);

        // Flows: the send -> recv arrow starts on rank 0's comm lane at the send's start and
        // ends on rank 1 at the recv's start; the all-reduce arrow goes from the first arrival.
        QCOMPARE(flowsS.size(), size_t(2));
        QCOMPARE(flowsF.size(), size_t(2));
        std::set<std::int64_t> ids;
        for (size_t i = 0; i < flowsS.size(); ++i) {
            QVERIFY(flowsS[i]["id"] == flowsF[i]["id"]);
            QCOMPARE(flowsF[i]["bp"].get<std::string>(), std::string("e"));
            ids.insert(flowsS[i]["id"].get<std::int64_t>());
            if (flowsS[i]["name"] == "send/recv") {
                QCOMPARE(flowsS[i]["pid"].get<std::int64_t>(), p0);
                QCOMPARE(flowsF[i]["pid"].get<std::int64_t>(), p1);
                QCOMPARE(flowsS[i]["ts"].get<double>(), 600.0);
                QCOMPARE(flowsF[i]["ts"].get<double>(), 650.0);
            } else {
                QCOMPARE(flowsS[i]["name"].get<std::string>(), std::string("all_reduce"));
                QCOMPARE(flowsS[i]["pid"].get<std::int64_t>(), p0);  // rank 0 arrived first
                QCOMPARE(flowsF[i]["ts"].get<double>(), 1000.3);
            }
        }
        QCOMPARE(ids.size(), size_t(2));
    }

    void exportsOneRunOnly() {
        TraceReader rd(merged_);
        std::ostringstream out;
        auto res = export_chrome(rd, out, ChromeExportOptions{run_});
        QCOMPARE(res.events, std::int64_t(8));
        QVERIFY_THROWS_EXCEPTION(TraceError, rd.run(RunId(run_.value + 100)));
    }
};

QTEST_GUILESS_MAIN(TestTraceExport)
#include "tst_traces_export.moc"
