"""seqloop: generative models of protein families, from Python with numpy.

A thin layer over seqloop's C library (cffi, API mode): every number comes
from the same C functions the `seqloop` command calls. Arrays in and out are
numpy; sequences are alphabet codes (uint8, 0 = gap; `encode`/`decode`).
Errors raise SeqloopError (or a subclass) carrying the C message. Long calls
run with the GIL released; Ctrl-C is handled as docs/python.md describes.

    import seqloop as sl
    aln = sl.read_alignment("PF00397.fasta")          # codes N x L, weights, neff
    m = sl.fit(aln, "potts")                          # profile, potts, ar
    m.delta(["W17F", "Y28A:P31G"])                    # deltas of mutants
"""
import numbers
import os
import signal
import threading

import numpy as np

from ._seqloop_cffi import ffi, lib

__all__ = ["SeqloopError", "InputError", "UsageError", "version", "encode", "decode",
           "Alignment", "read_alignment", "Model", "fit", "fit_tfm", "read_model"]


class SeqloopError(Exception):
    """An error reported by seqloop's C library; .status is its status code."""
    def __init__(self, msg, status=lib.SL_EINTERNAL):
        super().__init__(msg)
        self.status = status


class InputError(SeqloopError, ValueError):
    """Malformed or unusable input (SL_EINPUT, SL_EIO)."""


class UsageError(SeqloopError, ValueError):
    """Bad arguments, or a model kind that cannot do this (SL_EUSAGE)."""


def _raise(status, err):
    msg = ffi.string(err.msg).decode("utf-8", "replace")
    cls = InputError if status in (lib.SL_EINPUT, lib.SL_EIO) else UsageError if status == lib.SL_EUSAGE else SeqloopError
    if status == lib.SL_ENOMEM:
        raise MemoryError(msg or "out of memory")
    raise cls(msg, status)


def version():
    """The version of the loaded C library (sl_version())."""
    return ffi.string(lib.sl_version()).decode()


__version__ = version()


def _threads(threads):
    """threads, or seqloop's default (OMP_NUM_THREADS, SLURM_CPUS_PER_TASK, the cores), as the CLI."""
    return int(threads) if threads else int(lib.sl_threads_default())


# ---- interruption --------------------------------------------------------
# The C call runs in a worker thread (GIL released); the main thread waits
# in short joins, so a KeyboardInterrupt reaches it at once. Then the call
# is asked to stop where it can (the Potts fit's L-BFGS callback returns
# nonzero; a design campaign's oracle callback raises, which rolls back the
# round's transaction) and otherwise runs to its end, and what it allocated
# is freed; nothing is returned and no file is left half-written (the C
# library writes every output to a temporary file renamed on success).
_cancel = threading.local()
_stop = threading.Event()


def _interruptible(fn, cleanup=None):
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return fn()
    box = {}

    def work():
        try:
            box["value"] = fn()
        except BaseException as e:  # noqa: B902 - handed to the caller
            box["error"] = e

    t = threading.Thread(target=work, daemon=True)
    _stop.clear()
    t.start()
    try:
        while t.is_alive():
            t.join(0.05)
    except KeyboardInterrupt:
        _stop.set()
        t.join()
        if "value" in box and cleanup:
            cleanup(box["value"])
        raise
    if "error" in box:
        raise box["error"]
    return box["value"]


@ffi.def_extern()
def _py_plm_progress(ctx, it, n_evals, fx, gnorm, xnorm, seconds):
    return 1 if _stop.is_set() else 0


@ffi.def_extern()
def _py_tfm_progress(ctx, step, lr, loss, ntok, seconds, eval_nll, is_eval):
    return 1 if _stop.is_set() else 0


# ---- alphabets -------------------------------------------------------------
def _alphabet(name):
    t = lib.sl_alphabet_parse(name.encode())
    if t < 0:
        raise UsageError("unknown alphabet %r (protein, dna or rna)" % name, lib.SL_EUSAGE)
    return lib.sl_alphabet_get(t)


def _symbols(abc):
    return ffi.string(abc.symbols).decode()


def encode(seqs, alphabet="protein"):
    """Sequences (str, all of one length; '-' or '.' for gaps) as an N x L
    uint8 array of alphabet codes. A character outside the alphabet raises."""
    abc = _alphabet(alphabet) if isinstance(alphabet, str) else alphabet
    single = isinstance(seqs, str)
    seqs = [seqs] if single else list(seqs)
    if not seqs:
        return np.zeros((0, 0), np.uint8)
    L = len(seqs[0])
    table = np.frombuffer(ffi.buffer(abc.code, 256), np.uint8)
    cls = np.frombuffer(ffi.buffer(abc.cls, 256), np.uint8)
    out = np.empty((len(seqs), L), np.uint8)
    for k, s in enumerate(seqs):
        b = np.frombuffer(s.encode("latin-1"), np.uint8)
        if len(b) != L:
            raise InputError("sequence %d has %d columns, sequence 0 has %d" % (k, len(b), L), lib.SL_EINPUT)
        bad = (cls[b] != lib.SL_CH_RESIDUE) & (cls[b] != lib.SL_CH_GAP)
        if bad.any():
            i = int(np.argmax(bad))
            raise InputError("sequence %d: '%s' at column %d is not a %s state" %
                             (k, s[i], i + 1, ffi.string(abc.name).decode()), lib.SL_EINPUT)
        out[k] = table[b]
    return out[0] if single else out


def decode(codes, alphabet="protein"):
    """Codes (L or N x L) back to strings ('-' for gaps)."""
    abc = _alphabet(alphabet) if isinstance(alphabet, str) else alphabet
    sym = np.frombuffer(_symbols(abc).encode(), np.uint8)
    codes = np.asarray(codes, np.uint8)
    if codes.ndim == 1:
        return sym[codes].tobytes().decode()
    return [sym[r].tobytes().decode() for r in codes]


