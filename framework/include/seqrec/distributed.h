#pragma once
/// Data parallelism over c10d (the layer PyTorch's own DistributedDataParallel runs on):
/// N processes, one process group, rendezvous through a TCPStore. LibTorch's C++ API has no
/// DDP module, so the pieces DDP does are here: the initial weights broadcast, gradients
/// all-reduced in buckets, and the small collectives the training loop and the evaluator
/// need to agree (a step's weight, a stop signal, per-user ranks).
///
/// A process joins a group with a `Scope`; the functions below act on the calling thread's
/// group and are the identity (or a no-op) when there is none, so single-process code paths
/// are unchanged. Gloo (CPU) is the backend of Debian's LibTorch; CUDA builds where nccl.h is
/// found add NCCL (one GPU per rank: host tensors reach it through a copy on the rank's GPU).
#include <torch/csrc/distributed/c10d/Store.hpp>
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace seqrec::dist {

/// Where this process stands in a job, from the launcher's variables.
struct JobEnv {
  int rank = 0, world = 1, local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::string source;  ///< "torchrun", "slurm" or "" (one process)
};

/// torchrun's RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT (what `seqrec launch`
/// sets too) or, without them, Slurm's SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID with the
/// first host of SLURM_JOB_NODELIST (MASTER_PORT, else 29500). `getenv` is a parameter for
/// tests. One-line Error on inconsistent values.
JobEnv job_env(const std::function<const char*(const char*)>& getenv);

/// The first host of a Slurm node list: "gpu[03-05,07],cpu1" -> "gpu03".
std::string first_slurm_host(const std::string& nodelist);

/// A process group joined for the lifetime of the Scope, on the calling thread.
class Scope {
 public:
  /// Joins through `store` (rank 0's TCPStore or any other c10d store) with `backend`
  /// ("gloo"; "nccl" on CUDA builds, on the current CUDA device: see use_local_gpu);
  /// collectives that take longer than `timeout_seconds` fail (Gloo: a dead peer then ends
  /// the others with one line; NCCL: its watchdog ends the process).
  Scope(const c10::intrusive_ptr<c10d::Store>& store, int rank, int world, const std::string& backend,
        double timeout_seconds);
  /// Rendezvous from a JobEnv: rank 0 serves the TCPStore at master_addr:master_port.
  Scope(const JobEnv& env, const std::string& backend, double timeout_seconds);
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;
  struct Group;  ///< the process group (distributed.cpp)

 private:
  std::unique_ptr<Group> group_;
  Group* previous_;
};

/// A TCPStore served by this process on 127.0.0.1 at a free port (tests: one per job).
c10::intrusive_ptr<c10d::Store> local_store(int world, double timeout_seconds, int* port);
/// A client of the TCPStore at 127.0.0.1:`port`.
c10::intrusive_ptr<c10d::Store> store_client(int port, double timeout_seconds);

/// The backends this build has: "gloo" (with Gloo's headers), "nccl" (CUDA LibTorch with nccl.h).
std::vector<std::string> backends();

/// Makes GPU `local_rank` (modulo the host's GPUs) this process's current CUDA device, so
/// `--device cuda` means the rank's own GPU (torchrun's convention). One-line Error without CUDA.
void use_local_gpu(int local_rank);

bool active();     ///< this thread is in a group of more than one process
int rank();        ///< 0 without a group
int world();       ///< 1 without a group
std::string backend();

// The collectives below are the identity without a group; a group of one runs them through
// its backend all the same (tests check a backend that way on one GPU).

/// Sums `values` over the ranks (returned on every rank).
std::vector<double> sum(std::vector<double> values);
/// True on every rank when `flag` is true on any (without a group: `flag`, no collective).
bool any(bool flag);
/// Sums each tensor over the ranks in place (on every rank), in buckets of at most
/// `bucket_bytes` of one dtype flattened together: one collective per bucket.
void all_reduce_sum(const std::vector<torch::Tensor>& tensors, int64_t bucket_bytes = 25 << 20);
/// Copies rank `root`'s values of each tensor into every rank's, in place.
void broadcast(const std::vector<torch::Tensor>& tensors, int root = 0);
/// Sums every parameter's gradient over the ranks; a parameter without a gradient on this
/// rank contributes zeros (and gets the sum), so every rank reduces the same layout.
void all_reduce_gradients(const std::vector<torch::Tensor>& parameters);

/// Rows `rank`, `rank + world`, ... of `n`: this rank's share of n items (users of a batch,
/// of an evaluation set).
inline bool owns(int64_t i) { return i % world() == rank(); }

}  // namespace seqrec::dist
