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
# A copy of a checkout whose git metadata is stale (a lent GPU machine's copy of the working
# tree) finds its commit in .gpu/source ("COMMIT CODE_TREE", scripts/gpu_source.sh): the build is
# that commit's, clean, only where the code it compiles is exactly that tree.
if(dirty AND EXISTS "${SRC}/.gpu/source")
  file(STRINGS "${SRC}/.gpu/source" source LIMIT_COUNT 1)
  if(source MATCHES "^([0-9a-f]+) ([0-9a-f]+)$" AND CMAKE_MATCH_2 STREQUAL code_tree)
    set(commit ${CMAKE_MATCH_1})
    set(dirty false)
  endif()
endif()
file(WRITE "${OUT}.tmp" "// Generated at build time by cmake/git_version.cmake.\n#pragma once\n"
     "#define SEQREC_BUILD_COMMIT \"${commit}\"\n#define SEQREC_BUILD_DIRTY ${dirty}\n"
     "#define SEQREC_BUILD_CODE_TREE \"${code_tree}\"\n")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${OUT}.tmp" "${OUT}")