# ---- alignments -------------------------------------------------------------
class Alignment:
    """A preprocessed alignment: codes (N x L uint8), names, weights (N),
    neff, pos (L residue numbers of the focus, 0 without one), focus (row
    index or -1), alphabet, and the ingestion counts in .report."""

    def __init__(self, _msa, weights, neff):
        self._msa = _msa
        m = _msa
        self.N, self.L = int(m.N), int(m.L)
        self.codes = np.frombuffer(ffi.buffer(m.x, self.N * self.L), np.uint8).reshape(self.N, self.L).copy()
        self.codes.setflags(write=False)
        self._names = None
        self.pos = np.frombuffer(ffi.buffer(m.pos, 8 * self.L), np.int64).copy()
        self.focus = int(m.focus)
        self.alphabet = ffi.string(m.abc.name).decode()
        self.symbols = _symbols(m.abc)
        self.weights = weights
        self.neff = neff
        self.sha256 = ffi.string(m.sha256).decode()
        self.path = ffi.string(m.path).decode("utf-8", "replace")
        self.theta, self.weights_convention = None, None
        r = m.rep
        self.report = {"records": r.n_records, "rows_kept": r.n_kept, "cols_in": r.cols_in, "cols_kept": r.cols_kept}

    def __del__(self):
        if getattr(self, "_msa", None) is not None:
            lib.sl_msa_destroy(self._msa)
            self._msa = None

    def __len__(self):
        return self.N

    @property
    def names(self):
        """The N row names (made on first use)."""
        if self._names is None:
            m = self._msa
            self._names = [ffi.string(m.name[k]).decode("utf-8", "replace") for k in range(self.N)]
        return self._names

    def write_weights(self, path, plmc_format=False):
        """The weights file `seqloop weights` writes (one line per input
        record, 0 for records ingestion dropped; plmc_format: bare numbers)."""
        err = ffi.new("sl_error *")
        w = np.ascontiguousarray(self.weights, np.float64)
        prov = ("# seqloop %s (python): weights %s, theta %s\n" % (version(), self.weights_convention, self.theta)).encode()
        st = lib.sl_weights_write(os.fsencode(path), self._msa, ffi.from_buffer("double[]", w), int(bool(plmc_format)),
                                  prov, err)
        if st:
            _raise(st, err)

    def __repr__(self):
        return "<seqloop.Alignment N=%d L=%d Neff=%.1f %s>" % (self.N, self.L, self.neff, self.alphabet)

    def sequences(self):
        return decode(self.codes, self.alphabet)

    def reweight(self, theta=0.2, convention="plmc", threads=None):
        """Recompute the weights (and Neff) in place; returns self."""
        self.weights, self.neff = _weights(self._msa, theta, convention, threads)
        self.theta, self.weights_convention = float(theta), convention
        return self


def _weights(msa, theta, convention, threads):
    wo = ffi.new("sl_weights_opts *")
    lib.sl_weights_opts_init(wo)
    c = lib.sl_weights_convention_parse(convention.encode())
    if c < 0:
        raise UsageError("unknown weights convention %r (plmc or eve)" % convention, lib.SL_EUSAGE)
    wo.convention, wo.theta, wo.threads = c, float(theta), _threads(threads)
    w = np.empty(int(msa.N), np.float64)
    neff = ffi.new("double *")
    err = ffi.new("sl_error *")
    st = lib.sl_weights_compute(msa, wo, ffi.from_buffer("double[]", w), neff, err)
    if st:
        _raise(st, err)
    return w, float(neff[0])


def read_alignment(path, focus=None, focus_first=False, max_gap_frac=1.0, min_coverage=0.0,
                   nonstandard="drop", alphabet=None, theta=0.2, convention="plmc", threads=None,
                   evc_seq_coverage=0.0, evc_col_coverage=0.0):
    """Read FASTA/A2M/A3M/Stockholm (gzip or not) as `seqloop` does (the same
    options and defaults: docs/cli.md), and weight its rows. evc_seq_coverage
    and evc_col_coverage: EVcouplings' fragment and column-coverage filters
    (focus mode; `seqloop fit --preset proteingym` uses 0.5 and 0.7)."""
    o = ffi.new("sl_msa_opts *")
    lib.sl_msa_opts_init(o)
    keep = []
    if focus is not None:
        keep.append(ffi.new("char[]", focus.encode()))
        o.focus = keep[-1]
    o.focus_first = int(bool(focus_first))
    o.max_gap_frac, o.min_coverage = float(max_gap_frac), float(min_coverage)
    o.evc_min_seq_cov, o.evc_min_col_cov = float(evc_seq_coverage), float(evc_col_coverage)
    if nonstandard not in ("drop", "gap"):
        raise UsageError("nonstandard must be 'drop' or 'gap'", lib.SL_EUSAGE)
    o.nonstd = 1 if nonstandard == "gap" else 0
    if alphabet:
        o.alphabet = lib.sl_alphabet_parse(alphabet.encode())
    pm = ffi.new("sl_msa **")
    err = ffi.new("sl_error *")
    st = lib.sl_msa_read(os.fsencode(path), o, pm, err)
    if st:
        _raise(st, err)
    msa = pm[0]
    try:
        w, neff = _weights(msa, theta, convention, threads)
    except BaseException:
        lib.sl_msa_destroy(msa)
        raise
    a = Alignment(msa, w, neff)
    a.theta, a.weights_convention = float(theta), convention
    return a


