#!/usr/bin/env python
"""The house formatter: no line of a notebook's code over 120 columns.

    python tools/format.py            # reformat, in every nbs/*.ipynb, the statements that run past 120 columns
    python tools/format.py --check    # list every code line over 120 columns and exit 1 if there is one (CI runs this)

Only the statements that are too long are reformatted, with yapf and the style in pyproject.toml's [tool.yapf]; the
rest is left as written, so the house style stays: one-line functions, `if x: return y`, and shape comments aligned in
a column (`# (B, C, H, W)`), which a whole-file formatter such as black or ruff would undo. A line yapf cannot shorten
(a long string or comment) is reported, to be rewritten by hand. Then run `nbdev-export`: the modules follow.
"""
import sys, tomllib
from pathlib import Path
import nbformat

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 120


def style() -> dict:
    "yapf's style, from pyproject.toml's [tool.yapf]."
    return tomllib.loads((ROOT / 'pyproject.toml').read_text())['tool']['yapf']


def magic(line: str) -> bool: return line.lstrip().startswith(('%', '!'))


def long_lines(source: str) -> list:
    "1-based numbers of the lines of `source` over the limit."
    return [i + 1 for i, line in enumerate(source.splitlines()) if len(line) > LIMIT]


def reformat(source: str) -> str:
    "`source` with only its too-long statements reformatted (a cell with IPython magics is left alone)."
    from yapf.yapflib.yapf_api import FormatCode
    lines = long_lines(source)
    if not lines or any(magic(l) for l in source.splitlines()): return source
    out, _ = FormatCode(source, style_config=style(), lines=[(i, i) for i in lines])
    if source.rstrip().endswith(';') and not out.rstrip().endswith(';'):
        out = out.rstrip() + ';\n'                                       # a cell's final `;` hides its value: keep it
    return out.rstrip('\n') if not source.endswith('\n') else out


def main(check: bool) -> int:
    bad = 0
    for path in sorted((ROOT / 'nbs').glob('*.ipynb')):
        nb, changed = nbformat.read(path, as_version=4), False
        for cell in nb.cells:
            if cell.cell_type != 'code': continue
            if not check:
                new = reformat(cell.source)
                if new != cell.source: cell.source, changed = new, True
            for i in long_lines(cell.source):
                bad += 1
                print(f"{path.relative_to(ROOT)}: cell {cell.get('id', '?')} line {i}: "
                      f"{len(cell.source.splitlines()[i - 1])} columns")
        if changed: nbformat.write(nb, path)
    if bad: print(f"format: {bad} line(s) over {LIMIT} columns" + ('' if check else ' left to rewrite by hand'))
    return int(bool(bad)) if check else 0


if __name__ == '__main__': sys.exit(main('--check' in sys.argv[1:]))
