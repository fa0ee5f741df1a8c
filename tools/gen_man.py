#!/usr/bin/python3
"""gen_man.py: man pages and bash completion for seqloop, generated from the
option tables themselves (`seqloop CMD --options-json`), so that they can never
disagree with -h. Used by `make install`; see docs/install.md.

  gen_man.py man SEQLOOP OUTDIR        seqloop.1 and seqloop-CMD.1 (CMD: fit, audit-cycle, ...)
  gen_man.py bash SEQLOOP OUTFILE      a bash completion script for seqloop
"""
import json
import os
import re
import subprocess
import sys


def run(binary, *args):
    return subprocess.run([binary, *args], check=True, capture_output=True, text=True).stdout


def commands(binary):
    """[(name, summary)] of the top-level commands, then every subcommand
    ("audit cycle") whose own table answers --options-json."""
    out, top = run(binary, "-h"), []
    for m in re.finditer(r"^  (\S+)\s+(.*)$", out, re.M):
        if m.group(1) != "e.g.":
            top.append((m.group(1), m.group(2).strip()))
    result = []
    for name, summary in top:
        table = load(binary, name)
        usage = table["usage"] if table else subprocess.run([binary, name, "-h"], capture_output=True, text=True).stdout
        subs = sorted(set(re.findall(r"seqloop %s ([a-z]+)\b" % name, usage)))
        tables = [(s, load(binary, name, s)) for s in subs]
        if table is None:  # "design": only its subcommands answer, all with the same table
            table = next((t for s, t in tables if t), None)
            if table is None:
                continue
        result.append((name, summary, table))
        for sub, t in tables:
            if t and t.get("command") == name + " " + sub:
                result.append((name + " " + sub, summary, t))
    return result


def load(binary, *cmd):
    try:
        return json.loads(run(binary, *cmd, "--options-json"))
    except (subprocess.CalledProcessError, json.JSONDecodeError):
        return None


def roff(s):
    s = s.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join(("\\&" + l if l.startswith((".", "'")) else l) for l in s.split("\n"))


def option_text(o):
    flag = ("\\-%s, " % o["short"] if o.get("short") else "") + "\\-\\-" + roff(o["name"])
    if o.get("metavar"):
        flag += " \\fI%s\\fR" % roff(o["metavar"])
    body = roff(o.get("help", "").replace("\n", " "))
    if o.get("choices"):
        body += " One of: " + ", ".join(roff(c) for c in o["choices"]) + "."
    if o.get("default") not in (None, ""):
        body += " Default: " + roff(str(o["default"])) + "."
    return ".TP\n.B %s\n%s\n" % (flag, body)


def manpage(version, name, summary, table):
    page = "seqloop-" + name.replace(" ", "-")
    out = [".TH %s 1 \"\" \"seqloop %s\" \"seqloop manual\"\n" % (page.upper().replace("\\", ""), version),
           ".SH NAME\n%s \\- %s\n" % (roff(page), roff(summary)),
           ".SH SYNOPSIS\n.nf\n%s\n.fi\n" % roff(table["usage"]),
           ".SH OPTIONS\n"]
    group = None
    for o in table["options"]:
        if o.get("group") and o["group"] != group:
            group = o["group"]
            out.append(".SS %s\n" % roff(group))
        out.append(option_text(o))
    out.append(".TP\n.B \\-h, \\-\\-help\nprint the options with their current defaults and exit\n")
    out.append(".TP\n.B \\-\\-version\nprint the version and exit\n")
    out.append(".SH EXIT STATUS\n0 ok, 1 bad input, 2 usage, 3 internal error.\n")
    out.append(".SH SEE ALSO\n.BR seqloop (1)\n")
    return page, "".join(out)


def main_page(version, cmds):
    out = [".TH SEQLOOP 1 \"\" \"seqloop %s\" \"seqloop manual\"\n" % version,
           ".SH NAME\nseqloop \\- generative models of protein families\n",
           ".SH SYNOPSIS\n.B seqloop\n\\fICOMMAND\\fR [\\fIoptions\\fR] \\fIargs\\fR\n.br\n"
           ".B seqloop \\-\\-version\n",
           ".SH COMMANDS\n"]
    for name, summary, _ in cmds:
        out.append(".TP\n.BR seqloop\\-%s (1)\n%s\n" % (roff(name.replace(" ", "-")), roff(summary)))
    out.append(".SH EXIT STATUS\n0 ok, 1 bad input, 2 usage, 3 internal error.\n")
    return "".join(out)


def bash_completion(cmds):
    top = sorted({n.split()[0] for n, _, _ in cmds})
    cases = []
    for name, _, table in cmds:
        words = ["--help", "--version"]
        for o in table["options"]:
            words.append("--" + o["name"])
            if o.get("short"):
                words.append("-" + o["short"])
        subs = sorted({n.split()[1] for n, _, _ in cmds if n.startswith(name + " ")})
        files = "1" if any(o.get("metavar") in ("FILE", "MODEL", "ALN", "FASTA", "PREFIX") for o in table["options"]) else "0"
        cases.append('    "%s") opts="%s"; subs="%s" ;;' % (name, " ".join(words), " ".join(subs)))
        choices = [(o["name"], o["choices"]) for o in table["options"] if o.get("choices")]
        for oname, ch in choices:
            cases.append('    "%s --%s") opts="%s"; subs="" ;;' % (name, oname, " ".join(ch)))
    return """# bash completion for seqloop (generated from the option tables by tools/gen_man.py)
_seqloop() {
  local cur prev cmd opts subs
  cur="${COMP_WORDS[COMP_CWORD]}"; prev="${COMP_WORDS[COMP_CWORD-1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "%s --version --help" -- "$cur")); return
  fi
  cmd="${COMP_WORDS[1]}"
  if [ "$COMP_CWORD" -ge 3 ]; then
    case "${COMP_WORDS[2]}" in -*) ;; *) cmd="$cmd ${COMP_WORDS[2]}" ;; esac
  fi
  case "$cmd --${prev#--}" in
%s
  esac
  if [ -z "${opts:-}" ]; then
    case "$cmd" in
%s
    esac
  fi
  if [ "$COMP_CWORD" -eq 2 ] && [ -n "${subs:-}" ] && [[ "$cur" != -* ]]; then
    COMPREPLY=($(compgen -W "$subs" -- "$cur")); return
  fi
  if [[ "$cur" == -* ]] || [[ "$prev" == --* && -n "${opts:-}" && "$opts" != --* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur")); return
  fi
  COMPREPLY=($(compgen -f -- "$cur"))
}
complete -o filenames -F _seqloop seqloop
""" % (" ".join(top),
       "\n".join("  " + c for c in cases if " --" in c.split(")")[0]),
       "\n".join("  " + c for c in cases if " --" not in c.split(")")[0]))


def main(argv):
    if len(argv) != 4 or argv[1] not in ("man", "bash"):
        sys.exit(__doc__)
    mode, binary, dest = argv[1:]
    version = run(binary, "--version").split()[-1]
    cmds = commands(binary)
    if mode == "man":
        os.makedirs(dest, exist_ok=True)
        with open(os.path.join(dest, "seqloop.1"), "w") as f:
            f.write(main_page(version, cmds))
        for name, summary, table in cmds:
            page, text = manpage(version, name, summary, table)
            with open(os.path.join(dest, page + ".1"), "w") as f:
                f.write(text)
    else:
        with open(dest, "w") as f:
            f.write(bash_completion(cmds))


if __name__ == "__main__":
    main(sys.argv)