# ---- models -----------------------------------------------------------------
class Model:
    """A fitted model of any kind. name (the kind: "potts", ...), L, q, caps; fields (L x q) and
    couplings (L x L x q x q, pairwise kinds) as numpy copies; focus (codes
    of the reference row), pos (its residue numbers)."""

    def __init__(self, ptr):
        self._m = ptr
        self.name = ffi.string(lib.sl_model_name(ptr)).decode()  # the kind's name ("potts", ...)
        self.L, self.q = int(ptr.L), int(ptr.q)
        self.alphabet = ffi.string(ptr.abc.name).decode()
        self.symbols = _symbols(ptr.abc)
        caps = lib.sl_model_caps(ptr)
        self.caps = {n for n, f in (("normalised", lib.SL_CAP_NORMALISED), ("exact_sample", lib.SL_CAP_EXACT_SAMPLE),
                                    ("couplings", lib.SL_CAP_COUPLINGS), ("conditionals", lib.SL_CAP_CONDITIONALS),
                                    ("aligned", lib.SL_CAP_ALIGNED), ("independent", lib.SL_CAP_INDEPENDENT)) if caps & f}

    def __del__(self):
        if getattr(self, "_m", None) is not None:
            lib.sl_model_destroy(self._m)
            self._m = None

    def __repr__(self):
        return "<seqloop.Model %s L=%d q=%d>" % (self.name, self.L, self.q)

    @property
    def focus(self):
        return np.frombuffer(ffi.buffer(self._m.focus, self.L), np.uint8).copy()

    @property
    def pos(self):
        return np.frombuffer(ffi.buffer(self._m.pos, 8 * self.L), np.int64).copy()

    @property
    def meta(self):
        """The model file's meta (fit options and provenance), as a dict."""
        import json
        return json.loads(ffi.string(self._m.meta).decode()) if self._m.meta != ffi.NULL else {}

    @property
    def fields(self):
        if self._m.h == ffi.NULL:
            return None
        return np.frombuffer(ffi.buffer(self._m.h, 4 * self.L * self.q), np.float32).reshape(self.L, self.q).copy()

    @property
    def couplings(self):
        if self._m.J == ffi.NULL:
            return None
        n = self.L * self.L * self.q * self.q
        return np.frombuffer(ffi.buffer(self._m.J, 4 * n), np.float32).reshape(self.L, self.L, self.q, self.q).copy()

    def write(self, path):
        """Write a seqloop model file (atomically)."""
        err = ffi.new("sl_error *")
        st = lib.sl_model_write(os.fsencode(path), self._m, err)
        if st:
            _raise(st, err)

    def write_plmc(self, path, alignment):
        """Write plmc's binary parameter file (EVcouplings' CouplingsModel
        reads it), complete as plmc writes it: the alignment's weights, N_valid,
        N_invalid, f_i and f_ij (docs/formats.md). alignment: the training
        Alignment (its weights are the ones used)."""
        fit = self.meta.get("fit", {})
        err = ffi.new("sl_error *")
        w = np.ascontiguousarray(alignment.weights, np.float64)
        st = lib.sl_model_write_plmc_msa(os.fsencode(path), self._m, alignment._msa, ffi.from_buffer("double[]", w),
                                         float(alignment.theta if alignment.theta is not None else 0.2),
                                         float(fit.get("lambda_h", 0)), float(fit.get("lambda_J", 0)),
                                         int(fit.get("max_iter", 0)), err)
        if st:
            _raise(st, err)

    def weight_by_rsa(self, structure, chain="A", min_identity=0.5):
        """RSALOR's weighting, as `--structure FILE[:CHAIN]` on `seqloop fit`
        and `score`: the chain's Shrake-Rupley RSA, the focus aligned to the
        chain, each aligned column's fields times 1 - min(RSA, 100)/100 (1
        elsewhere), in place; recorded in the model's meta (fit.rsa). Only
        for field-only models (lor, gemme, profile). Returns the L factors."""
        import json
        meta = self.meta
        if (meta.get("fit") or {}).get("rsa") or (meta.get("fit") or {}).get("rsa_factor"):
            raise UsageError("the model is already scaled by RSA (its metadata records it)", lib.SL_EUSAGE)
        if self._m.J != ffi.NULL:
            raise UsageError("weight_by_rsa scales field-only models (lor, gemme, profile); the %s model "
                             "has couplings" % self.name, lib.SL_EUSAGE)
        fac = np.empty(self.L, np.float64)
        rm = ffi.new("sl_rsa_map *")
        err = ffi.new("sl_error *")
        st = lib.sl_rsa_model_factors(self._m, os.fsencode(structure), chain.encode(), 100, float(min_identity),
                                      ffi.from_buffer("double[]", fac), rm, err)
        if not st:
            st = lib.sl_model_scale_columns(self._m, ffi.from_buffer("double[]", fac), err)
        if st:
            _raise(st, err)
        meta.setdefault("fit", {})["rsa"] = {
            "structure": str(structure), "chain": chain,
            "method": "Shrake-Rupley, 100 points, probe 1.4 A; max ASA Tien 2013",
            "formula": "1 - min(RSA,100)/100", "residues": int(rm.n_res), "aligned": int(rm.aligned),
            "weighted": int(rm.mapped), "identity": float(rm.identity), "factors": fac.tolist()}
        st = lib.slpy_model_set_meta(self._m, json.dumps(meta).encode(), err)
        if st:
            _raise(st, err)
        return fac

    def _codes(self, seqs):
        x = encode(seqs, self.alphabet) if (isinstance(seqs, str) or (len(seqs) and isinstance(seqs[0], str))) \
            else np.asarray(seqs, np.uint8)
        single = x.ndim == 1
        x = np.ascontiguousarray(x.reshape(1, -1) if single else x, np.uint8)
        if x.shape[1] != self.L:
            raise InputError("sequences have %d columns; the model has %d" % (x.shape[1], self.L), lib.SL_EINPUT)
        if x.size and int(x.max()) >= self.symbols.__len__():
            raise InputError("code %d is outside the %s alphabet" % (int(x.max()), self.alphabet), lib.SL_EINPUT)
        return x, single

    def _many(self, seqs, normalised, threads):
        x, single = self._codes(seqs)
        out = np.empty(len(x), np.float64)
        err = ffi.new("sl_error *")
        st = lib.slpy_score_many(self._m, ffi.from_buffer("uint8_t[]", x), len(x), normalised, _threads(threads),
                                 ffi.from_buffer("double[]", out), err)
        if st:
            _raise(st, err)
        return out[0] if single else out

    def _unaligned(self, seqs):
        return "aligned" not in self.caps and (isinstance(seqs, str) or all(isinstance(x, str) for x in seqs))

    def score(self, seqs, threads=None):
        """The model's score of sequences (codes N x L, or strings): the energy
        for potts, the sum of fields for a profile, log P for ar and tfm
        (a tfm takes strings of any length; gaps are ignored)."""
        return self.logp_sequences(seqs, threads) if self._unaligned(seqs) else self._many(seqs, 0, threads)

    def logp(self, seqs, threads=None):
        """Exact normalised log P (nats) of sequences; UsageError for kinds
        without a normalised likelihood (potts). A tfm takes strings of any
        length (logp_sequences)."""
        return self.logp_sequences(seqs, threads) if self._unaligned(seqs) else self._many(seqs, 1, threads)

    def logp_sequences(self, seqs, threads=None):
        """log P (nats, end token included) of unaligned sequences (strings of
        any length up to the context; '-' and '.' ignored) under a tfm model:
        the `logp_nats` of `seqloop score --perplexity`."""
        single = isinstance(seqs, str)
        items = [seqs] if single else list(seqs)
        keep = [ffi.new("char[]", x.encode()) for x in items]
        arr = ffi.new("char *[]", keep)
        out = np.empty(len(items), np.float64)
        err = ffi.new("sl_error *")
        st = lib.slpy_tfm_logp(self._m, arr, len(items), _threads(threads), ffi.from_buffer("double[]", out), err)
        if st:
            _raise(st, err)
        return out[0] if single else out

    def delta(self, mutants, sep=":", offset=0, reference=None, skip_invalid=False, threads=None):
        """score(mutant) - score(reference) for mutant strings ("A42G",
        "A42G:C50D"; sep joins the mutations of one variant; "" or "WT" is
        the reference). reference: codes or a string (default: the focus).
        offset is added to residue numbers; skip_invalid: NaN for a mutant
        that does not fit the model (else InputError naming it)."""
        single = isinstance(mutants, str)
        ms = [mutants] if single else list(mutants)
        if sep != ":":
            ms = [m.replace(sep, ":") for m in ms]
        ref = self.focus if reference is None else self._codes(reference)[0][0]
        ref = np.ascontiguousarray(ref, np.uint8)
        keep = [ffi.new("char[]", m.encode()) for m in ms]
        arr = ffi.new("const char *[]", keep) if keep else ffi.NULL
        out = np.empty(len(ms), np.float64)
        err = ffi.new("sl_error *")
        st = lib.slpy_delta_many(self._m, ffi.from_buffer("uint8_t[]", ref), arr, len(ms), int(offset),
                                 int(bool(skip_invalid)), _threads(threads), ffi.from_buffer("double[]", out), err)
        if st:
            _raise(st, err)
        return out[0] if single else out

    def all_singles(self, reference=None):
        """Every single mutant of the reference (default: the focus) as an
        L x q matrix (columns: the alphabet's symbols, .symbols; column 0 the
        gap): the delta, 0 at the reference state, NaN for the gap state and
        at columns whose reference is a gap."""
        ref = self.focus if reference is None else self._codes(reference)[0][0]
        ref = np.ascontiguousarray(ref, np.uint8)
        out = np.empty((self.L, self.q if self.q == len(self.symbols) else len(self.symbols)), np.float64)
        err = ffi.new("sl_error *")
        st = lib.slpy_all_singles(self._m, ffi.from_buffer("uint8_t[]", ref), ffi.from_buffer("double[]", out), err)
        if st:
            _raise(st, err)
        return out

    def sample(self, n, temperature=1.0, fixed=None, seed=0, threads=None, burnin=200, thin=10, chains=4):
        """n sequences as an n x L code array (and their log P, or energies
        for Gibbs samplers). Exact ancestral draws for kinds that have them
        (ar, tfm), else Gibbs chains (profile, potts; burnin, thin, chains).
        fixed: {column (0-based): symbol or code} or an L array of codes with
        255 for free sites, clamped in every sample."""
        fx = None
        if fixed is not None:
            fx = np.full(self.L, 255, np.uint8)
            if isinstance(fixed, dict):
                for i, a in fixed.items():
                    fx[int(i)] = self.symbols.index(a.upper()) if isinstance(a, str) else int(a)
            else:
                fx[:] = np.asarray(fixed, np.uint8)
        err = ffi.new("sl_error *")
        n = int(n)
        if "exact_sample" in self.caps:
            R = int(lib.sl_model_row_len(self._m))
            out, lp = np.empty((n, R), np.uint8), np.empty(n, np.float64)
            d = ffi.new("sl_draw_opts *")
            lib.sl_draw_opts_init(d)
            d.T = float(temperature)
            if fx is not None:
                d.fixed = ffi.from_buffer("uint8_t[]", fx)
            st = _interruptible(lambda: lib.sl_sample_ancestral(
                self._m, d, n, int(seed), _threads(threads), ffi.NULL, ffi.from_buffer("uint8_t[]", out),
                ffi.NULL, ffi.from_buffer("double[]", lp), err))
        else:
            out, lp = np.empty((n, self.L), np.uint8), np.empty(n, np.float64)
            g = ffi.new("sl_gibbs_opts *")
            lib.sl_gibbs_opts_init(g)
            g.T, g.seed, g.threads = float(temperature), int(seed), _threads(threads)
            g.burnin, g.thin, g.chains = int(burnin), int(thin), int(chains)
            if fx is not None:
                g.fixed = ffi.from_buffer("uint8_t[]", fx)
            rhat = ffi.new("double *")
            st = _interruptible(lambda: lib.sl_gibbs_sample(self._m, g, n, ffi.from_buffer("uint8_t[]", out),
                                                            ffi.from_buffer("double[]", lp), rhat, err))
        if st:
            _raise(st, err)
        return out, lp

    def contacts(self, gauge="raw", apc=True):
        """Coupling scores as an L x L matrix: the Frobenius norm of each J_ij
        with the average product correction (apc=False: before it); gauge
        "raw" (plmc) or "zerosum" (EVcouplings)."""
        g = {"raw": 0, "zerosum": 1}.get(gauge)
        if g is None:
            raise UsageError("gauge must be 'raw' or 'zerosum'", lib.SL_EUSAGE)
        fn, raw = np.empty((self.L, self.L)), np.empty((self.L, self.L))
        err = ffi.new("sl_error *")
        st = lib.sl_coupling_scores(self._m, g, ffi.from_buffer("double[]", fn), ffi.from_buffer("double[]", raw), err)
        if st:
            _raise(st, err)
        return fn if apc else raw


