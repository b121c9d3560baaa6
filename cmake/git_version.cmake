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
# The git tree id of the code paths as built (untracked files under them included), from a
# scratch index: scripts/verify_build.sh COMMIT TREE says whether a commit holds exactly
# that code. It identifies the code even where the checkout's git metadata is stale (a copy
# of a working tree, as on a lent GPU machine).
set(code_paths framework baselines plugin benchmarks tests cmake CMakeLists.txt)
set(ENV{GIT_INDEX_FILE} "${OUT}.index")
file(REMOVE "${OUT}.index")
execute_process(COMMAND git -C "${SRC}" add -A -- ${code_paths} RESULT_VARIABLE add_failed ERROR_QUIET OUTPUT_QUIET)
execute_process(COMMAND git -C "${SRC}" write-tree OUTPUT_VARIABLE code_tree OUTPUT_STRIP_TRAILING_WHITESPACE
                RESULT_VARIABLE tree_failed ERROR_QUIET)
unset(ENV{GIT_INDEX_FILE})
file(REMOVE "${OUT}.index")
if(add_failed OR tree_failed OR NOT code_tree)
  set(code_tree unknown)
endif()
file(WRITE "${OUT}.tmp" "// Generated at build time by cmake/git_version.cmake.\n#pragma once\n"
     "#define SEQREC_BUILD_COMMIT \"${commit}\"\n#define SEQREC_BUILD_DIRTY ${dirty}\n"
     "#define SEQREC_BUILD_CODE_TREE \"${code_tree}\"\n")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${OUT}.tmp" "${OUT}")
