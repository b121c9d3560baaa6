# Run at every build (target seqrec_git_version): writes the source tree's commit, and whether
# its code differs from that commit, into a header, touching the header only when they change.
# Results record these, so a result names the code its binary was built from, not whatever the
# tree holds when the run ends. Only code paths count as dirty: result files changing while
# runs go on do not make a build dirty.
execute_process(COMMAND git -C "${SRC}" rev-parse HEAD OUTPUT_VARIABLE commit
                OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT commit)
  set(commit unknown)
endif()
execute_process(COMMAND git -C "${SRC}" status --porcelain --untracked-files=no --
                        framework baselines plugin benchmarks tests cmake CMakeLists.txt
                OUTPUT_VARIABLE status ERROR_QUIET)
if(status)
  set(dirty true)
else()
  set(dirty false)
endif()
file(WRITE "${OUT}.tmp" "// Generated at build time by cmake/git_version.cmake.\n#pragma once\n"
     "#define SEQREC_BUILD_COMMIT \"${commit}\"\n#define SEQREC_BUILD_DIRTY ${dirty}\n")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${OUT}.tmp" "${OUT}")