def read_model(path):
    """Read a seqloop model file (any kind)."""
    pm = ffi.new("sl_model **")
    err = ffi.new("sl_error *")
    st = lib.sl_model_read(os.fsencode(path), pm, err)
    if st:
        _raise(st, err)
    return Model(pm[0])


def _meta(aln, kind, preset, lh, lj, gaps_missing, max_iter, report):
    """The model file's meta: what `seqloop fit` records (fit options,
    provenance with the version, ingestion), from Python."""
    import json
    return json.dumps({
        "fit": {"model": kind, "preset": preset if kind != "ar" else "ardca", "lambda_h": lh,
                **({} if kind == "profile" else {"lambda_J": lj}),
                **({"max_iter": max_iter} if kind == "potts" else {}),
                "gap_missing": bool(gaps_missing), "weights": aln.weights_convention, "theta": aln.theta},
        "provenance": {"program": "seqloop", "version": version(), "command": "fit", "api": "python",
                       "input": aln.path, "input_sha256": aln.sha256},
        "ingest": aln.report, **({"result": report} if report else {})})


_PRESETS = ("evcouplings", "evmutation", "plmc", "plmc-readme")


def fit(aln, kind="potts", preset="evcouplings", lambda_h=None, lambda_j=None, gaps_missing=False,
        max_iter=0, order="entropy", threads=None):
    """Fit a model to an Alignment with its weights, as `seqloop fit` does
    (same defaults): kind "profile", "potts" (pseudo-likelihood, preset's
    lambdas), "ar" (arDCA, order "entropy" or "natural" or a permutation),
    "lor" or "gemme" (zero-shot scorers with fixed constants; need a focus).
    preset "proteingym": gaps missing, evcouplings lambdas, at most 100
    iterations, and for a profile EVcouplings' independent-model objective;
    read the alignment with evc_seq_coverage=0.5, evc_col_coverage=0.7 for
    EVcouplings' filters (docs/potts.md)."""
    if not isinstance(aln, Alignment):
        raise TypeError("fit() needs a seqloop.Alignment (read_alignment)")
    err = ffi.new("sl_error *")
    pm = ffi.new("sl_model **")
    w = ffi.from_buffer("double[]", np.ascontiguousarray(aln.weights, np.float64))
    if len(aln.weights) != aln.N:
        raise UsageError("weights: %d values for %d rows" % (len(aln.weights), aln.N), lib.SL_EUSAGE)
    o = ffi.new("sl_plm_opts *")
    lib.sl_plm_opts_init(o)
    pgym = preset == "proteingym"
    if pgym:
        if kind not in ("potts", "profile"):
            raise UsageError("preset 'proteingym' is for potts and profile", lib.SL_EUSAGE)
        gaps_missing, max_iter = True, (max_iter or 100)
    q = len(aln.symbols) - int(bool(gaps_missing))
    st = lib.sl_plm_preset(b"evcouplings" if pgym else preset.encode(), aln.L, q, o, err)
    if st:
        _raise(st, err)
    if lambda_h is not None:
        o.lambda_h = float(lambda_h)
    if lambda_j is not None:
        o.lambda_J = float(lambda_j)
    o.gap_missing, o.max_iter, o.threads = int(bool(gaps_missing)), int(max_iter), _threads(threads)
    msa = aln._msa
    free = lambda st: lib.sl_model_destroy(pm[0]) if st == 0 else None  # noqa: E731
    if kind == "potts":
        o.progress = lib._py_plm_progress
        rep = ffi.new("sl_plm_report *")
        st = _interruptible(lambda: lib.sl_potts_fit_plm(msa, w, o, pm, rep, err), free)
    elif kind == "profile":
        pf = lib.sl_profile_fit_evc if pgym else lib.sl_profile_fit
        st = _interruptible(lambda: pf(msa, w, o.lambda_h, o.gap_missing, pm, err), free)
    elif kind in ("lor", "gemme"):
        if gaps_missing or lambda_h is not None or lambda_j is not None:
            raise UsageError("kind %r has fixed constants: no gaps_missing, lambda_h or lambda_j" % kind,
                             lib.SL_EUSAGE)
        if kind == "lor":
            st = _interruptible(lambda: lib.sl_lor_fit(msa, w, 0.01, pm, err), free)
        else:
            st = _interruptible(lambda: lib.sl_gemme_fit(msa, w, 0.6, pm, err), free)
    elif kind == "ar":
        ao = ffi.new("sl_ar_opts *")
        lib.sl_ar_opts_init(ao)
        if lambda_h is not None:
            ao.lambda_h = float(lambda_h)
        if lambda_j is not None:
            ao.lambda_J = float(lambda_j)
        ao.threads, ao.max_iter = o.threads, o.max_iter
        keep = None
        if isinstance(order, str) and order in ("entropy", "natural"):
            ao.order_kind = 0 if order == "entropy" else 1
        else:
            keep = np.ascontiguousarray(order, np.int64)
            if sorted(keep.tolist()) != list(range(aln.L)):
                raise UsageError("order: not a permutation of 0..L-1", lib.SL_EUSAGE)
            ao.order_kind, ao.order = 2, ffi.from_buffer("int64_t[]", keep)
        rep = ffi.new("sl_ar_report *")
        st = _interruptible(lambda: lib.sl_ar_fit(msa, w, ao, pm, rep, err), free)
    else:
        raise UsageError("unknown model kind %r (profile, potts, ar, lor or gemme; tfm: fit_tfm)" % kind,
                         lib.SL_EUSAGE)
    if st:
        _raise(st, err)
    m = Model(pm[0])
    if kind == "potts":
        report = {"objective": rep.fx, "neg_log_pseudolikelihood": rep.neg_loglk, "iterations": rep.iterations,
                  "evaluations": rep.evaluations}
        lh, lj = o.lambda_h, o.lambda_J
    elif kind == "ar":
        report = {"neg_loglk": rep.neg_loglk, "objective": rep.objective, "iterations": rep.iterations}
        lh, lj = ao.lambda_h, ao.lambda_J
    else:
        report, lh, lj = None, o.lambda_h, None
    meta = _meta(aln, kind, preset, lh, lj, gaps_missing, max_iter, report)
    if kind in ("lor", "gemme"):
        import json
        mj = json.loads(meta)
        for k in ("preset", "lambda_h", "lambda_J"):
            mj["fit"].pop(k, None)
        mj["fit"]["constants"] = "r=0.01" if kind == "lor" else "alpha=0.6 r=0.01"
        meta = json.dumps(mj)
    meta = meta.encode()
    st = lib.slpy_model_finish(pm[0], msa, meta, err)
    if st:
        _raise(st, err)
    return m


