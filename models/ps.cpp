#include "models/ps.h"

#include <mpi.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <deque>
#include <limits>
#include <stdexcept>
#include <string>

#include "kernels/cpu_kernels.h"
#include "profiler/profiler.h"

namespace ss::models {

namespace {

constexpr int kTagInit = 31;       // worker 0 -> server: N, segment count, segments, shard
constexpr int kTagCtl = 32;        // worker -> server: control message (4 doubles)
constexpr int kTagData = 33;       // worker -> server: a pushed gradient shard
constexpr int kTagReplyHdr = 34;   // server -> worker: answer to a pull (4 doubles)
constexpr int kTagReplyData = 35;  // server -> worker: the parameter shard

enum Ctl : int { kPush = 1, kPull = 2, kDone = 3 };

int as_count(std::size_t n) {
    if (n > static_cast<std::size_t>(std::numeric_limits<int>::max()))
        throw std::runtime_error("parameter shard of " + std::to_string(n) +
                                 " elements exceeds the MPI int count limit");
    return static_cast<int>(n);
}

// One parameter-server span (traces: group kind PS; the group is the servers, id = the first
// server's world rank, size = the world).
struct PsSpan {
    const char* name;
    traces::EventKind kind;
    traces::Collective collective;
    int peer;
    std::int64_t bytes;
    std::int64_t step;
    std::int64_t seq;
};
void record(const PsSpan& s, std::int64_t start, std::int64_t end, int group_id, int group_size) {
    profiler::Profiler* p = profiler::Profiler::current();
    if (p == nullptr) return;
    profiler::SpanRecord r;
    r.name = s.name;
    r.kind = s.kind;
    r.lane =
        s.kind == traces::EventKind::HostRange ? profiler::lanes::kHost : profiler::lanes::kComm;
    r.collective = s.collective;
    r.group_kind = traces::GroupKind::PS;
    r.group_id = group_id;
    r.group_size = group_size;
    r.peer = s.peer;
    r.bytes = s.bytes;
    r.step = s.step;
    r.seq = s.seq;
    r.start_ns = start;
    r.end_ns = end;
    p->record(r);
}

}  // namespace

PsShard ps_shard(std::size_t n, int servers, int j) {
    const auto s = static_cast<std::size_t>(servers), k = static_cast<std::size_t>(j);
    const std::size_t lo = n * k / s, hi = n * (k + 1) / s;
    return {lo, hi - lo};
}

std::int64_t ps_pull_bound(const PsConfig& cfg, std::int64_t next_step) {
    if (next_step >= cfg.steps) return cfg.steps;  // after the last step: every push
    if (cfg.staleness == kPsAsync) return 0;
    return std::max<std::int64_t>(0, next_step - cfg.staleness);
}

void ps_server_split() {
    int rank = 0;
    SS_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    MPI_Comm servers = MPI_COMM_NULL;
    SS_MPI_CHECK(MPI_Comm_split(MPI_COMM_WORLD, 1, rank, &servers));
    // Only pairs the workers' split; PsServer::run makes the servers' group it uses itself.
    SS_MPI_CHECK(MPI_Comm_free(&servers));
}

// =============================================================================================
// Worker
// =============================================================================================

struct PsClient::Impl {
    PsConfig cfg;
    kernels::Backend& be;
    ParamStore& store;
    int rank = 0;
    MPI_Comm comm = MPI_COMM_NULL;
    std::vector<PsShard> shards;        // (servers)
    std::vector<std::int64_t> version;  // (servers) step version of the last pulled shard
    std::vector<std::int64_t> push_seq, pull_seq;  // (servers) channel counts
    bool device = false;  // params / grads live on a device: stage through host
    std::vector<float> grad_host, param_host;  // (N) when device
    bool done = false;

