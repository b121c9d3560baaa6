#include "seqrec/distributed.h"

#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/version.h>
#ifdef SEQREC_WITH_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef SEQREC_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#if TORCH_VERSION_MAJOR >= 2
#include <torch/csrc/distributed/c10d/Backend.hpp>
#else
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#endif

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <optional>

#include "seqrec/error.h"

namespace seqrec::dist {

// Gloo's and NCCL's groups are ProcessGroups in LibTorch 1.x and c10d::Backends (which a
// ProcessGroup wraps) in 2.x, with the same collectives in both.
#if TORCH_VERSION_MAJOR >= 2
using Backend = c10d::Backend;
#else
using Backend = c10d::ProcessGroup;
#endif

struct Scope::Group {
  c10::intrusive_ptr<Backend> pg;
  int rank = 0, world = 1;
  std::string backend;
  std::optional<torch::Device> device;  ///< where the backend reduces (NCCL: this rank's GPU); unset: in place
};

namespace {

thread_local Scope::Group* g_current = nullptr;

std::chrono::milliseconds millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

int to_int(const char* name, const char* value) {
  char* end = nullptr;
  const long v = std::strtol(value, &end, 10);
  if (!*value || *end || v < 0 || v > (1 << 30)) throw Error(std::string(name) + "=" + value + " is not a non-negative integer");
  return static_cast<int>(v);
}

/// Runs one collective, turning a peer's failure or a timeout into one line.
void run(const char* what, const std::function<c10::intrusive_ptr<c10d::Work>()>& start) {
  try {
    start()->wait();
  } catch (const std::exception& e) {
    throw Error("data-parallel rank " + std::to_string(g_current->rank) + " of " + std::to_string(g_current->world) + ": " +
                what + " failed (" + first_line(e.what()) + "); another rank stopped or is unreachable");
  }
}

#ifdef SEQREC_WITH_GLOO
bool loopback(const std::string& host) { return host == "localhost" || host.rfind("127.", 0) == 0; }
#endif

}  // namespace

std::string first_slurm_host(const std::string& nodelist) {
  const size_t comma = nodelist.find(','), bracket = nodelist.find('[');
  if (bracket == std::string::npos || (comma != std::string::npos && comma < bracket)) return nodelist.substr(0, comma);
  // prefix[03-05,07]: the prefix and the first number of the range list, zero padding kept.
  const size_t end = nodelist.find_first_of("-,]", bracket);
  if (end == std::string::npos) throw Error("SLURM_JOB_NODELIST=" + nodelist + ": not a node list");
  return nodelist.substr(0, bracket) + nodelist.substr(bracket + 1, end - bracket - 1);
}

JobEnv job_env(const std::function<const char*(const char*)>& getenv) {
  JobEnv env;
  auto var = [&](const char* name) -> const char* { return getenv(name); };
  if (var("WORLD_SIZE") || var("RANK")) {
    for (const char* name : {"RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"})
      if (!var(name)) throw Error(std::string("data-parallel launch: ") + name + " is not set (torchrun and seqrec launch set RANK, "
                                  "WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT)");
    env.source = "torchrun";
    env.rank = to_int("RANK", var("RANK"));
    env.world = to_int("WORLD_SIZE", var("WORLD_SIZE"));
    env.local_rank = var("LOCAL_RANK") ? to_int("LOCAL_RANK", var("LOCAL_RANK")) : env.rank;
    env.master_addr = var("MASTER_ADDR");
    env.master_port = to_int("MASTER_PORT", var("MASTER_PORT"));
  } else if (var("SLURM_PROCID") && var("SLURM_NTASKS") && var("SLURM_JOB_NODELIST")) {
    env.source = "slurm";
    env.rank = to_int("SLURM_PROCID", var("SLURM_PROCID"));
    env.world = to_int("SLURM_NTASKS", var("SLURM_NTASKS"));
    env.local_rank = var("SLURM_LOCALID") ? to_int("SLURM_LOCALID", var("SLURM_LOCALID")) : 0;
    env.master_addr = var("MASTER_ADDR") ? var("MASTER_ADDR") : first_slurm_host(var("SLURM_JOB_NODELIST"));
    if (var("MASTER_PORT")) env.master_port = to_int("MASTER_PORT", var("MASTER_PORT"));
  } else {
    return env;
  }
  if (env.world < 1 || env.rank >= env.world)
    throw Error("data-parallel launch: rank " + std::to_string(env.rank) + " of a world of " + std::to_string(env.world));
  if (env.master_port < 1 || env.master_port > 65535) throw Error("MASTER_PORT=" + std::to_string(env.master_port) + ": not a port");
  return env;
}

c10::intrusive_ptr<c10d::Store> local_store(int world, double timeout_seconds, int* port) {
  c10d::TCPStoreOptions o;
  o.port = 0;
  o.isServer = true;
  o.numWorkers = world;
  o.waitWorkers = false;
  o.timeout = millis(timeout_seconds);
  auto store = c10::make_intrusive<c10d::TCPStore>("127.0.0.1", o);
  *port = store->getPort();
  return store;
}

c10::intrusive_ptr<c10d::Store> store_client(int port, double timeout_seconds) {
  c10d::TCPStoreOptions o;
  o.port = static_cast<uint16_t>(port);
  o.timeout = millis(timeout_seconds);
  return c10::make_intrusive<c10d::TCPStore>("127.0.0.1", o);
}

namespace {

#ifdef SEQREC_WITH_GLOO
c10::intrusive_ptr<Backend> gloo_group(const c10::intrusive_ptr<c10d::Store>& store, int rank, int world, double timeout_seconds) {
  auto options = c10d::ProcessGroupGloo::Options::create(millis(timeout_seconds));
  // Loopback jobs (seqrec launch, tests) talk over 127.0.0.1; others over the interface that
  // this host's name resolves to, or GLOO_SOCKET_IFNAME's.
  const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
  const char* master = std::getenv("MASTER_ADDR");
  if (ifname)
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
  else if (!master || loopback(master))
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
  else
    options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  options->threads = 1;
  return c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world, options);
}
#endif

#ifdef SEQREC_WITH_NCCL
c10::intrusive_ptr<Backend> nccl_group(const c10::intrusive_ptr<c10d::Store>& store, int rank, int world, double timeout_seconds) {
  auto options = c10d::ProcessGroupNCCL::Options::create();
  options->timeout = millis(timeout_seconds);
  return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, world, options);
}
#endif

}  // namespace

