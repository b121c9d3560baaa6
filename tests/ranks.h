#pragma once
// Data-parallel tests in one process: each rank a thread with its own process group over a
// loopback TCPStore (distributed.h keeps the group per thread).
#include <exception>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "seqrec/distributed.h"

namespace seqrec::testing {

/// Runs fn(rank) on `world` threads, each in a group of `world` over `backend`; rethrows a
/// rank's error.
inline void on_ranks(int world, const std::function<void(int)>& fn, const std::string& backend = "gloo") {
  int port = 0;
  auto server = dist::local_store(world, 60, &port);
  std::vector<std::exception_ptr> errors(world);
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r)
    threads.emplace_back([&, r] {
      try {
        dist::Scope group(r == 0 ? server : dist::store_client(port, 60), r, world, backend, 60);
        fn(r);
      } catch (...) {
        errors[r] = std::current_exception();
      }
    });
  for (auto& t : threads) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace seqrec::testing
