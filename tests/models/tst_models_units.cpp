// Unit tests of the models library that need no mpirun: rank mapping, bucket planning, pipeline
// schedules, data order, the Comm front and its observer (over the single-process transport), and
// single-rank training of the real MLP and GPT stages.
#include <QtTest>

#include <time.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <set>
#include <vector>

#include "kernels/backend.h"
#include "models/plan/buckets.h"
#include "models/plan/hosts.h"
#include "models/comm.h"
#include "models/device_plan.h"
#include "models/plan/layout.h"
#include "models/ps.h"
#include "models/slow_backend.h"
#include "models/params.h"
#include "models/sampling.h"
#include "models/plan/schedule.h"
#include "models/stage.h"
#include "models/trainer.h"

using namespace ss::models;

namespace {

// Records every callback.
class RecordingObserver final : public CommObserver {
public:
    std::vector<CommRecord> begins, ends;
    void on_begin(const CommRecord& r) override { begins.push_back(r); }
    void on_end(const CommRecord& r) override { ends.push_back(r); }
};

// The same global batch for every step: training on it must drive the loss down.
class FixedTextSource final : public BatchSource {
public:
    FixedTextSource(int global_batch, int T) : T_(T) {
        for (int i = 0; i < global_batch * (T + 1); ++i)
            bytes_.push_back(static_cast<std::int32_t>("the quick brown fox jumps over the lazy dog. "[i % 45]));
    }
    void fill(std::int64_t, int first, int count, HostMicroBatch& out) const override {
        out.samples = count;
        out.tokens.resize(static_cast<std::size_t>(count) * T_);
        out.targets.resize(static_cast<std::size_t>(count) * T_);
        for (int j = 0; j < count; ++j)
            for (int t = 0; t < T_; ++t) {
                const std::size_t at = static_cast<std::size_t>(first + j) * (T_ + 1) + t;
                out.tokens[static_cast<std::size_t>(j) * T_ + t] = bytes_[at];
                out.targets[static_cast<std::size_t>(j) * T_ + t] = bytes_[at + 1];
            }
    }

private:
    int T_;
    std::vector<std::int32_t> bytes_;
};

// Separable synthetic 4-class problem: class k has a bump at feature k.
class FixedImageSource final : public BatchSource {
public:
    explicit FixedImageSource(int dim) : dim_(dim) {}
    void fill(std::int64_t, int first, int count, HostMicroBatch& out) const override {
        out.samples = count;
        out.features.assign(static_cast<std::size_t>(count) * dim_, 0.0f);
        out.targets.resize(static_cast<std::size_t>(count));
        for (int j = 0; j < count; ++j) {
            const int label = (first + j) % 4;
            out.targets[static_cast<std::size_t>(j)] = label;
            for (int k = 0; k < dim_; ++k)
                out.features[static_cast<std::size_t>(j) * dim_ + k] =
                    (k == label ? 2.0f : 0.0f) + 0.1f * static_cast<float>(((first + j) * 7 + k * 3) % 5 - 2);
        }
    }

private:
    int dim_;
};

StageEnv single_rank_env(ss::kernels::Backend& be, Comm& comm, int micro_batch, float loss_scale) {
    StageEnv env;
    env.backend = &be;
    env.comm = &comm;
    env.micro_batch = micro_batch;
    env.num_slots = 1;
    env.loss_scale = loss_scale;
    env.seed = 42;
    return env;
}

}  // namespace