    Impl(const PsConfig& c, kernels::Backend& b, ParamStore& s, int r)
        : cfg(c), be(b), store(s), rank(r) {}
};

PsClient::PsClient(const PsConfig& cfg, kernels::Backend& backend, ParamStore& store,
                   int world_rank)
    : impl_(std::make_unique<Impl>(cfg, backend, store, world_rank)) {
    Impl& m = *impl_;
    SS_MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &m.comm));
    SS_MPI_CHECK(MPI_Comm_set_errhandler(m.comm, MPI_ERRORS_RETURN));
    const std::size_t n = store.size();
    const auto S = static_cast<std::size_t>(cfg.servers);
    for (int j = 0; j < cfg.servers; ++j) m.shards.push_back(ps_shard(n, cfg.servers, j));
    m.version.assign(S, 0);
    m.push_seq.assign(S, 0);
    m.pull_seq.assign(S, 0);
    m.device = backend.is_device_pointer(store.params());
    if (m.device) {
        m.grad_host.resize(n);
        m.param_host.resize(n);
    }
    if (world_rank != 0) return;
    // Worker 0 gives every server the model's size, its segments (for weight decay) and the
    // initial parameters of its shard (every worker starts from the same ones).
    const float* params = store.params();
    if (m.device) {
        backend.copy_to_host(m.param_host.data(), store.params(), n * sizeof(float));
        params = m.param_host.data();
    }
    std::vector<std::int64_t> head{static_cast<std::int64_t>(n),
                                   static_cast<std::int64_t>(store.segments().size())};
    for (const ParamSegment& sg : store.segments()) {
        head.push_back(static_cast<std::int64_t>(sg.offset));
        head.push_back(static_cast<std::int64_t>(sg.size));
        head.push_back(sg.decay ? 1 : 0);
    }
    for (int j = 0; j < cfg.servers; ++j) {
        const int server = cfg.workers + j;
        SS_MPI_CHECK(
            MPI_Send(head.data(), as_count(head.size()), MPI_INT64_T, server, kTagInit, m.comm));
        const PsShard& sh = m.shards[static_cast<std::size_t>(j)];
        SS_MPI_CHECK(
            MPI_Send(params + sh.first, as_count(sh.count), MPI_FLOAT, server, kTagInit, m.comm));
    }
}

PsClient::~PsClient() {
    if (!impl_) return;
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized && impl_->comm != MPI_COMM_NULL) MPI_Comm_free(&impl_->comm);
}

