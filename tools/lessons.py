#!/usr/bin/env python
"""The course reads in one order, and every reference to a lesson points at the notebook it means.

    python tools/lessons.py         # exit 1 on any problem, one line each

Checks:
1. **Order**: each lesson (and the module it exports) imports only slowdiff modules of its own and earlier lessons,
   and its code loads only shipped weights that its own or an earlier lesson trains (the trainer named in each model
   card's command says which lesson trains it).
2. **Lesson numbers**: every "lesson NN" in the lessons, the README, the model cards, the package's code (CLI help)
   and the tools names a notebook that exists.
3. **Lesson names**: every "the <name> lesson" is a name in `NICKNAMES`, which says which notebook it means.
4. **What a reference points at**: "lesson NN's `name`", "`name` (lesson NN)" and "`name` of/from lesson NN" name
   something lesson NN defines (a function, class or variable of its code, its module, or weights it trains).
5. **The README's lesson table** lists every notebook with the module it exports.
"""
import ast, json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NBS, PKG, WEIGHTS = ROOT / 'nbs', ROOT / 'slowdiff', ROOT / 'slowdiff' / 'weights'

# "the <name> lesson" → the notebook's number; names of lessons outside slowdiff are listed with None
NICKNAMES = {'data': '01', 'magic-function': '02', 'noise-prediction': '03', 'metrics': '04', 'DDPM': '05',
             'guidance': '06', 'VAE': '07', 'CLIP': '08', 'samplers': '09', 'EDM': '10', 'flow-matching': '10a', 'tiny-SD': '11',
             'SD-loop': '12', 'loop': '12', 'tricks': '13', 'attention': '14', 'U-Net': '15', 'VAE-and-CLIP': '16',
             'fine-tuning': '17', 'distillation': '18', 'explorer': '19', 'CLI': '20', 'robustness': '21',
             'scheduler-tests': '22', 'LoRA': '16a', 'single-file': '16b', 'SDXL': '16c', 'SD3': '16d', 'tiny-SD3': '16e', 'fastai': None, 'next': None, 'previous': None, 'last': None, 'later': None}


# The forward references allowed, by module: lesson 12's `StableDiffusion.from_pretrained` hands an SDXL folder to
# lesson 16c's loop and an SD3 folder to lesson 16d's, as diffusers' `DiffusionPipeline.from_pretrained` picks the class `model_index.json` names. Lesson
# 12 never runs it; the import happens only when an SDXL folder is loaded.
DISPATCH = {('sd_loop', 'sdxl'), ('sd_loop', 'sd3')}


def lessons() -> list: return sorted(NBS.glob('[0-9]*.ipynb'))
def number(path: Path) -> str: return path.name.split('_')[0]
def load(path: Path) -> dict: return json.loads(path.read_text())
def code_cells(nb) -> list: return [''.join(c['source']) for c in nb['cells'] if c['cell_type'] == 'code']
def markdown_cells(nb) -> list: return [''.join(c['source']) for c in nb['cells'] if c['cell_type'] == 'markdown']


def exported_module(nb) -> str | None:
    for src in code_cells(nb):
        m = re.search(r'^#\|\s*default_exp\s+(\S+)', src, re.M)
        if m: return m[1]
    return None


def imported_modules(source: str) -> set:
    "slowdiff modules a piece of code imports (absolute or relative, at the top or inside functions)."
    found = set(re.findall(r'(?:from|import)\s+slowdiff\.(\w+)', source))
    found |= set(re.findall(r'from\s+\.(\w+)\s+import', source))
    found |= {m for m in re.findall(r'from\s+slowdiff\s+import\s+([\w, ]+)', source) for m in m.split(', ')}
    return {m.strip() for m in found} - {'', '_modidx'}


def weights_trainers() -> dict:
    "Shipped weights folder with a card (`digitness`, `tiny_sd/unet`) → the modules whose trainers made it."
    out = {}
    for card in WEIGHTS.rglob('README.md'):
        name = str(card.parent.relative_to(WEIGHTS))
        cmd = re.search(r'\*\*Command\*\*:\s*`([^`]*)`', card.read_text())
        if cmd: out.setdefault(name, set()).update(re.findall(r'slowdiff\.(\w+)', cmd[1]))
    return out


def weights_loaded(code: str, trainers: dict) -> set:
    """The shipped weights a notebook's code loads by name: `weights_path('X')`, `WEIGHTS_DIR / 'X' [/ 'Y']`, a
    model name such as `'tiny-sd-fast'`, or a path string `'X/Y'`. A folder without a card of its own (tiny SD's
    pipeline) stands for the parts of it that the code names, or all of them."""
    tops = set(re.findall(r"weights_path\(\s*['\"]([\w/]+)['\"]", code))
    tops |= set(re.findall(r"^(?![ \t]*[A-Z_]+ = )[^\n]*WEIGHTS_DIR\s*/\s*['\"](\w+)['\"]", code, re.M))   # (not a definition)
    tops |= {s.replace('-', '_') for s in re.findall(r"['\"]([a-z]+(?:-[a-z]+)+)['\"]", code)}
    tops |= set(re.findall(r"['\"](\w+/\w+)['\"]", code))
    found = set()
    for t in tops:
        if t in trainers: found.add(t); continue
        parts = [n for n in trainers if n.startswith(t + '/')]
        named = [n for n in parts if re.search(rf"['\"]{re.escape(n.split('/')[-1])}['\"]", code)]
        found |= set(named or parts)
    return found