def fit_tfm(data, weights=None, layers=2, width=64, heads=4, context=None, steps=None, batch=None, lr=None,
            warmup=None, min_lr_frac=None, weight_decay=None, clip=None, seed=0, threads=None, reference=None):
    """Train the transformer language model (docs/tfm.md) as `seqloop fit
    --model tfm` does, on every row given (no held-out split: choose the
    rows), and return it as a Model (write() gives a model file that
    `seqloop score` and `seqloop sample` read).

    data: an Alignment (its rows over the model columns, gaps removed, with
    its weights; the focus row, or row 0, is the reference) or a list of
    strings (unaligned; weights 1 unless `weights`; the first string's
    residues are the reference, numbered from 1). Rows with non-standard
    residues (X B Z U O J) are skipped, as the CLI skips them; the count is
    the returned model's `.skipped`. Options are the CLI's (None: its default:
    1000 steps, batch 16, lr 1e-3, warm-up steps/20, min-lr-frac 0.1,
    weight decay 0.1, clip 1; context: longest row + 2, at most 512). The
    same seed gives the same model for any thread count. Ctrl-C stops it
    at the next step (KeyboardInterrupt)."""
    import json
    if isinstance(data, Alignment):
        seqs = decode(data.codes, data.alphabet)
        w = np.ascontiguousarray(data.weights if weights is None else weights, np.float64)
        row = data.focus if data.focus >= 0 else 0
        ref = seqs[row]
        ref_pos = np.ascontiguousarray(data.pos if data.focus >= 0 else np.arange(1, data.L + 1), np.int64)
        ref_name = data.names[data.focus] if data.focus >= 0 else None
        src = {"input": data.path, "input_sha256": data.sha256}
    else:
        seqs = [data] if isinstance(data, str) else list(data)
        w = None if weights is None else np.ascontiguousarray(weights, np.float64)
        ref = "".join(c for c in seqs[0] if c not in "-.").upper() if seqs else ""
        ref_pos, ref_name, src = None, None, {}
    if reference is not None:
        ref, ref_pos = "".join(c for c in reference if c not in "-.").upper(), None
    if w is not None and len(w) != len(seqs):
        raise UsageError("weights: %d values for %d sequences" % (len(w), len(seqs)), lib.SL_EUSAGE)
    cfg = ffi.new("sl_tfm_config *", {"n_layer": int(layers), "d_model": int(width), "n_head": int(heads),
                                      "n_ctx": int(context or 0), "vocab": lib.SL_TFM_VOCAB})
    o = ffi.new("sl_tfm_train_opts *")
    lib.sl_tfm_train_opts_init(o)
    for name, v in (("steps", steps), ("batch", batch), ("lr", lr), ("warmup", warmup), ("min_lr_frac", min_lr_frac),
                    ("weight_decay", weight_decay), ("clip", clip)):
        if v is not None:
            setattr(o, name, v)
    o.seed, o.threads, o.eval_every = int(seed), _threads(threads), 0
    o.progress = lib._py_tfm_progress
    options = {"layers": int(layers), "width": int(width), "heads": int(heads), "context": int(context or 0),
               "steps": int(o.steps), "batch": int(o.batch), "lr": float(o.lr), "warmup": int(o.warmup),
               "min_lr_frac": float(o.min_lr_frac), "weight_decay": float(o.weight_decay), "clip": float(o.clip),
               "seed": int(seed), "rows": len(seqs), "weighted": w is not None}
    meta = json.dumps({"fit": {"model": "tfm", "options": options},
                       "provenance": {"program": "seqloop", "version": version(), "command": "fit", "api": "python",
                                      **src}}).encode()
    keep = [ffi.new("char[]", x.encode()) for x in seqs]
    arr = ffi.new("char *[]", keep)
    wp = ffi.NULL if w is None else ffi.from_buffer("double[]", w)
    pp = ffi.NULL if ref_pos is None else ffi.from_buffer("int64_t[]", ref_pos)
    pm = ffi.new("sl_model **")
    nskip = ffi.new("int64_t *")
    err = ffi.new("sl_error *")
    free = lambda st: lib.sl_model_destroy(pm[0]) if st == 0 else None  # noqa: E731
    st = _interruptible(lambda: lib.slpy_tfm_fit(arr, wp, len(seqs), ref.encode(), pp,
                                                 ref_name.encode() if ref_name else ffi.NULL, cfg, o, meta, pm,
                                                 nskip, err), free)
    if st:
        _raise(st, err)
    m = Model(pm[0])
    m.skipped = int(nskip[0])
    return m