PsStepInfo PsClient::exchange(std::int64_t step) {
    Impl& m = *impl_;
    const std::size_t n = m.store.size();
    const int W = m.cfg.workers, S = m.cfg.servers;
    const bool bsp = m.cfg.staleness == 0;
    PsStepInfo info;

    // ---- push ----
    const float* grads = m.store.grads();
    if (m.device) {
        m.be.copy_to_host(m.grad_host.data(), m.store.grads(), n * sizeof(float));
        grads = m.grad_host.data();
    }
    // SSP / async: the servers clip each push by its own global norm; the worker has the whole
    // gradient, so it sends the sum of squares (see ps.h). BSP: the servers compute it.
    const double sq = bsp ? 0.0 : m.be.sum_squares(m.store.grads(), n);
    std::int64_t oldest = std::numeric_limits<std::int64_t>::max();
    for (int j = 0; j < S; ++j) {
        const auto js = static_cast<std::size_t>(j);
        const PsShard& sh = m.shards[js];
        const int server = W + j;
        const double ctl[4] = {kPush, static_cast<double>(step), static_cast<double>(m.version[js]),
                               sq};
        const std::int64_t t0 = profiler::now_ns();
        SS_MPI_CHECK(MPI_Send(ctl, 4, MPI_DOUBLE, server, kTagCtl, m.comm));
        SS_MPI_CHECK(
            MPI_Send(grads + sh.first, as_count(sh.count), MPI_FLOAT, server, kTagData, m.comm));
        record({"ps_push", traces::EventKind::Comm, traces::Collective::Send, server,
                static_cast<std::int64_t>(sh.count * sizeof(float)), step, m.push_seq[js]++},
               t0, profiler::now_ns(), W, W + S);
        oldest = std::min(oldest, m.version[js]);
    }
    info.staleness = step - oldest;
    if (!bsp) info.grad_norm = std::sqrt(sq) * W;

    // ---- pull the parameters for step + 1 ----
    const std::int64_t next = step + 1;
    const std::int64_t bound = ps_pull_bound(m.cfg, next);
    float* params = m.device ? m.param_host.data() : m.store.params();
    std::vector<MPI_Request> reqs(static_cast<std::size_t>(2 * S), MPI_REQUEST_NULL);
    std::vector<std::array<double, 4>> hdr(static_cast<std::size_t>(S));
    const std::int64_t t_req = profiler::now_ns();
    for (int j = 0; j < S; ++j) {
        const auto js = static_cast<std::size_t>(j);
        const int server = W + j;
        const PsShard& sh = m.shards[js];
        SS_MPI_CHECK(
            MPI_Irecv(hdr[js].data(), 4, MPI_DOUBLE, server, kTagReplyHdr, m.comm, &reqs[2 * js]));
        SS_MPI_CHECK(MPI_Irecv(params + sh.first, as_count(sh.count), MPI_FLOAT, server,
                               kTagReplyData, m.comm, &reqs[2 * js + 1]));
        const double ctl[4] = {kPull, static_cast<double>(next), static_cast<double>(bound), 0.0};
        SS_MPI_CHECK(MPI_Send(ctl, 4, MPI_DOUBLE, server, kTagCtl, m.comm));
    }
    std::int64_t headers_at = t_req;
    for (int left = 2 * S; left > 0; --left) {
        int idx = MPI_UNDEFINED;
        SS_MPI_CHECK(MPI_Waitany(2 * S, reqs.data(), &idx, MPI_STATUS_IGNORE));
        if (idx == MPI_UNDEFINED) break;
        const std::int64_t now = profiler::now_ns();
        const auto js = static_cast<std::size_t>(idx / 2);
        if (idx % 2 == 0) {
            headers_at = std::max(headers_at, now);
        } else {
            record({"ps_pull", traces::EventKind::Comm, traces::Collective::Recv, W + idx / 2,
                    static_cast<std::int64_t>(m.shards[js].count * sizeof(float)), step,
                    m.pull_seq[js]++},
                   t_req, now, W, W + S);
        }
    }
    // Blocked by the staleness bound: a server held the pull until its step version reached the
    // bound (the header says so); the wait lasts until every server had answered.
    bool held = false;
    for (const auto& h : hdr) held = held || h[2] != 0.0;
    if (held)
        record({"ps_wait", traces::EventKind::Sync, traces::Collective::None, -1, traces::kNone,
                step, traces::kNone},
               t_req, headers_at, W, W + S);
    for (int j = 0; j < S; ++j) {
        const auto js = static_cast<std::size_t>(j);
        m.version[js] = static_cast<std::int64_t>(hdr[js][0]);
        if (m.version[js] < bound)
            throw std::logic_error("parameter server " + std::to_string(W + j) +
                                   " answered with step version " + std::to_string(m.version[js]) +
                                   " < the bound " + std::to_string(bound));
        if (bsp && j == 0) info.grad_norm = hdr[js][1];
    }
    if (m.device) m.be.copy_to_device(m.store.params(), m.param_host.data(), n * sizeof(float));

    stale_max_ = std::max(stale_max_, info.staleness);
    stale_sum_ += static_cast<double>(info.staleness);
    stale_count_ += 1;
    if (profiler::Profiler* p = profiler::Profiler::current())
        p->metric(step, "ps_staleness", static_cast<double>(info.staleness));
    return info;
}

void PsClient::finish() {
    Impl& m = *impl_;
    if (m.done) return;
    m.done = true;
    const double ctl[4] = {kDone, 0, 0, 0};
    for (int j = 0; j < m.cfg.servers; ++j)
        SS_MPI_CHECK(MPI_Send(ctl, 4, MPI_DOUBLE, m.cfg.workers + j, kTagCtl, m.comm));
}

// =============================================================================================
// Server
// =============================================================================================