def defined_names(nb) -> set:
    "Names a notebook's code defines: functions, classes, assigned variables."
    names = set()
    for src in code_cells(nb):
        names |= set(re.findall(r'^\s*(?:def|class)\s+(\w+)', src, re.M))
        names |= set(re.findall(r'^(\w+)\s*(?:,\s*\w+\s*)*=', src, re.M))
    return names


def check_order(problems: list):
    nbs = lessons()
    rank = {number(p): i for i, p in enumerate(nbs)}
    owner = {}                                                          # module → notebook
    for p in nbs:
        mod = exported_module(load(p))
        if mod: owner[mod.split('.')[-1]] = p
    trainers = weights_trainers()
    for p in nbs:
        nb = load(p)
        code = '\n'.join(code_cells(nb))
        mod = exported_module(nb)
        used = {m: 'imports' for m in imported_modules(code) if (mod, m) not in DISPATCH}
        if mod and (PKG / f'{mod}.py').exists():
            used.update({m: 'its module imports' for m in imported_modules((PKG / f'{mod}.py').read_text())
                         if (mod, m) not in DISPATCH})
        for name in weights_loaded(code, trainers):
            used.update({m: f'loads weights/{name}, trained by' for m in trainers[name] if m not in used})
        for m, how in sorted(used.items()):
            src = owner.get(m)
            if src and rank[number(src)] > rank[number(p)]:
                problems.append(f'order: {p.name} {how} slowdiff.{m}, which lesson {number(src)} ({src.name}) teaches')


LESSON_REF = re.compile(r'\b[Ll]essons?\s+(\d{2}[a-z]?(?:(?:\s*[,–/-]\s*|\s+(?:and|or|to)\s+|,\s+(?:and|or)\s+)'
                        r'\d{2}[a-z]?)*)')
NICK_REF = re.compile(r'\bthe ([\w+-]+) lesson\b(?!s)(?!\s+\d)')
PAIRS = [re.compile(r"[Ll]esson (\d{2})'s `([\w.]+)(?:\(\))?`"),
         re.compile(r"`([\w.]+)(?:\(\))?` \((?:from |of |in )?lesson (\d{2})\)"),
         re.compile(r"`([\w.]+)(?:\(\))?` (?:of|from) lesson (\d{2})\b")]


def texts() -> list:
    "(where, text) of everything a reader or user sees that may name a lesson."
    out = []
    for p in lessons() + [NBS / 'index.ipynb']:
        nb = load(p)
        for i, c in enumerate(nb['cells']):
            out.append((f'{p.name} cell {i}', ''.join(c['source'])))
    out.append(('README.md', (ROOT / 'README.md').read_text()))
    out += [(str(p.relative_to(ROOT)), p.read_text()) for p in sorted(WEIGHTS.rglob('README.md'))]
    out += [(str(p.relative_to(ROOT)), p.read_text()) for p in sorted(PKG.glob('*.py')) if p.name != '_modidx.py']
    out += [(str(p.relative_to(ROOT)), p.read_text()) for p in sorted((ROOT / 'tools').glob('*.py'))]
    out += [('pyproject.toml', (ROOT / 'pyproject.toml').read_text()), ('.ci/run', (ROOT / '.ci' / 'run').read_text())]
    return out


def check_references(problems: list):
    nbs = {number(p): p for p in lessons()}
    defs = {}
    trainers = weights_trainers()
    for n, p in nbs.items():
        nb = load(p)
        mod = exported_module(nb)
        names = defined_names(nb) | ({mod, f'slowdiff.{mod}'} if mod else set())
        names |= {n for n, mods in trainers.items() if mod in mods} | {n.split('/')[0] for n, mods in trainers.items() if mod in mods}
        defs[n] = names
    for where, text in texts():
        for m in LESSON_REF.finditer(text):
            for n in re.findall(r'\d{2}[a-z]?', m[1]):
                if n not in nbs: problems.append(f'reference: {where}: "{m[0]}" names no notebook (nbs/{n}_*.ipynb)')
        for m in NICK_REF.finditer(text):
            if m[1] not in NICKNAMES:
                problems.append(f'reference: {where}: "{m[0]}" is not a lesson name tools/lessons.py knows')
        for i, pat in enumerate(PAIRS):
            for m in pat.finditer(text):
                n, name = (m[1], m[2]) if i == 0 else (m[2], m[1])
                if n not in nbs: continue
                base = name.split('.')[-1]
                if name not in defs[n] and base not in defs[n]:
                    problems.append(f'reference: {where}: "{m[0]}": lesson {n} ({nbs[n].name}) defines no `{name}`')


def check_readme_table(problems: list):
    readme = (ROOT / 'README.md').read_text()
    rows = dict(re.findall(r'^\| (\w+) \| ([^|]+) \|', readme, re.M))
    for p in lessons():
        mod = exported_module(load(p))
        if p.stem not in rows: problems.append(f'readme: the lesson table has no row for {p.stem}'); continue
        want = f'`slowdiff.{mod}`' if mod else '(tests)'
        if mod and rows[p.stem].strip() != want:
            problems.append(f'readme: the row of {p.stem} says {rows[p.stem].strip()}, its module is {want}')


def main() -> int:
    problems = []
    check_order(problems); check_references(problems); check_readme_table(problems)
    for p in problems: print(p)
    print(f'lessons: {len(problems)} problem(s)' if problems else
          f'lessons: {len(lessons())} notebooks in order; every lesson reference points at its notebook')
    return 1 if problems else 0


if __name__ == '__main__': sys.exit(main())
