"""Markdown tables and bench/results/<date>.md."""
import datetime
import os
import subprocess
from dataclasses import dataclass, field

from servers import REPO


@dataclass
class Section:
    """One scenario's results: a title, a few lines of context, a table."""
    title: str
    notes: list
    header: list
    rows: list
    met: list = field(default_factory=list)  # one bool per target checked
    warnings: list = field(default_factory=list)  # repeated on stderr after the tables
    # More tables after the first, each (caption, header, rows); the caption is a line above it.
    tables: list = field(default_factory=list)

    def markdown(self):
        notes = "".join(f"{n}\n" for n in self.notes)
        more = "".join(f"\n{caption}\n\n{table(header, rows)}\n"
                       for caption, header, rows in self.tables)
        return f"### {self.title}\n\n{notes}\n{table(self.header, self.rows)}\n{more}"


def table(header, rows):
    lines = ["| " + " | ".join(map(str, header)) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in rows]
    return "\n".join(lines)


def yes_no(ok):
    return "—" if ok is None else ("yes" if ok else "**no**")


def ratio(x):
    return "—" if x is None else f"{x:.2f}×"


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"nproc {os.cpu_count()}, {model}, load {load}"


def git_revision():
    def git(*args):
        done = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else None
    rev = git("rev-parse", "--short", "HEAD") or "no commit"
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return rev + (" (dirty)" if dirty else "")


def heading(command, started):
    return (f"## {started:%H:%M:%S} · git {git_revision()} · {machine()}\n\n"
            f"`{command}`\n")


def write(results_dir, started, text):
    """Appends text to results_dir/<date>.md (created with a title); returns the path."""
    os.makedirs(results_dir, exist_ok=True)
    path = os.path.join(results_dir, f"{started:%Y-%m-%d}.md")
    new = not os.path.exists(path)
    with open(path, "a") as f:
        if new:
            f.write(f"# Benchmark results {started:%Y-%m-%d}\n\n"
                    "Written by bench/run; see bench/README.md for what each scenario measures.\n")
        f.write("\n" + text)
    return path


def now():
    return datetime.datetime.now()