Scope::Scope(const c10::intrusive_ptr<c10d::Store>& store, int rank, int world, const std::string& backend,
             double timeout_seconds)
    : group_(std::make_unique<Group>()), previous_(g_current) {
  if (backend != "gloo" && backend != "nccl") throw Error("--dist.backend " + backend + ": gloo or nccl");
  const std::vector<std::string> built = backends();
  if (std::find(built.begin(), built.end(), backend) == built.end())
    throw Error(backend == "nccl"
                    ? "--dist.backend nccl: this seqrec was built without NCCL (it needs a CUDA LibTorch and nccl.h); use gloo"
                    : "this seqrec was built without Gloo's headers (libgloo-dev): --dist.backend gloo is unavailable");
  try {
#ifdef SEQREC_WITH_GLOO
    if (backend == "gloo") group_->pg = gloo_group(store, rank, world, timeout_seconds);
#endif
#ifdef SEQREC_WITH_NCCL
    if (backend == "nccl") {
      group_->pg = nccl_group(store, rank, world, timeout_seconds);
      group_->device = torch::Device(torch::kCUDA, c10::impl::getDeviceGuardImpl(c10::DeviceType::CUDA)->getDevice().index());
    }
#endif
  } catch (const std::exception& e) {
    throw Error("data-parallel rank " + std::to_string(rank) + " of " + std::to_string(world) +
                ": could not join the process group (" + first_line(e.what()) + ")");
  }
  group_->rank = rank;
  group_->world = world;
  group_->backend = backend;
  g_current = group_.get();
}

std::vector<std::string> backends() {
  std::vector<std::string> out;
#ifdef SEQREC_WITH_GLOO
  out.push_back("gloo");
#endif
#ifdef SEQREC_WITH_NCCL
  out.push_back("nccl");
#endif
  return out;
}

void use_local_gpu(int local_rank) {
  if (!c10::impl::hasDeviceGuardImpl(c10::DeviceType::CUDA)) throw Error("--device cuda: this LibTorch build has no CUDA");
  const c10::impl::DeviceGuardImplInterface* cuda = c10::impl::getDeviceGuardImpl(c10::DeviceType::CUDA);
  const int count = static_cast<int>(cuda->deviceCount());
  if (count < 1) throw Error("--device cuda: no CUDA device on this host");
  // torchrun's convention: the local rank picks the GPU. With more ranks than GPUs on a host
  // the ranks share them round robin (Gloo reduces that; NCCL refuses two ranks on one GPU).
  cuda->setDevice(c10::Device(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(local_rank % count)));
}