class TestModelsUnits : public QObject {
    Q_OBJECT
private slots:
    // ---- device_plan: which device and transport every rank takes ----
    void devicePlanCpuIsAlwaysMpi() {
        const std::vector<RankDeviceFacts> f{{0, 2, 8}, {1, 2, 8}};
        const DeviceDecision d = decide_device("cpu", "auto", true, f, 1);
        QVERIFY(!d.cuda);
        QVERIFY(!d.nccl);
        QCOMPARE(d.problem, DeviceProblem::None);
    }
    void devicePlanCudaMapsLocalRanksToGpus() {
        // two nodes of 4 ranks and 4 GPUs: local rank = GPU, NCCL under auto
        std::vector<RankDeviceFacts> f;
        for (int node = 0; node < 2; ++node)
            for (int l = 0; l < 4; ++l) f.push_back({l, 4, 4});
        for (int me = 0; me < 8; ++me) {
            const DeviceDecision d = decide_device("cuda", "auto", true, f, me);
            QVERIFY(d.cuda);
            QCOMPARE(d.ordinal, me % 4);
            QVERIFY(d.nccl);
            QVERIFY(!d.shared);
            QCOMPARE(d.gpu_ranks, 8);
        }
        // without NCCL in the build, auto falls back to staged MPI and says why
        const DeviceDecision m = decide_device("cuda", "auto", false, f, 5);
        QVERIFY(m.cuda && !m.nccl);
        QCOMPARE(QString::fromStdString(m.comm_reason), QStringLiteral("this build has no NCCL"));
    }
    void devicePlanSharedGpu() {
        // 4 ranks on one node with 1 GPU: they share it under mpi / auto; nccl is refused
        const std::vector<RankDeviceFacts> f{{0, 4, 1}, {1, 4, 1}, {2, 4, 1}, {3, 4, 1}};
        for (const char* comm : {"mpi", "auto"}) {
            const DeviceDecision d = decide_device("cuda", comm, true, f, 3);
            QCOMPARE(d.problem, DeviceProblem::None);
            QVERIFY(d.cuda);
            QCOMPARE(d.ordinal, 0);
            QVERIFY(d.shared);
            QVERIFY(!d.nccl);
        }
        QVERIFY(decide_device("cuda", "auto", true, f, 0).comm_reason.find("share a GPU") != std::string::npos);
        const DeviceDecision n = decide_device("cuda", "nccl", true, f, 2);
        QCOMPARE(n.problem, DeviceProblem::NcclShared);
        QCOMPARE(n.problem_rank, 0);
        QVERIFY(!n.cuda);
        const std::string msg = device_problem_message(n, f, "", "node7");
        QVERIFY2(msg.rfind("backend.comm=\"nccl\": 4 ranks on node7 share 1 GPU;", 0) == 0, msg.c_str());
        // 3 GPUs for 4 ranks: GPU 0 serves local ranks 0 and 3
        const std::vector<RankDeviceFacts> g{{0, 4, 3}, {1, 4, 3}, {2, 4, 3}, {3, 4, 3}};
        QCOMPARE(decide_device("cuda", "mpi", true, g, 3).ordinal, 0);
        QCOMPARE(decide_device("cuda", "mpi", true, g, 2).ordinal, 2);
    }
    void devicePlanMissingDevice() {
        // rank 2 (second node) sees no GPU
        const std::vector<RankDeviceFacts> f{{0, 2, 2}, {1, 2, 2}, {0, 2, 0}, {1, 2, 0}};
        const DeviceDecision d = decide_device("cuda", "auto", true, f, 0);
        QCOMPARE(d.problem, DeviceProblem::NoDevice);
        QCOMPARE(d.problem_rank, 2);
        QVERIFY(!d.cuda);
        const std::string msg = device_problem_message(d, f, "no CUDA-capable device is detected", "n2");
        QVERIFY2(msg.rfind("no CUDA device: no CUDA-capable device is detected (rank 2 on n2", 0) == 0, msg.c_str());
        // auto: the GPU-less ranks stay on the CPU and the job talks MPI
        const DeviceDecision a0 = decide_device("auto", "auto", true, f, 1);
        QVERIFY(a0.cuda);
        QCOMPARE(a0.ordinal, 1);
        QVERIFY(!a0.nccl);
        QCOMPARE(a0.gpu_ranks, 2);
        const DeviceDecision a3 = decide_device("auto", "auto", true, f, 3);
        QVERIFY(!a3.cuda);
        QCOMPARE(a3.ordinal, -1);
        QCOMPARE(decide_device("auto", "nccl", true, f, 0).problem, DeviceProblem::NcclCpuRanks);
        QCOMPARE(decide_device("auto", "nccl", true, f, 0).problem_rank, 2);
        // no GPU anywhere: auto is a CPU job; nccl cannot be
        const std::vector<RankDeviceFacts> none{{0, 1, 0}};
        QVERIFY(!decide_device("auto", "auto", true, none, 0).cuda);
        QCOMPARE(decide_device("auto", "auto", true, none, 0).problem, DeviceProblem::None);
        QCOMPARE(decide_device("cuda", "nccl", false, {{0, 1, 1}}, 0).problem, DeviceProblem::NcclNotBuilt);
    }