# ---- splits and leakage -------------------------------------------------------------
def split(aln, method="cluster", identity=0.8, t2=0.95, test_frac=0.2, seed=1, keep_focus=True):
    """Homology-aware train/test split of an Alignment, as `seqloop split`:
    labels (N int8: 0 train, 1 test, -1 dropped) and a report dict."""
    o = ffi.new("sl_split_opts *")
    lib.sl_split_opts_init(o)
    mth = lib.sl_split_method_parse(method.encode())
    if mth < 0:
        raise UsageError("unknown split method %r (cluster, cobalt, random)" % method, lib.SL_EUSAGE)
    o.method, o.t1, o.t2, o.test_frac, o.seed = mth, float(identity), float(t2), float(test_frac), int(seed)
    labels = np.empty(aln.N, np.int8)
    rep = ffi.new("sl_split_report *")
    err = ffi.new("sl_error *")
    keep = aln.focus if keep_focus else -1
    st = _interruptible(lambda: lib.sl_split(aln._msa.x, aln.N, aln.L, keep, o, ffi.from_buffer("int8_t[]", labels),
                                             rep, err))
    if st:
        _raise(st, err)
    return labels, {"n_train": rep.n_train, "n_test": rep.n_test, "n_dropped": rep.n_dropped,
                    "n_clusters": rep.n_clusters, "n_test_clusters": rep.n_test_clusters}


