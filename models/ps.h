// The parameter server (parallel.dp_sync = "parameter_server", models/LAYOUT.md "Parameter
// server"): the last `servers` world ranks hold the parameters, sharded across them; the workers
// (world ranks 0 .. W-1, W = dp) push their gradients and pull parameters each step; the
// optimizer (AdamW, global gradient-norm clipping, the lr schedule: models/trainer.h) runs on the
// servers only.
//
// Sharding: the flat parameter vector of N floats (the ParamStore of a dp-only model) is cut into
// contiguous shards, server j holding [N*j/S, N*(j+1)/S) (balanced by bytes to one element).
//
// One step t of worker w (PsClient::exchange, called by the trainer after backward):
//   push: to every server its shard of w's gradient g_w (d(batch loss)/dp over w's B/W samples,
//         scaled by 1/B as every layout does), with the step t and the server's step version the
//         gradient was computed on;
//   pull: the parameters for step t+1 from every server. A server answers once its step version
//         (min over workers of the pushes it has applied) is >= the bound: t+1 (BSP, staleness 0),
//         t+1-s (SSP, staleness s), 0 (async); the pull after the last step asks for every push.
//   The staleness of w's step-t gradient is t - v, v the smallest step version of the shards it
//   was computed on (BSP 0, SSP <= s, async unbounded): metric "ps_staleness" (step t).
// Updates on a server:
//   BSP (staleness 0): when all W pushes of step t are in, ONE AdamW step on their sum (the global
//     batch's gradient, as the all-reduce path has it): the servers sum their shards' squares with
//     an all-reduce among themselves for the global norm and clip, lr = learning_rate(t), Adam's
//     step t+1. Bit-level order differs from the all-reduce only in the summation order.
//   SSP and async: every push is applied on arrival as its own AdamW step on W*g_w (the mean
//     gradient of w's B/W samples), clipped by that gradient's global norm (||W*g_w||, the worker
//     sends its sum of squares with the push, since the servers apply pushes in different orders),
//     lr = learning_rate(t) of the worker's step t, Adam's step = updates this server applied + 1
//     (every server applies every push once, so the count agrees once all pushes are in).
//
// Messages (a duplicate of MPI_COMM_WORLD, world ranks): a worker's control message (4 doubles:
// kind, step, value, sum of squares) with tag kTagCtl, a push followed by its shard (tag
// kTagData); a server's answer to a pull: 4 doubles (step version, gradient norm of the last
// update, 1 if the bound held the pull else 0, 0) then the shard. Every MPI call is checked
// (SS_MPI_CHECK).
//
// Tracing (traces/SCHEMA.md, issue 18): workers record Comm "ps_push" (Send) / "ps_pull" (Recv)
// per server with group kind PS, peer = the server's world rank, bytes, and Sync "ps_wait" when a
// server held the pull for the staleness bound (from the request until every server answered;
// the step that just pushed; none when no server held it, so async has one only at the end);
// servers record
// "ps_recv" / "ps_send" per worker, Sync "ps_queue" (a received push waiting to be applied) and
// HostRange "ps_apply" (step = the update count produced).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/backend.h"
#include "models/params.h"
#include "models/trainer.h"

namespace ss::models {

struct PsConfig {
    int workers = 1;    // W: world ranks 0 .. W-1
    int servers = 1;    // S: world ranks W .. W+S-1
    int staleness = 0;  // 0 BSP | s > 0 SSP | kPsAsync
    int steps = 1;      // training steps (the final pull waits for all of them)
};
inline constexpr int kPsAsync = -1;

// Shard of server j (0-based) of an N-element vector: [first, first + count).
struct PsShard {
    std::size_t first = 0;
    std::size_t count = 0;
};
PsShard ps_shard(std::size_t n, int servers, int j);

// The step version a worker's pull for step `next_step` needs (see the top of the file).
std::int64_t ps_pull_bound(const PsConfig& cfg, std::int64_t next_step);

// The MPI_Comm_split of MPI_COMM_WORLD into workers (color 0) and servers (color 1) is collective:
// the worker transport (make_mpi_transport with servers > 0) does the workers' half; a server
// calls this for its half (collective over MPI_COMM_WORLD, in the same place of the sequence).
void ps_server_split();

// What a step's exchange tells the trainer.
struct PsStepInfo {
    double grad_norm = 0;        // BSP: the global norm of the update; else this push's norm
    std::int64_t staleness = 0;  // of this step's gradient (steps)
};

// A worker's side. Collective with the servers' PsServer constructor (MPI_Comm_dup of
// MPI_COMM_WORLD, then worker 0 sends each server its shard of the initial parameters and the
// segment list).
class PsClient {
public:
    PsClient(const PsConfig& cfg, kernels::Backend& backend, ParamStore& store, int world_rank);
    ~PsClient();
    PsClient(const PsClient&) = delete;
    PsClient& operator=(const PsClient&) = delete;

    // Push the gradients of `step` (store.grads()), pull the parameters for step+1 into
    // store.params(). The last step's pull waits for every worker's last push.
    PsStepInfo exchange(std::int64_t step);
    // Tells every server this worker is done (after its last exchange). Idempotent.
    void finish();

    std::int64_t staleness_max() const { return stale_max_; }
    double staleness_sum() const { return stale_sum_; }
    std::int64_t staleness_count() const { return stale_count_; }

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::int64_t stale_max_ = 0, stale_count_ = 0;
    double stale_sum_ = 0;
};

// A server's side: runs until every worker sent its finish message. Collective with the workers'
// PsClient constructors.
class PsServer {
public:
    PsServer(const PsConfig& cfg, const OptimConfig& opt, int world_rank);
    ~PsServer();
    PsServer(const PsServer&) = delete;
    PsServer& operator=(const PsServer&) = delete;
    void run();

    std::int64_t updates() const;  // AdamW steps applied
    std::size_t shard_elems() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace ss::models