    // Parameter-server shards: contiguous, covering [0, N), sizes within one element.
    void psShardsPartitionTheVector() {
        for (std::size_t n : {std::size_t(1), std::size_t(7), std::size_t(134912)})
            for (int servers : {1, 2, 3, 4}) {
                std::size_t next = 0, lo = n, hi = 0;
                for (int j = 0; j < servers; ++j) {
                    const ss::models::PsShard sh = ss::models::ps_shard(n, servers, j);
                    QCOMPARE(sh.first, next);
                    next += sh.count;
                    lo = std::min(lo, sh.count);
                    hi = std::max(hi, sh.count);
                }
                QCOMPARE(next, n);
                QVERIFY(hi - lo <= 1);
            }
    }

    // The step version a pull waits for: BSP every step-t push, SSP s steps less, async none;
    // after the last step every push (so all workers evaluate the same final parameters).
    void psPullBound() {
        using ss::models::ps_pull_bound;
        ss::models::PsConfig c;
        c.workers = 2;
        c.steps = 10;
        c.staleness = 0;
        QCOMPARE(ps_pull_bound(c, 1), std::int64_t(1));
        QCOMPARE(ps_pull_bound(c, 5), std::int64_t(5));
        c.staleness = 2;
        QCOMPARE(ps_pull_bound(c, 1), std::int64_t(0));
        QCOMPARE(ps_pull_bound(c, 5), std::int64_t(3));
        c.staleness = ss::models::kPsAsync;
        QCOMPARE(ps_pull_bound(c, 9), std::int64_t(0));
        QCOMPARE(ps_pull_bound(c, 10), std::int64_t(10));
    }