struct PsServer::Impl {
    PsConfig cfg;
    OptimConfig opt;
    int rank = 0;
    int index = 0;                     // j: this server's shard
    MPI_Comm comm = MPI_COMM_NULL;     // world duplicate
    MPI_Comm servers = MPI_COMM_NULL;  // the servers (BSP: the global gradient norm)
    PsShard shard;
    struct Run {
        std::size_t first = 0;  // in the shard
        std::size_t len = 0;
        bool decay = false;
    };
    std::vector<Run> runs;
    std::vector<float> params, m, v, sum;  // (shard)
    std::vector<std::vector<float>> grad;  // (workers, shard): the last push of each worker
    std::vector<std::int64_t> clock;       // (workers) pushes applied
    std::vector<std::int64_t> recv_seq, send_seq;
    std::int64_t updates = 0;
    double last_norm = 0;

    struct Push {
        int worker;
        std::int64_t step;
        std::int64_t version;
        double sq;
        std::int64_t received_ns;
    };
    struct Pull {
        int worker;
        std::int64_t next;
        std::int64_t bound;
        bool held = false;  // not answerable when it arrived: the staleness bound held it
    };
    std::deque<Push> pushes;
    std::vector<Pull> pulls;

    std::int64_t step_version() const { return *std::min_element(clock.begin(), clock.end()); }
    void apply(const std::vector<Push>& batch);
    void serve_pulls();
};

PsServer::PsServer(const PsConfig& cfg, const OptimConfig& opt, int world_rank)
    : impl_(std::make_unique<Impl>()) {
    impl_->cfg = cfg;
    impl_->opt = opt;
    impl_->rank = world_rank;
    impl_->index = world_rank - cfg.workers;
}

PsServer::~PsServer() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized) return;
    if (impl_->servers != MPI_COMM_NULL) MPI_Comm_free(&impl_->servers);
    if (impl_->comm != MPI_COMM_NULL) MPI_Comm_free(&impl_->comm);
}

std::int64_t PsServer::updates() const {
    return impl_->updates;
}
std::size_t PsServer::shard_elems() const {
    return impl_->shard.count;
}

void PsServer::Impl::apply(const std::vector<Push>& batch) {
    const std::int64_t start = profiler::now_ns();
    const int W = cfg.workers, S = cfg.servers;
    for (const Push& p : batch)
        record({"ps_queue", traces::EventKind::Sync, traces::Collective::None, p.worker,
                traces::kNone, p.step, traces::kNone},
               p.received_ns, start, W, W + S);
    const bool bsp = cfg.staleness == 0;
    const float* g = nullptr;
    double sq = 0;
    float grad_scale = 1.0f;
    std::int64_t step = batch.front().step;
    if (bsp) {
        // The global batch's gradient: the sum of the workers' (each scaled by 1/B), in worker
        // order.
        std::copy(grad[0].begin(), grad[0].end(), sum.begin());
        for (int w = 1; w < W; ++w)
            kernels::add_inplace(sum.data(), grad[static_cast<std::size_t>(w)].data(), sum.size());
        double part = kernels::sum_squares(sum.data(), sum.size());
        sq = part;
        if (S > 1) SS_MPI_CHECK(MPI_Allreduce(&part, &sq, 1, MPI_DOUBLE, MPI_SUM, servers));
        g = sum.data();
    } else {
        // One worker's push: its gradient over B/W samples, as a mean: W * g_w.
        const Push& p = batch.front();
        g = grad[static_cast<std::size_t>(p.worker)].data();
        sq = p.sq * static_cast<double>(W) * W;
        grad_scale = static_cast<float>(W);
    }
    const double norm = std::sqrt(sq);
    const float clip = kernels::clip_coefficient(norm, opt.grad_clip);
    kernels::AdamWConfig c = adamw_config(opt, step);
    for (const Run& r : runs) {
        c.weight_decay = r.decay ? opt.weight_decay : 0.0f;
        kernels::adamw_update(params.data() + r.first, g + r.first, m.data() + r.first,
                              v.data() + r.first, r.len, c, updates + 1, grad_scale * clip);
    }
    updates += 1;
    last_norm = norm;
    for (const Push& p : batch) clock[static_cast<std::size_t>(p.worker)] += 1;
    record({"ps_apply", traces::EventKind::HostRange, traces::Collective::None, -1,
            static_cast<std::int64_t>(shard.count * sizeof(float)), updates, traces::kNone},
           start, profiler::now_ns(), W, W + S);
}