def leakage(train, test, threshold=0.8, threads=None):
    """The leakage audit (`seqloop audit --train A --test B`): for each test
    row its highest identity to any training row (max_id, nearest), the
    histogram, counts above 0.3 ... 1.0, and the verdict at threshold."""
    a = np.ascontiguousarray(train.codes if isinstance(train, Alignment) else train, np.uint8)
    b = np.ascontiguousarray(test.codes if isinstance(test, Alignment) else test, np.uint8)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise UsageError("train and test must be N x L code arrays over the same L columns", lib.SL_EUSAGE)
    pl = ffi.new("sl_leakage **")
    err = ffi.new("sl_error *")
    st = _interruptible(lambda: lib.sl_leakage_compute(ffi.from_buffer("uint8_t[]", a), len(a),
                                                       ffi.from_buffer("uint8_t[]", b), len(b), a.shape[1],
                                                       float(threshold), _threads(threads), 0, pl, err))
    if st:
        _raise(st, err)
    lk = pl[0]
    try:
        n = int(lk.n_test)
        return {"max_id": np.frombuffer(ffi.buffer(lk.max_id, 8 * n), np.float64).copy(),
                "nearest": np.frombuffer(ffi.buffer(lk.nearest, 8 * n), np.int64).copy(),
                "hist": np.array(list(lk.hist)), "thresholds": np.array(list(lib.sl_leak_thresholds)),
                "above": np.array(list(lk.above)), "mean": lk.mean, "median": lk.median, "max": lk.max,
                "threshold": lk.threshold, "n_leaky": int(lk.n_leaky), "held_out": bool(lk.held_out)}
    finally:
        lib.sl_leakage_destroy(lk)


# ---- design -------------------------------------------------------------------------------
class _OracleError:  # the exception of the running callback (the loop runs in a worker thread)
    exc = None


_oracle_error = _OracleError()


def _oracle_onerror(exc, val, tb):
    _oracle_error.exc = val
    return lib.SL_EINPUT  # the round fails and is rolled back; design() re-raises val


@ffi.def_extern(onerror=_oracle_onerror)
def _py_oracle(ctx, seqs, n, y, err):
    if _stop.is_set():
        raise KeyboardInterrupt
    fn = ffi.from_handle(ctx)
    batch = [ffi.string(seqs[k]).decode() for k in range(n)]
    vals = list(fn(batch))
    if len(vals) != n:
        raise ValueError("the oracle returned %d values for %d sequences" % (len(vals), n))
    for k, v in enumerate(vals):
        y[k] = float("nan") if v is None else float(v)
    return 0


# design()'s other options: the keys of the campaign's stored options (the
# ledger's runs.options; docs/design.md), each the field it sets and its
# type. Ranges are checked by the library (sl_design_opts_check), as the
# command line checks them.
_DESIGN_OPTIONS = {
    "beta": ("beta", float), "predictor": ("use_predictor", bool), "mutations": ("mutations", int),
    "max_edits": ("max_edits", int), "min_prior": ("min_prior", float), "prior_top": ("prior_top", float),
    "min_distance": ("min_distance", int),
    "population": ("population", int), "members": ("pred.members", int), "lambda": ("pred.lambda", float),
    "pairwise": ("pred.pairwise", bool), "prior_weight": ("pred.prior_weight", float),
    "descriptors": ("pred.descriptors", float), "order_weight": ("pred.order_weight", float),
    "conformal": ("conformal", str), "alpha": ("alpha", float), "query_lambda": ("query_lambda", float),
    "cal_lambda": ("cal_lambda", float), "cal_fraction": ("cal_fraction", float),
    "init_random": ("init_random", int), "oracle_noise": ("oracle_noise", float), "replicates": ("replicates", int),
}