    // The straggler backend computes exactly what the plain one does (its extra work never touches
    // the operands) and takes about factor x the thread CPU time for the same kernel.
    void slowBackendSameResultsMoreWork() {
        auto plain = ss::kernels::make_cpu_backend();
        auto slow = ss::models::make_slow_backend(ss::kernels::make_cpu_backend(), 3.0);
        const int n = 96;
        std::vector<float> a(n * n), b(n * n), c1(n * n, 1.0f), c2(n * n, 1.0f);
        for (int i = 0; i < n * n; ++i) {
            a[static_cast<std::size_t>(i)] = std::sin(0.1f * i);
            b[static_cast<std::size_t>(i)] = std::cos(0.07f * i);
        }
        const auto cpu_ns = [] {
            timespec ts{};
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
            return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
        };
        double t_plain = 0, t_slow = 0;
        for (int rep = 0; rep < 20; ++rep) {
            double t0 = cpu_ns();
            plain->sgemm(ss::kernels::Trans::No, ss::kernels::Trans::No, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.5f,
                         c1.data(), n);
            t_plain += cpu_ns() - t0;
            t0 = cpu_ns();
            slow->sgemm(ss::kernels::Trans::No, ss::kernels::Trans::No, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.5f,
                        c2.data(), n);
            t_slow += cpu_ns() - t0;
        }
        QVERIFY(c1 == c2);  // bit for bit, beta = 0.5 accumulated 20 times on both
        QVERIFY2(t_slow >= 2.4 * t_plain, qPrintable(QStringLiteral("slow %1 ns vs plain %2 ns").arg(t_slow).arg(t_plain)));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, ss::models::make_slow_backend(ss::kernels::make_cpu_backend(), 0.5));
    }

    void hostLevelsOfAJob() {
        // The two levels `calibrate` measures across hosts (models/plan/hosts.h).
        HostLevels one = host_levels({"a", "a", "a"});
        QCOMPARE(one.hosts, 1);
        QCOMPARE(one.ranks_per_host, 3);
        QVERIFY(one.error.empty());
        HostLevels two = host_levels({"a", "a", "b", "b"});
        QCOMPARE(two.hosts, 2);
        QCOMPARE(two.ranks_per_host, 2);
        QCOMPARE(two.names, (std::vector<std::string>{"a", "b"}));
        QVERIFY2(two.error.empty(), two.error.c_str());
        // With k = 2 per host the tp group of (dp 2, tp 2) lies in a host, the dp group of
        // (dp 2, tp 2, pp 1) holds one rank of each host: what the levels rely on.
        const Layout L{2, 2, 1};
        QCOMPARE(group_member(0, Axis::Tp, 1, L), 1);
        QCOMPARE(group_member(0, Axis::Dp, 1, L), 2);
        // Round-robin placement (--map-by node): refused, naming the rank and its host's ranks.
        HostLevels rr = host_levels({"a", "b", "a", "b"});
        QVERIFY(rr.error.find("rank 1 runs on b, which holds ranks 1, 3") != std::string::npos);
        QVERIFY(rr.error.find("--map-by slot") != std::string::npos);
        HostLevels uneven = host_levels({"a", "a", "a", "b"});
        QVERIFY2(uneven.error.find("rank 2 runs on a, which holds ranks 0, 1, 2") != std::string::npos, uneven.error.c_str());
        HostLevels three = host_levels({"a", "a", "b"});
        QVERIFY2(three.error.find("3 ranks do not divide evenly over 2 hosts: a holds ranks 0, 1") == 0, three.error.c_str());
        HostLevels single = host_levels({"a", "b"});
        QVERIFY2(single.error.find("one rank per host on 2 hosts") == 0, single.error.c_str());
    }

    void rankMappingIsTpFastestThenDpThenPp() {
        const Layout l{2, 2, 2};  // dp, tp, pp
        // r = (pp*dp + dp_index)*tp + tp_index
        QCOMPARE(coord_of(0, l), (Coord{0, 0, 0}));
        QCOMPARE(coord_of(1, l), (Coord{0, 1, 0}));  // tp neighbour
        QCOMPARE(coord_of(2, l), (Coord{1, 0, 0}));  // next replica
        QCOMPARE(coord_of(5, l), (Coord{0, 1, 1}));  // second stage
        QCOMPARE(coord_of(7, l), (Coord{1, 1, 1}));
        for (int r = 0; r < l.world(); ++r) QCOMPARE(rank_of(coord_of(r, l), l), r);
        QVERIFY_THROWS_EXCEPTION(std::out_of_range, coord_of(8, l));
        QVERIFY_THROWS_EXCEPTION(std::out_of_range, rank_of(Coord{0, 2, 0}, l));
    }

    void splitKeysFormTheRightGroups() {
        const Layout l{3, 2, 2};  // 12 ranks
        std::map<int, std::vector<int>> tp, dp, pp;
        for (int r = 0; r < l.world(); ++r) {
            tp[tp_split(r, l).color].push_back(r);
            dp[dp_split(r, l).color].push_back(r);
            pp[pp_split(r, l).color].push_back(r);
            QCOMPARE(tp_split(r, l).key, coord_of(r, l).tp);
            QCOMPARE(dp_split(r, l).key, coord_of(r, l).dp);
            QCOMPARE(pp_split(r, l).key, coord_of(r, l).pp);
        }
        QCOMPARE(tp.size(), std::size_t(6));
        QCOMPARE(dp.size(), std::size_t(4));
        QCOMPARE(pp.size(), std::size_t(6));
        QCOMPARE(tp.begin()->second, (std::vector<int>{0, 1}));     // adjacent ranks
        QCOMPARE(dp.begin()->second, (std::vector<int>{0, 2, 4}));  // stride tp
        QCOMPARE(pp.begin()->second, (std::vector<int>{0, 6}));     // stride tp*dp
    }

    void bucketsAreCutFromTheEnd() {
        const auto b = plan_buckets(10, 4, 1);
        QCOMPARE(b.size(), std::size_t(3));
        QCOMPARE(b[0].begin, std::size_t(6));
        QCOMPARE(b[0].end, std::size_t(10));
        QCOMPARE(b[1].begin, std::size_t(2));
        QCOMPARE(b[2].begin, std::size_t(0));
        QCOMPARE(b[2].end, std::size_t(2));
        QCOMPARE(plan_buckets(10, 0, 1).size(), std::size_t(1));  // one bucket
        QVERIFY(plan_buckets(0, 4, 2).empty());
        QCOMPARE(bucket_elems_for_mb(1.0), std::size_t(262144));
    }

    void zeroChunksPartitionEachBucket() {
        const auto b = plan_buckets(23, 10, 3);  // buckets [13,23) [3,13) [0,3)
        QCOMPARE(b.size(), std::size_t(3));
        QCOMPARE(b[0].counts, (std::vector<int>{3, 3, 4}));
        QCOMPARE(b[0].displs, (std::vector<int>{0, 3, 6}));
        QCOMPARE(b[2].counts, (std::vector<int>{1, 1, 1}));
        std::size_t covered = 0;
        for (const auto& bk : b) {
            int sum = 0;
            for (std::size_t r = 0; r < bk.counts.size(); ++r) {
                QCOMPARE(bk.displs[r], sum);
                sum += bk.counts[r];
            }
            QCOMPARE(static_cast<std::size_t>(sum), bk.size());
            covered += bk.size();
        }
        QCOMPARE(covered, std::size_t(23));
    }

    void gpipeSchedule() {
        const auto s = pipeline_schedule(PipeSchedule::GPipe, 2, 0, 3);
        QCOMPARE(QString::fromStdString(to_string(s)), QStringLiteral("F0 F1 F2 B0 B1 B2"));
        QCOMPARE(max_in_flight(s), 3);
    }

    void oneFOneBSchedule() {
        // 4 stages, 6 micro-batches: stage s warms up with 3-s forwards.
        QCOMPARE(QString::fromStdString(to_string(pipeline_schedule(PipeSchedule::OneFOneB, 4, 0, 6))),
                 QStringLiteral("F0 F1 F2 F3 B0 F4 B1 F5 B2 B3 B4 B5"));
        QCOMPARE(QString::fromStdString(to_string(pipeline_schedule(PipeSchedule::OneFOneB, 4, 2, 6))),
                 QStringLiteral("F0 F1 B0 F2 B1 F3 B2 F4 B3 F5 B4 B5"));
        QCOMPARE(QString::fromStdString(to_string(pipeline_schedule(PipeSchedule::OneFOneB, 4, 3, 6))),
                 QStringLiteral("F0 B0 F1 B1 F2 B2 F3 B3 F4 B4 F5 B5"));
        // Fewer micro-batches than stages: warm-up capped at m.
        QCOMPARE(QString::fromStdString(to_string(pipeline_schedule(PipeSchedule::OneFOneB, 4, 0, 2))),
                 QStringLiteral("F0 F1 B0 B1"));
        for (int s = 0; s < 4; ++s)
            QCOMPARE(max_in_flight(pipeline_schedule(PipeSchedule::OneFOneB, 4, s, 8)), 4 - s);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, pipeline_schedule(PipeSchedule::OneFOneB, 2, 2, 4));
    }

    void stageUnitsAreContiguousAndBalanced() {
        QCOMPARE(stage_units(6, 4, 0).begin, 0);
        QCOMPARE(stage_units(6, 4, 0).end, 1);
        QCOMPARE(stage_units(6, 4, 1).end, 3);
        QCOMPARE(stage_units(6, 4, 3).begin, 4);
        QCOMPARE(stage_units(6, 4, 3).end, 6);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, stage_units(1, 2, 0));
    }

    void planNeighboursGroupsAndReadyBuckets() {
        // Pipeline neighbours: forward receives from the stage before and sends to the one after.
        QCOMPARE(pipe_peers(PipeAction::Forward, 3, 1).recv_from, 0);
        QCOMPARE(pipe_peers(PipeAction::Forward, 3, 1).send_to, 2);
        QCOMPARE(pipe_peers(PipeAction::Backward, 3, 1).recv_from, 2);
        QCOMPARE(pipe_peers(PipeAction::Backward, 3, 1).send_to, 0);
        QCOMPARE(pipe_peers(PipeAction::Forward, 3, 0).recv_from, -1);
        QCOMPARE(pipe_peers(PipeAction::Backward, 3, 2).recv_from, -1);
        QCOMPARE(pipe_peers(PipeAction::Forward, 1, 0).send_to, -1);
        // Group members (dp2 x tp2 x pp2, models/LAYOUT.md table): rank 5 = (pp 1, dp 0, tp 1).
        const Layout l{2, 2, 2};
        QCOMPARE(group_member(5, Axis::Tp, 0, l), 4);
        QCOMPARE(group_member(5, Axis::Dp, 1, l), 7);
        QCOMPARE(group_member(5, Axis::Pp, 0, l), 1);
        QCOMPARE(mlp_pair_blocks(3), 2);
        QCOMPARE(mlp_pair_blocks(4), 2);
        // Buckets [6,10) [2,6) [0,2): backward past element 5 completes only the first.
        const auto b = bucket_ranges(10, 4);
        QCOMPARE(b.size(), std::size_t(3));
        QVERIFY(b[0].counts.empty());
        QCOMPARE(buckets_ready(b, 0, 5), std::size_t(1));
        QCOMPARE(buckets_ready(b, 1, 2), std::size_t(2));
        QCOMPARE(buckets_ready(b, 2, 0), std::size_t(3));
        QCOMPARE(bucket_count(10, 4), std::size_t(3));
        QCOMPARE(bucket_count(0, 4), std::size_t(0));
        QCOMPARE(bucket_count(10, 0), std::size_t(1));
        QCOMPARE(bucket_range(10, 4, 2).begin, std::size_t(0));
        QCOMPARE(bucket_range(10, 4, 2).end, std::size_t(2));
    }

    void dataOrderIsAFunctionOfSeedAndStep() {
        const SequenceSampler a(100000, 32, 7), b(100000, 32, 7), c(100000, 32, 8);
        int differ = 0;
        for (int i = 0; i < 16; ++i) {
            QCOMPARE(a.start(3, i), b.start(3, i));
            QVERIFY(a.start(3, i) <= 100000 - 33);
            differ += a.start(3, i) != c.start(3, i);
            differ += a.start(3, i) != a.start(4, i) ? 0 : 0;
        }
        QVERIFY(differ >= 15);  // another seed gives other sequences
        QVERIFY(a.start(3, 0) != a.start(4, 0));

        const EpochSampler e(10, 5), f(10, 5);
        std::set<int> epoch0, epoch1;
        for (int i = 0; i < 10; ++i) {
            epoch0.insert(e.index(0, 5, i));  // steps 0 and 1 of batch 5 = epoch 0
            epoch1.insert(e.index(2, 5, i));  // steps 2 and 3 = epoch 1
            QCOMPARE(e.index(0, 5, i), f.index(0, 5, i));
        }
        QCOMPARE(epoch0.size(), std::size_t(10));  // a permutation
        QCOMPARE(epoch1.size(), std::size_t(10));
        bool reshuffled = false;
        for (int i = 0; i < 10; ++i) reshuffled |= e.index(0, 5, i) != e.index(2, 5, i);
        QVERIFY(reshuffled);
    }

    void initIsCounterBased() {
        // A slice equals the same elements of the full tensor: tensor parallel ranks start from
        // the weights of the single-rank run.
        const auto key = tensor_key(1, "h0.attn.qkv.w");
        std::vector<float> full(6 * 4), slice(3 * 2);
        init_normal_slice(full.data(), key, 0.5f, 4, 0, 6, 0, 4);
        init_normal_slice(slice.data(), key, 0.5f, 4, 2, 3, 1, 2);
        for (int r = 0; r < 3; ++r)
            for (int c = 0; c < 2; ++c) QCOMPARE(slice[r * 2 + c], full[(2 + r) * 4 + 1 + c]);
        QVERIFY(tensor_key(1, "a") != tensor_key(2, "a"));
        double mean = 0, sq = 0;
        const int n = 20000;
        for (int i = 0; i < n; ++i) {
            const double x = normal_at(99, static_cast<std::uint64_t>(i));
            mean += x;
            sq += x * x;
        }
        mean /= n;
        QVERIFY(std::abs(mean) < 0.03);
        QVERIFY(std::abs(sq / n - 1.0) < 0.05);
    }

    void commObserverSeesEveryCall() {
        Comm comm(make_local_transport());
        RecordingObserver obs;
        comm.set_observer(&obs);
        std::vector<float> buf(10, 1.0f), out(10, 0.0f);
        std::vector<double> d(3, 2.0);
        comm.all_reduce(GroupKind::Tp, buf.data(), buf.size());
        comm.all_reduce(GroupKind::World, d.data(), d.size());
        CommRequest req = comm.iall_reduce(GroupKind::Dp, buf.data(), 4);
        QCOMPARE(obs.begins.size(), std::size_t(3));
        QCOMPARE(obs.ends.size(), std::size_t(2));  // the non-blocking call is still open
        req.wait();
        QCOMPARE(obs.ends.size(), std::size_t(3));
        const std::vector<int> counts{10};
        comm.reduce_scatter(GroupKind::Dp, buf.data(), out.data(), counts);
        QCOMPARE(out[9], 1.0f);  // a group of one: the reduce-scatter is a copy
        comm.barrier(GroupKind::Pp);
        comm.set_observer(nullptr);
        comm.all_reduce(GroupKind::Tp, buf.data(), 1);  // unobserved, but still sequenced

        QCOMPARE(obs.begins[0].op, CommOp::AllReduce);
        QCOMPARE(obs.begins[0].group, GroupKind::Tp);
        QCOMPARE(obs.begins[0].bytes, std::size_t(40));
        QCOMPARE(obs.begins[0].seq, std::uint64_t(0));
        QCOMPARE(obs.begins[1].bytes, std::size_t(24));  // doubles
        QCOMPARE(obs.begins[2].blocking, false);
        QCOMPARE(obs.begins[2].bytes, std::size_t(16));
        QCOMPARE(obs.begins[3].op, CommOp::ReduceScatter);
        QCOMPARE(obs.begins[3].seq, std::uint64_t(1));  // second call on dp
        QCOMPARE(obs.begins[4].op, CommOp::Barrier);
        QCOMPARE(obs.begins[4].group, GroupKind::Pp);
        QCOMPARE(obs.ends[2].seq, obs.begins[2].seq);
        QCOMPARE(comm.sequence(GroupKind::Tp), std::uint64_t(2));
        QCOMPARE(comm.sequence(GroupKind::World), std::uint64_t(1));
        QVERIFY_THROWS_EXCEPTION(std::logic_error, comm.send(GroupKind::Pp, buf.data(), 1, 1, 0));
    }

    void gptSingleRankTrainingLowersTheLoss() {
        auto be = ss::kernels::make_cpu_backend();
        Comm comm(make_local_transport());
        GptConfig cfg;
        cfg.seq_len = 16;
        cfg.d_model = 32;
        cfg.heads = 4;
        cfg.layers = 2;
        const int B = 4;
        auto stage = make_gpt_stage(cfg, single_rank_env(*be, comm, B, 1.0f / (B * cfg.seq_len)));
        QCOMPARE(stage->model_params(), gpt_param_count(cfg));
        ParallelConfig par;
        OptimConfig opt;
        opt.lr = 3e-3f;
        Trainer trainer(comm, *be, *stage, par, opt, B);
        FixedTextSource data(B, cfg.seq_len);
        const StepStats first = trainer.train_step(0, data);
        // Small random init: the first loss is close to ln(256) = uniform over bytes.
        QVERIFY2(std::abs(first.loss - std::log(256.0)) < 0.1, qPrintable(QString::number(first.loss)));
        QVERIFY(first.grad_norm > 0);
        StepStats st = first;
        for (int s = 1; s < 30; ++s) st = trainer.train_step(s, data);
        QVERIFY2(st.loss < 0.6 * first.loss, qPrintable(QString::number(st.loss)));
    }

    void mlpSingleRankLearnsASeparableProblem() {
        auto be = ss::kernels::make_cpu_backend();
        Comm comm(make_local_transport());
        MlpConfig cfg;
        cfg.input_dim = 8;
        cfg.classes = 4;
        cfg.hidden = {16, 16};
        const int B = 32;
        auto stage = make_mlp_stage(cfg, single_rank_env(*be, comm, B, 1.0f / B));
        QCOMPARE(stage->model_params(), std::int64_t(8 * 16 + 16 + 16 * 16 + 16 + 16 * 4 + 4));
        ParallelConfig par;
        OptimConfig opt;
        opt.lr = 1e-2f;
        Trainer trainer(comm, *be, *stage, par, opt, B);
        FixedImageSource data(cfg.input_dim);
        const StepStats first = trainer.train_step(0, data);
        for (int s = 1; s < 60; ++s) trainer.train_step(s, data);
        const EvalStats ev = trainer.evaluate(data, 1);
        QCOMPARE(ev.count, std::int64_t(B));
        QVERIFY2(ev.loss < 0.2 * first.loss, qPrintable(QString::number(ev.loss)));
        QCOMPARE(ev.correct, std::int64_t(B));
    }

    void gradientNormClipsAndMatchesTheGradients() {
        // grad_clip = tiny: the reported norm is the true norm of the gradient before clipping,
        // i.e. sqrt(sum of squares over the flat gradient buffer).
        auto be = ss::kernels::make_cpu_backend();
        Comm comm(make_local_transport());
        MlpConfig cfg;
        cfg.input_dim = 8;
        cfg.classes = 4;
        cfg.hidden = {16};
        auto stage = make_mlp_stage(cfg, single_rank_env(*be, comm, 8, 1.0f / 8));
        OptimConfig opt;
        opt.grad_clip = 1e-3f;
        Trainer trainer(comm, *be, *stage, ParallelConfig{}, opt, 8);
        FixedImageSource data(cfg.input_dim);
        const StepStats st = trainer.train_step(0, data);
        double sq = 0;
        const float* g = stage->params().grads();
        for (std::size_t i = 0; i < stage->params().size(); ++i) sq += double(g[i]) * g[i];
        QVERIFY(st.grad_norm > 1e-2);
        QVERIFY(std::abs(st.grad_norm - std::sqrt(sq)) < 1e-5 * st.grad_norm);
    }

    // The whole backward of a stage against central finite differences of its forward loss, for
    // the largest-gradient element of every parameter tensor (catches a wrong or missing term
    // anywhere in the chain, which equal losses across layouts could not).
    void gradientsMatchFiniteDifferences_data() {
        QTest::addColumn<bool>("gpt");
        QTest::newRow("gpt") << true;
        QTest::newRow("mlp") << false;
    }
    void gradientsMatchFiniteDifferences() {
        QFETCH(bool, gpt);
        auto be = ss::kernels::make_cpu_backend();
        Comm comm(make_local_transport());
        std::unique_ptr<Stage> stage;
        std::unique_ptr<BatchSource> data;
        const int B = 4;
        if (gpt) {
            GptConfig cfg;
            cfg.seq_len = 8;
            cfg.d_model = 16;
            cfg.heads = 2;
            cfg.layers = 2;
            stage = make_gpt_stage(cfg, single_rank_env(*be, comm, B, 1.0f / (B * cfg.seq_len)));
            data = std::make_unique<FixedTextSource>(B, cfg.seq_len);
        } else {
            MlpConfig cfg;
            cfg.input_dim = 8;
            cfg.classes = 4;
            cfg.hidden = {12, 10};
            cfg.activation = Activation::Gelu;
            stage = make_mlp_stage(cfg, single_rank_env(*be, comm, B, 1.0f / B));
            data = std::make_unique<FixedImageSource>(8);
        }
        HostMicroBatch mb;
        data->fill(0, 0, B, mb);
        stage->load(0, mb);
        ParamStore& ps = stage->params();
        auto mean_loss = [&] {
            stage->forward(0, false);
            return stage->loss_sum(0) / static_cast<double>(stage->target_count(0));
        };
        be->zero(ps.grads(), ps.size() * sizeof(float));
        stage->forward(0, true);
        stage->backward(0, {});
        std::vector<float> grad(ps.grads(), ps.grads() + ps.size());
        int checked = 0;
        for (const ParamSegment& seg : ps.segments()) {
            std::size_t at = seg.offset;
            for (std::size_t i = seg.offset; i < seg.offset + seg.size; ++i)
                if (std::abs(grad[i]) > std::abs(grad[at])) at = i;
            float* p = ps.params() + at;
            const float saved = *p, h = 1e-2f;
            *p = saved + h;
            const double up = mean_loss();
            *p = saved - h;
            const double down = mean_loss();
            *p = saved;
            const double fd = (up - down) / (2.0 * h);
            // Relative error, or absolute where both are tiny (a vanishing gradient must vanish
            // in the finite difference too).
            const double rel = std::abs(fd - grad[at]) / std::max(std::abs(fd), 1e-2);
            QVERIFY2(rel < 0.03, qPrintable(QStringLiteral("%1[%2]: backward %3, finite difference %4")
                                                .arg(QString::fromStdString(seg.name)).arg(at - seg.offset)
                                                .arg(grad[at]).arg(fd)));
            ++checked;
        }
        QVERIFY(checked >= (gpt ? 20 : 5));
    }

    void learningRateSchedule() {
        OptimConfig c;
        c.lr = 1.0f;
        c.warmup_steps = 4;
        c.total_steps = 14;
        QCOMPARE(learning_rate(c, 0), 0.25f);
        QCOMPARE(learning_rate(c, 3), 1.0f);
        QCOMPARE(learning_rate(c, 10), 1.0f);
        c.schedule = LrSchedule::Cosine;
        QCOMPARE(learning_rate(c, 4), 1.0f);
        QVERIFY(std::abs(learning_rate(c, 13)) < 1e-6f);
        QVERIFY(std::abs(learning_rate(c, 8) - 0.5f * (1.0f + std::cos(float(M_PI) * 4.0f / 9.0f))) < 1e-6f);
    }

    void configChecksNameTheField() {
        GptConfig g;
        g.heads = 4;
        try {
            check_gpt(g, 3, 1);
            QFAIL("tp=3 with 4 heads accepted");
        } catch (const std::invalid_argument& e) {
            QCOMPARE(QString::fromUtf8(e.what()), QStringLiteral("parallel.tp=3 must divide model.heads=4"));
        }
        MlpConfig m;
        m.hidden = {256};
        QCOMPARE(mlp_blocks(m), 1);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, check_mlp(m, 1, 2));
        m.hidden = {256, 256};
        QCOMPARE(mlp_blocks(m), 2);
        check_mlp(m, 2, 2);
        m.hidden = {250, 256};
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, check_mlp(m, 4, 1));
        QCOMPARE(micro_batch_size(64, ParallelConfig{{2, 1, 1}, 4}), 8);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, micro_batch_size(60, ParallelConfig{{2, 1, 1}, 4}));
    }
};

QTEST_GUILESS_MAIN(TestModelsUnits)
#include "tst_models_units.moc"
