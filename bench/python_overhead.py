#!/usr/bin/python3
"""bench/python_overhead.py: the cost of a call through Python against the
same work through the CLI (issue 14: less than 5% more).

Each task is done both ways on real data, alternating, R times; the table
gives the median wall time of each and the ratio python/cli. The CLI time is a
whole `seqloop` process (start, read, compute, write the output); the Python
time is the call in a running interpreter with the same inputs and the same
output written (read_alignment + fit + Model.write, ...), threads equal. The
interpreter's start and `import seqloop` are measured once, apart. The load
average before and after is printed: timings on a loaded machine are noisy.

    bench/python_overhead.py [REPEATS]      (SEQLOOP_DATA, default ../shared/data)
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))
import seqloop as sl  # noqa: E402

DATA = os.environ.get("SEQLOOP_DATA", os.path.join(ROOT, "..", "shared", "data"))
BIN = os.path.join(ROOT, "seqloop")
T = 2
WW = os.path.join(DATA, "ww_pf00397", "PF00397_WW_pfam_full.fasta")
PDZ = os.path.join(DATA, "dlg4_pdz3", "PF00595_PDZ_seed_hmmalign_no_inserts.fasta")
KUN = os.path.join(DATA, "kunitz_pf00014", "PF00014_mgap6.fasta.gz")
BLAT = os.path.join(DATA, "blat_ecolx", "BLAT_ECOLX.a2m")
BLAT_DMS = os.path.join(DATA, "blat_ecolx", "BLAT_ECOLX_Ranganathan2015.csv")


def cli(*args):
    subprocess.run([BIN, *map(str, args)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main():
    R = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    tmp = tempfile.mkdtemp(prefix="seqloop-bench-")
    kun_ar = os.path.join(tmp, "kunitz.ar")
    cli("fit", "--model", "ar", "-t", T, "-m", 30, "-o", kun_ar, KUN)
    blat_prof = os.path.join(tmp, "blat.profile")
    cli("fit", "--model", "profile", "-f", "BLAT_ECOLX/24-286", "-t", T, "-o", blat_prof, BLAT)

    def py_weights():
        sl.read_alignment(WW, threads=T).write_weights(os.path.join(tmp, "w.py"))

    def py_fit_ar():
        sl.fit(sl.read_alignment(PDZ, focus="DLG4_RAT/313-391", threads=T), "ar", threads=T).write(
            os.path.join(tmp, "pdz.py.ar"))

    def py_sample():
        m = sl.read_model(kun_ar)
        x, lp = m.sample(20000, seed=7, threads=T)
        seqs = sl.decode(x)
        with open(os.path.join(tmp, "s.py.fa"), "w") as f:
            f.write("".join(">sample%d logp=%.4f\n%s\n" % (k + 1, v, s) for k, (v, s) in enumerate(zip(lp, seqs))))

    def py_score():  # one thread, as the CLI's scoring loop
        m = sl.read_model(blat_prof)
        lines = open(BLAT_DMS).read().splitlines()
        d = m.delta([r.split(",", 1)[0] for r in lines[1:]], skip_invalid=True, threads=1)
        with open(os.path.join(tmp, "sc.py.csv"), "w") as f:
            f.write(lines[0] + ",seqloop_score\n")
            f.write("".join("%s,%.6f\n" % (r, v) if v == v else "%s,\n" % r for r, v in zip(lines[1:], d)))

    tasks = [
        ("weights: WW 39,045 x 31 (read + weights + write)",
         lambda: cli("weights", "-t", T, "-o", os.path.join(tmp, "w.cli"), WW), py_weights),
        ("fit ar: PDZ 44 x 75 (read + fit + write model)",
         lambda: cli("fit", "--model", "ar", "-f", "DLG4_RAT/313-391", "-t", T, "-o", os.path.join(tmp, "pdz.cli.ar"),
                     PDZ), py_fit_ar),
        ("sample ar: Kunitz, 20,000 draws (read model + sample + write FASTA)",
         lambda: cli("sample", "-m", kun_ar, "-n", 20000, "--seed", 7, "-t", T, "-o", os.path.join(tmp, "s.cli.fa")),
         py_sample),
        ("score: BLAT_ECOLX profile, 4,997 assay mutants (read + deltas + write CSV)",
         lambda: cli("score", "-m", blat_prof, "--skip-invalid", "-t", T, "-o", os.path.join(tmp, "sc.cli.csv"),
                     BLAT_DMS), py_score),
    ]
    load0 = os.getloadavg()
    print("| task | CLI (s, median of %d) | Python call (s) | Python / CLI |" % R)
    print("|---|---|---|---|")
    for name, c, p in tasks:
        tc, tp = [], []
        for _ in range(R):
            t0 = time.perf_counter(); c(); tc.append(time.perf_counter() - t0)
            t0 = time.perf_counter(); p(); tp.append(time.perf_counter() - t0)
        mc, mp = statistics.median(tc), statistics.median(tp)
        print("| %s | %.3f | %.3f | %.3f |" % (name, mc, mp, mp / mc))
    same = open(os.path.join(tmp, "sc.py.csv")).read() == open(os.path.join(tmp, "sc.cli.csv")).read()
    print("\nscore: the Python CSV is byte-identical to the CLI's: %s" % same)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import seqloop"], check=True, env=dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python")))
    t_imp = time.perf_counter() - t0
    t0 = time.perf_counter()
    subprocess.run([BIN, "--version"], check=True, stdout=subprocess.DEVNULL)
    t_ver = time.perf_counter() - t0
    load1 = os.getloadavg()
    print("start-up, once: `python3 -c 'import seqloop'` %.3f s; `seqloop --version` %.3f s" % (t_imp, t_ver))
    print("load average before: %.2f %.2f %.2f; after: %.2f %.2f %.2f; %d CPUs; threads per task %d"
          % (*load0, *load1, os.cpu_count(), T))


if __name__ == "__main__":
    main()