def _set_design_options(o, options):
    for key, value in options.items():
        if key not in _DESIGN_OPTIONS:
            raise UsageError("design(): unknown option %r (known: %s)" % (key, ", ".join(sorted(_DESIGN_OPTIONS))),
                             lib.SL_EUSAGE)
        path, kind = _DESIGN_OPTIONS[key]
        if kind is str:
            code = lib.sl_conformal_method_parse(str(value).encode())
            if code < 0 or value == "split":  # split: the one-shot method, not a loop option
                raise UsageError("design(): conformal %r: expected none, jab, recent, weighted or batch" % (value,),
                                 lib.SL_EUSAGE)
            value = code
        elif kind is bool:
            if not isinstance(value, bool):
                raise UsageError("design(): %s: expected True or False, not %r" % (key, value), lib.SL_EUSAGE)
            value = int(value)
        elif kind is int:
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise UsageError("design(): %s: expected an integer, not %r" % (key, value), lib.SL_EUSAGE)
            value = int(value)
        else:
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise UsageError("design(): %s: expected a number, not %r" % (key, value), lib.SL_EUSAGE)
            value = float(value)
        target = o
        *parents, leaf = path.split(".")
        for part in parents:
            target = getattr(target, part)
        try:
            setattr(target, leaf, value)
        except OverflowError:
            raise UsageError("design(): %s: %r is out of range" % (key, value), lib.SL_EUSAGE) from None


def design(ledger, oracle, start=None, budget=None, rounds=None, batch=8, seed=1, proposer="mutate",
           acquisition="ucb", symbols=None, prior=None, prior_sites=None, naturals=None, candidates=1000,
           name="python", **options):
    """Run (or resume) a closed design loop in a ledger, as `seqloop design
    run`. oracle: a Python callable taking a list of sequences (str) and
    returning one value each (None or NaN: not measurable), or a spec string
    ("ehrlich:...", "table:FILE", "model:FILE"). The loop runs in C and calls
    the callable once per batch; each round is one ledger transaction, so an
    exception (or Ctrl-C) in the callable rolls that round back and is
    re-raised here. A callable is stored in the ledger as "callback:NAME":
    resume with the same name. Returns {"why", "last_round", "n_measured"}.

    options: the command line's other campaign options, named as the ledger
    stores them (`--init-random 96` is init_random=96, `--no-predictor` is
    predictor=False, `--lambda` is **{"lambda": 0.3}): beta, predictor,
    mutations, max_edits, min_prior, prior_top, min_distance, population, members,
    lambda, pairwise, prior_weight, descriptors, order_weight, conformal
    ("none", "jab", "recent", "weighted", "batch"), alpha, query_lambda, cal_lambda,
    cal_fraction, init_random, oracle_noise, replicates. Out-of-range values
    raise UsageError naming the option as the command line does."""
    o = ffi.new("sl_design_opts *")
    lib.sl_design_opts_init(o)
    _set_design_options(o, options)
    p, a = lib.sl_design_proposer_parse(proposer.encode()), lib.sl_design_acquisition_parse(acquisition.encode())
    if p < 0 or a < 0:
        raise UsageError("unknown %s %r" % (("proposer", proposer) if p < 0 else ("acquisition", acquisition)),
                         lib.SL_EUSAGE)
    o.proposer, o.acquisition, o.seed, o.batch, o.candidates = p, a, int(seed), int(batch), int(candidates)
    if rounds is not None:
        o.rounds = int(rounds)
    if budget is not None:
        o.budget = int(budget)
        if rounds is None:
            o.rounds = -1
    err = ffi.new("sl_error *")
    handle = None
    if callable(oracle):
        handle = ffi.new_handle(oracle)
        st = lib.sl_oracle_callback_register(name.encode(), lib._py_oracle, handle, err)
        if st:
            _raise(st, err)
        spec = "callback:" + name
    else:
        spec = str(oracle)
    s = lambda v: ffi.NULL if v is None else ffi.new("char[]", os.fsencode(v) if not isinstance(v, str) else v.encode())  # noqa: E731
    args = [s(ledger), s(spec), s(start), s(symbols), s(prior), s(prior_sites), s(naturals)]
    end = ffi.new("sl_design_end *")
    _oracle_error.exc = None
    try:
        st = _interruptible(lambda: lib.slpy_design_run(*args, o, int(rounds is not None), int(budget is not None),
                                                        end, err))
    finally:
        if handle is not None:
            lib.sl_oracle_callback_register(name.encode(), ffi.NULL, ffi.NULL, ffi.new("sl_error *"))
    exc = getattr(_oracle_error, "exc", None)
    _oracle_error.exc = None
    if st and exc is not None:
        raise exc
    if st:
        _raise(st, err)
    why = [w for b, w in ((1, "rounds"), (2, "budget"), (4, "stuck")) if end.why & b]
    return {"why": why, "last_round": int(end.last_round), "n_measured": int(end.n_measured)}


def ledger_tables(path, with_times=False):
    """Every table of a design ledger as a pandas DataFrame, keyed by name
    (runs, rounds, sequences, predictions, measurements, round_stats,
    intervals, draws): the
    same CSV as `seqloop ledger export`, read by pandas.read_csv."""
    import io

    import pandas as pd
    names = ffi.new("const char *const **")
    k = lib.sl_ledger_export_tables(names)
    out = {}
    for i in range(k):
        t = ffi.string(names[0][i]).decode()
        out[t] = pd.read_csv(io.StringIO(ledger_csv(path, t, with_times)))
    return out


def ledger_csv(path, table, with_times=False):
    """One ledger table as CSV text."""
    ret = ffi.new("char **")
    err = ffi.new("sl_error *")
    st = lib.slpy_ledger_csv(os.fsencode(path), table.encode(), int(bool(with_times)), ret, err)
    if st:
        _raise(st, err)
    try:
        return ffi.string(ret[0]).decode()
    finally:
        lib.slpy_free(ret[0])


__all__ += ["split", "leakage", "design", "ledger_tables", "ledger_csv"]