namespace {
c10::intrusive_ptr<c10d::Store> rendezvous(const JobEnv& env, double timeout_seconds) {
  c10d::TCPStoreOptions o;
  o.port = static_cast<uint16_t>(env.master_port);
  o.isServer = env.rank == 0;
  o.numWorkers = env.world;
  o.timeout = millis(timeout_seconds);
  try {
    return c10::make_intrusive<c10d::TCPStore>(env.master_addr, o);
  } catch (const std::exception& e) {
    throw Error("data-parallel rank " + std::to_string(env.rank) + ": no rendezvous at " + env.master_addr + ":" +
                std::to_string(env.master_port) + " within " + std::to_string(static_cast<int64_t>(timeout_seconds)) +
                " s (" + first_line(e.what()) + ")");
  }
}
}  // namespace

Scope::Scope(const JobEnv& env, const std::string& backend, double timeout_seconds)
    : Scope(rendezvous(env, timeout_seconds), env.rank, env.world, backend, timeout_seconds) {}

Scope::~Scope() { g_current = previous_; }

bool active() { return g_current && g_current->world > 1; }
int rank() { return g_current ? g_current->rank : 0; }
int world() { return g_current ? g_current->world : 1; }
std::string backend() { return g_current ? g_current->backend : ""; }

namespace {
/// NCCL reduces on its GPU: a tensor elsewhere (a host buffer of ranks) goes through a copy there.
bool staged(const torch::Tensor& t) { return g_current->device && t.device() != *g_current->device; }
torch::Device reduce_device(const torch::Tensor& t) { return g_current->device.value_or(t.device()); }
}  // namespace

std::vector<double> sum(std::vector<double> values) {
  if (!g_current || values.empty()) return values;
  torch::Tensor t = torch::tensor(values, torch::kDouble);
  all_reduce_sum({t});
  return std::vector<double>(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
}

bool any(bool flag) { return sum({flag ? 1.0 : 0.0})[0] > 0; }

void all_reduce_sum(const std::vector<torch::Tensor>& tensors, int64_t bucket_bytes) {
  if (!g_current) return;
  torch::NoGradGuard no_grad;
  // Buckets of one dtype and device, in the tensors' order.
  size_t i = 0;
  while (i < tensors.size()) {
    std::vector<torch::Tensor> bucket{tensors[i]};
    int64_t bytes = tensors[i].numel() * tensors[i].element_size();
    size_t j = i + 1;
    for (; j < tensors.size(); ++j) {
      const torch::Tensor& t = tensors[j];
      if (t.scalar_type() != tensors[i].scalar_type() || t.device() != tensors[i].device() ||
          bytes + t.numel() * t.element_size() > bucket_bytes)
        break;
      bucket.push_back(t);
      bytes += t.numel() * t.element_size();
    }
    if (bucket.size() == 1 && bucket[0].is_contiguous() && !staged(bucket[0])) {
      std::vector<torch::Tensor> one{bucket[0]};
      run("all-reduce", [&] { return g_current->pg->allreduce(one); });
    } else {
      std::vector<torch::Tensor> flat;
      for (const torch::Tensor& t : bucket) flat.push_back(t.reshape(-1));
      std::vector<torch::Tensor> buffer{torch::cat(flat).to(reduce_device(bucket[0]))};
      run("all-reduce", [&] { return g_current->pg->allreduce(buffer); });
      int64_t at = 0;
      for (const torch::Tensor& t : bucket) {
        t.copy_(buffer[0].slice(0, at, at + t.numel()).view(t.sizes()));
        at += t.numel();
      }
    }
    i = j;
  }
}

void broadcast(const std::vector<torch::Tensor>& tensors, int root) {
  if (!g_current) return;
  torch::NoGradGuard no_grad;
  for (const torch::Tensor& t : tensors) {
    const bool in_place = t.is_contiguous() && !staged(t);
    std::vector<torch::Tensor> one{in_place ? t : t.contiguous().to(reduce_device(t))};
    c10d::BroadcastOptions o;
    o.rootRank = root;
    run("broadcast", [&] { return g_current->pg->broadcast(one, o); });
    if (!in_place) t.copy_(one[0]);
  }
}

void all_reduce_gradients(const std::vector<torch::Tensor>& parameters) {
  if (!g_current) return;
  std::vector<torch::Tensor> grads;
  for (const torch::Tensor& p : parameters) {
    torch::Tensor& g = const_cast<torch::Tensor&>(p).mutable_grad();
    if (!g.defined()) g = torch::zeros_like(p);
    grads.push_back(g);
  }
  all_reduce_sum(grads);
}

}  // namespace seqrec::dist
