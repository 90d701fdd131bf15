#!/usr/bin/env python
"""Make lessons open and run in Colab (and Paperspace, or any fresh Jupyter): an "Open in Colab" badge under each
notebook's title, and a first code cell that installs slowdiff when it is missing.

    python tools/colab.py                          # every notebook in nbs/
    python tools/colab.py nbs/07_vae.ipynb ...     # just these

Idempotent: run it again and it updates the two cells in place (found by their marker text), never adds more.
The install cell does nothing where slowdiff is importable (tests, local runs); it is hidden in the docs (`#| hide`).
Importing slowdiff first also applies its warnings filter before fastai is imported (see slowdiff/__init__.py), so
library deprecation notes do not show in the lessons.
"""
import re, sys, tomllib
from pathlib import Path
import nbformat

ROOT = Path(__file__).resolve().parent.parent
BADGE_MARK, INSTALL_MARK = '[![Open In Colab]', '# slowdiff: install when missing'


def repo_and_branch() -> tuple:
    "('owner/name', branch) from pyproject.toml's Repository URL (GitHub); the branch is main."
    url = tomllib.loads((ROOT / 'pyproject.toml').read_text())['project']['urls']['Repository']
    m = re.fullmatch(r'https://github\.com/([\w.-]+/[\w.-]+?)(?:\.git)?/?', url)
    if not m: sys.exit(f'colab: the Repository URL {url!r} in pyproject.toml is not a GitHub repository')
    return m[1], 'main'


def badge_source(nb_path: Path) -> str:
    repo, branch = repo_and_branch()
    rel = nb_path.resolve().relative_to(ROOT).as_posix()
    return (f'{BADGE_MARK}(https://colab.research.google.com/assets/colab-badge.svg)]'
            f'(https://colab.research.google.com/github/{repo}/blob/{branch}/{rel})')


def install_source() -> str:
    repo, branch = repo_and_branch()
    return f'''#| hide
{INSTALL_MARK} (Colab, Paperspace, a fresh Jupyter); a no-op where it is installed
try: import slowdiff
except ImportError:
    import subprocess, sys
    subprocess.run([sys.executable, '-m', 'pip', 'install', '-q', 'slowdiff @ git+https://github.com/{repo}@{branch}'], check=True)
    import slowdiff'''


def _find(nb, kind: str, mark: str):
    return next((c for c in nb.cells if c.cell_type == kind and c.source.startswith(mark)), None)


def add_colab(nb_path: Path) -> bool:
    "Insert or update the badge and install cells of notebook `nb_path`; True if the file changed."
    text = nb_path.read_text()
    nb = nbformat.reads(text, as_version=4)
    title = next((i for i, c in enumerate(nb.cells) if c.cell_type == 'markdown' and c.source.lstrip().startswith('# ')), None)
    if title is None: sys.exit(f'colab: {nb_path} has no "# Title" markdown cell to put the badge under')
    badge, install = _find(nb, 'markdown', BADGE_MARK), _find(nb, 'code', '#| hide\n' + INSTALL_MARK)
    if badge is None:
        badge = nbformat.v4.new_markdown_cell('')
        nb.cells.insert(title + 1, badge)
    badge.source = badge_source(nb_path)
    if install is None:
        install = nbformat.v4.new_code_cell('')
        nb.cells.insert(nb.cells.index(badge) + 1, install)
    install.source = install_source()
    first_code = next(c for c in nb.cells if c.cell_type == 'code')
    if first_code is not install: sys.exit(f'colab: in {nb_path} the install cell is not the first code cell; move it up')
    out = nbformat.writes(nb) + '\n'
    if out == text: return False
    nb_path.write_text(out)
    return True


if __name__ == '__main__':
    paths = [Path(p) for p in sys.argv[1:]] or sorted((ROOT / 'nbs').glob('*.ipynb'))
    for p in paths:
        if p.suffix != '.ipynb' or not p.exists(): sys.exit(f'colab: {p} is not a notebook')
        print(f"{p}: {'updated' if add_colab(p) else 'already up to date'}")
