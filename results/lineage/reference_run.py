"""Helpers the reference-code drivers beside this file share: time each epoch's training and validation of an authors' trainer class, read an option off a command line, link a data file into a fresh folder (with FMLP-Rec's stand-in sample file), choose the device, and run an authors' script as its own __main__."""
import os
import sys
import tempfile
import time


def time_epochs(trainer_class):
    """Prints "reference-timing epoch N train|valid S s" around the class's train() and valid()."""
    def timed(name, fn):
        def run(self, epoch, *a, **k):
            t0 = time.perf_counter()
            out = fn(self, epoch, *a, **k)
            print(f"reference-timing epoch {epoch + 1} {name} {time.perf_counter() - t0:.2f} s", flush=True)
            return out
        return run
    trainer_class.train = timed("train", trainer_class.train)
    trainer_class.valid = timed("valid", trainer_class.valid)


def option(args, name, default=None):
    """The value after NAME in the command line ARGS, or DEFAULT where NAME is absent."""
    return args[args.index(name) + 1] if name in args else default


def linked_data(data_dir, name, prefix):
    """A fresh temporary folder holding a link to DATA_DIR/NAME.txt, for code that writes beside its data file."""
    folder = tempfile.mkdtemp(prefix=prefix)
    os.symlink(os.path.join(data_dir, name + ".txt"), os.path.join(folder, name + ".txt"))
    return folder


def linked_data_with_sample_file(data_dir, name, prefix):
    """linked_data, plus the NAME_sample.txt FMLP-Rec's main.py reads even with --full_sort (99 sampled
    negatives a user, used only by the sampled protocol): items 1-99 for every user, which full ranking
    never uses."""
    folder = linked_data(data_dir, name, prefix)
    with open(os.path.join(data_dir, name + ".txt")) as f, open(os.path.join(folder, name + "_sample.txt"), "w") as out:
        for line in f:
            out.write(line.split(" ", 1)[0] + " " + " ".join(str(i) for i in range(1, 100)) + "\n")
    return folder


def cpu_only():
    """The authors' --no_cuda, unless REFERENCE_DEVICE=cuda asks for their GPU path."""
    return [] if os.environ.get("REFERENCE_DEVICE") == "cuda" else ["--no_cuda"]


def run_script(code_dir, script, argv):
    """Runs CODE_DIR/SCRIPT with command line ARGV from inside CODE_DIR, as `python SCRIPT ARGV` would."""
    code_dir = os.path.abspath(code_dir)
    sys.argv = [script] + argv
    os.chdir(code_dir)
    path = os.path.join(code_dir, script)
    exec(compile(open(path).read(), script, "exec"), {"__name__": "__main__"})