void PsServer::Impl::serve_pulls() {
    const std::int64_t have = step_version();
    const int W = cfg.workers, S = cfg.servers;
    std::vector<Pull> waiting;
    for (Pull& p : pulls) {
        if (have < p.bound) {
            p.held = true;
            waiting.push_back(p);
            continue;
        }
        const std::int64_t t0 = profiler::now_ns();
        const double hdr[4] = {static_cast<double>(have), last_norm, p.held ? 1.0 : 0.0, 0};
        SS_MPI_CHECK(MPI_Send(hdr, 4, MPI_DOUBLE, p.worker, kTagReplyHdr, comm));
        SS_MPI_CHECK(MPI_Send(params.data(), as_count(params.size()), MPI_FLOAT, p.worker,
                              kTagReplyData, comm));
        record({"ps_send", traces::EventKind::Comm, traces::Collective::Send, p.worker,
                static_cast<std::int64_t>(params.size() * sizeof(float)), p.next - 1,
                send_seq[static_cast<std::size_t>(p.worker)]++},
               t0, profiler::now_ns(), W, W + S);
    }
    pulls = std::move(waiting);
}

void PsServer::run() {
    Impl& s = *impl_;
    const int W = s.cfg.workers, S = s.cfg.servers;
    SS_MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &s.comm));
    SS_MPI_CHECK(MPI_Comm_set_errhandler(s.comm, MPI_ERRORS_RETURN));
    // The servers' own communicator (BSP: the global gradient norm), made from the group of
    // the servers only (MPI_Comm_create_group is collective over the group's members).
    {
        MPI_Group world_group = MPI_GROUP_NULL, server_group = MPI_GROUP_NULL;
        SS_MPI_CHECK(MPI_Comm_group(s.comm, &world_group));
        const int range[1][3] = {{W, W + S - 1, 1}};
        SS_MPI_CHECK(
            MPI_Group_range_incl(world_group, 1, const_cast<int(*)[3]>(range), &server_group));
        SS_MPI_CHECK(MPI_Comm_create_group(s.comm, server_group, 0, &s.servers));
        SS_MPI_CHECK(MPI_Group_free(&server_group));
        SS_MPI_CHECK(MPI_Group_free(&world_group));
    }
    // Model size, segments and this shard's initial parameters, from worker 0.
    MPI_Status st;
    SS_MPI_CHECK(MPI_Probe(0, kTagInit, s.comm, &st));
    int head_len = 0;
    SS_MPI_CHECK(MPI_Get_count(&st, MPI_INT64_T, &head_len));
    std::vector<std::int64_t> head(static_cast<std::size_t>(head_len));
    SS_MPI_CHECK(
        MPI_Recv(head.data(), head_len, MPI_INT64_T, 0, kTagInit, s.comm, MPI_STATUS_IGNORE));
    if (head_len < 2 || head_len != 2 + 3 * head[1])
        throw std::runtime_error("parameter server " + std::to_string(s.rank) +
                                 ": malformed model description from rank 0");
    const auto n = static_cast<std::size_t>(head[0]);
    s.shard = ps_shard(n, S, s.index);
    const std::size_t lo = s.shard.first, hi = lo + s.shard.count;
    for (std::int64_t i = 0; i < head[1]; ++i) {
        const auto off = static_cast<std::size_t>(head[static_cast<std::size_t>(2 + 3 * i)]);
        const auto len = static_cast<std::size_t>(head[static_cast<std::size_t>(3 + 3 * i)]);
        const std::size_t a = std::max(lo, off), b = std::min(hi, off + len);
        if (a < b)
            s.runs.push_back({a - lo, b - a, head[static_cast<std::size_t>(4 + 3 * i)] != 0});
    }
    s.params.assign(s.shard.count, 0.0f);
    s.m.assign(s.shard.count, 0.0f);
    s.v.assign(s.shard.count, 0.0f);
    s.sum.assign(s.shard.count, 0.0f);
    s.grad.assign(static_cast<std::size_t>(W), std::vector<float>(s.shard.count));
    s.clock.assign(static_cast<std::size_t>(W), 0);
    s.recv_seq.assign(static_cast<std::size_t>(W), 0);
    s.send_seq.assign(static_cast<std::size_t>(W), 0);
    SS_MPI_CHECK(MPI_Recv(s.params.data(), as_count(s.shard.count), MPI_FLOAT, 0, kTagInit, s.comm,
                          MPI_STATUS_IGNORE));

    // One outstanding control receive per worker.
    std::vector<std::array<double, 4>> ctl(static_cast<std::size_t>(W));
    std::vector<MPI_Request> reqs(static_cast<std::size_t>(W), MPI_REQUEST_NULL);
    for (int w = 0; w < W; ++w)
        SS_MPI_CHECK(MPI_Irecv(ctl[static_cast<std::size_t>(w)].data(), 4, MPI_DOUBLE, w, kTagCtl,
                               s.comm, &reqs[static_cast<std::size_t>(w)]));
    std::vector<int> idx(static_cast<std::size_t>(W));
    int done = 0;
    const bool bsp = s.cfg.staleness == 0;
    while (done < W) {
        int count = 0;
        SS_MPI_CHECK(MPI_Waitsome(W, reqs.data(), &count, idx.data(), MPI_STATUSES_IGNORE));
        if (count == MPI_UNDEFINED) break;
        for (int k = 0; k < count; ++k) {
            const int w = idx[static_cast<std::size_t>(k)];
            const auto ws = static_cast<std::size_t>(w);
            const auto& c = ctl[ws];
            const int kind = static_cast<int>(c[0]);
            if (kind == kPush) {
                const auto step = static_cast<std::int64_t>(c[1]);
                const std::int64_t t0 = profiler::now_ns();
                SS_MPI_CHECK(MPI_Recv(s.grad[ws].data(), as_count(s.shard.count), MPI_FLOAT, w,
                                      kTagData, s.comm, MPI_STATUS_IGNORE));
                const std::int64_t t1 = profiler::now_ns();
                record({"ps_recv", traces::EventKind::Comm, traces::Collective::Recv, w,
                        static_cast<std::int64_t>(s.shard.count * sizeof(float)), step,
                        s.recv_seq[ws]++},
                       t0, t1, W, W + S);
                s.pushes.push_back({w, step, static_cast<std::int64_t>(c[2]), c[3], t1});
            } else if (kind == kPull) {
                s.pulls.push_back(
                    {w, static_cast<std::int64_t>(c[1]), static_cast<std::int64_t>(c[2])});
            } else if (kind == kDone) {
                ++done;
                continue;  // no receive posted again: MPI_Waitsome skips MPI_REQUEST_NULL
            } else {
                throw std::runtime_error("parameter server " + std::to_string(s.rank) +
                                         ": unknown message kind " + std::to_string(kind) +
                                         " from rank " + std::to_string(w));
            }
            SS_MPI_CHECK(MPI_Irecv(ctl[ws].data(), 4, MPI_DOUBLE, w, kTagCtl, s.comm, &reqs[ws]));
        }
        if (bsp) {
            // A worker pushes step t+1 only after every step-t push was applied, so the queue
            // holds one push per worker for the same step once it is full.
            if (static_cast<int>(s.pushes.size()) == W) {
                std::vector<Impl::Push> batch(s.pushes.begin(), s.pushes.end());
                s.pushes.clear();
                for (const auto& p : batch)
                    if (p.step != batch.front().step)
                        throw std::logic_error("parameter server: BSP pushes of steps " +
                                               std::to_string(p.step) + " and " +
                                               std::to_string(batch.front().step) + " together");
                s.apply(batch);
            }
        } else {
            while (!s.pushes.empty()) {
                s.apply({s.pushes.front()});
                s.pushes.pop_front();
            }
        }
        s.serve_pulls();
        // The server has no steps: its loop iterations are the trace writer's chance to flush
        // (at most every flush interval), so long runs do not fill its buffers.
        if (profiler::Profiler* p = profiler::Profiler::current()) p->step_boundary();
    }
}

}  // namespace ss::models
