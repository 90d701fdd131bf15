#!/usr/bin/env python
"""Every measured figure in a lesson's prose must appear in a stored output of that notebook or in a model card it
loads. Settings and facts from elsewhere are written in code font (`lr=2e-4`, `0.18215`), which this check skips.

    python tools/figures.py                      # every lesson, the index and the README; exit 1 on a mismatch
    python tools/figures.py nbs/07_vae.ipynb     # just these notebooks

What counts as a figure in prose (markdown cells, outside code spans and maths): decimals (0.985), percentages
(37 %), ratios (1.3×), durations (216 s, 4.5 min) and counts written "N of M" or "N/M". Plain integers are left
alone: in prose they are nearly always settings (20 steps, 32 seeds, lesson 05).

A figure matches when an output number rounds to it at the precision the prose writes (0.98 matches 0.9812; 37 %
matches 0.371 or 37.1; 1.3× matches 1.31), or, for "N of M", when the outputs hold N and M. The outputs are every
stored text output of the notebook (streams, text/plain, markdown, HTML) and the model cards (README.md) of the
shipped weights the notebook's code names. The README and the index summarise the lessons: their figures are
matched against the outputs and cards of every lesson.
"""
import json, re, sys
from decimal import Decimal, ROUND_HALF_UP, ROUND_HALF_EVEN
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NBS, WEIGHTS = ROOT / 'nbs', ROOT / 'slowdiff' / 'weights'

# what is not prose: fenced and inline code, maths, link targets, HTML tags, images
STRIP = [re.compile(p, re.S) for p in (r'```.*?```', r'`[^`\n]*`', r'\$\$.*?\$\$', r'(?<!\\)\$[^$\n]*(?<!\\)\$',
                                         r'!\[[^\]]*\]\([^)]*\)', r'\]\([^)]*\)', r'<[^>\n]+>')]
NUM = r'\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?'
FIGURE = re.compile(rf'(?<![\w.,/−-])(?P<num>{NUM})(?:\s?(?P<unit>%|×(?!\s?\d)|s\b|ms\b|min\b|minutes\b|seconds\b))?'
                    rf'(?![\w.]\d|\.\d|,\d)')
COUNT = re.compile(rf'(?<![\w.,])(?P<a>\d+)(?: of | out of |/)(?P<b>\d+)(?![\w.,]\d|\d|\.\d)')
# numbers that are names, not measurements: versions and model families
NAME_BEFORE = re.compile(r'(?:SD|SDXL|Stable Diffusion|Python|torch|diffusers|transformers|nbdev|fastai|version|v|'
                         r'Flux|SD3|CLIP|GPT|T5|ViT-[BL]/|lessons?|Figure|figure|section|step|steps|Step)\s?$')
OUT_NUM = re.compile(r'[-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:e[-+]?\d+)?')


def prose(text: str) -> str:
    for p in STRIP: text = p.sub(' ', text)
    return text


def figures(text: str) -> list:
    "The figures of a markdown text: (as written, kind, value, decimals)."
    text, found = prose(text), []
    for m in COUNT.finditer(text):
        found.append((m[0], 'count', (int(m['a']), int(m['b'])), 0))
    counted = {m.span() for m in COUNT.finditer(text)}
    for m in FIGURE.finditer(text):
        num, unit = m['num'], m['unit']
        if any(a <= m.start() < b for a, b in counted): continue
        if NAME_BEFORE.search(text[max(0, m.start() - 20):m.start()]): continue
        if re.match(r'\.\d+\.\d', text[m.end('num'):m.end('num') + 4]): continue      # 1.2.3: a version
        if text[m.end():m.end() + 2] in ('.x', '.X') or text[m.end('num'):m.end('num') + 2] == '.x': continue
        plain = num.replace(',', '')
        decimals = len(plain.split('.')[1]) if '.' in plain else 0
        if unit is None and decimals == 0: continue                          # a plain integer: a setting
        kind = {'%': 'percent', '×': 'ratio', None: 'number'}.get(unit, 'time')
        found.append((m[0].strip(), kind, Decimal(plain), decimals))
    return found


def output_text(nb: dict) -> str:
    parts = []
    for c in nb['cells']:
        for o in c.get('outputs', []):
            if 'text' in o: parts.append(''.join(o['text']))
            for k, v in o.get('data', {}).items():
                if k in ('text/plain', 'text/markdown', 'text/html', 'text/latex'):
                    parts.append(re.sub(r'<[^>]+>', ' ', ''.join(v)))
    return '\n'.join(parts)


def weight_names() -> list:
    "Every shipped weights folder with a card, as a name the code would use (`tiny_sd`, `tiny_sd/unet`)."
    return sorted(str(p.parent.relative_to(WEIGHTS)) for p in WEIGHTS.rglob('README.md'))


def cards_named(code: str) -> str:
    "The model cards of the shipped weights that `code` names (a folder name in a string, or its path function)."
    texts = []
    prefixes = re.findall(r"""f['"]([a-z]\w*_)\{""", code)                  # f'dreambooth_{prior}': every such folder
    for name in weight_names():
        top = name.split('/')[0]
        if re.search(rf"""['"/]{re.escape(top)}['"/]|\b{re.escape(top)}_path\(|\b{re.escape(top)}\b|"""
                     rf"""\b{re.escape(top.upper())}_DIR\b""", code) or \
                any(top.startswith(p) for p in prefixes):
            texts.append((WEIGHTS / name / 'README.md').read_text())
    return '\n'.join(texts)


def numbers(text: str) -> list:
    out = []
    for m in OUT_NUM.finditer(text):
        try: out.append(Decimal(m[0].replace(',', '').replace('−', '-')))
        except Exception: pass
    return out


def rounds_to(x: Decimal, value: Decimal, decimals: int) -> bool:
    q = Decimal(1).scaleb(-decimals)
    x = abs(x)
    return any(x.quantize(q, rounding=r) == value for r in (ROUND_HALF_UP, ROUND_HALF_EVEN))


def matches(fig, nums: list, nums_set: set) -> bool:
    written, kind, value, decimals = fig
    if kind == 'count':
        a, b = value
        return Decimal(a) in nums_set and Decimal(b) in nums_set
    for x in nums:
        if rounds_to(x, value, decimals): return True
        if kind == 'percent' and rounds_to(x * 100, value, decimals): return True
        if kind == 'time' and written.endswith(('min', 'minutes')) and rounds_to(x / 60, value, decimals): return True
    return False


def check_text(name: str, markdown: list, evidence: str) -> list:
    nums = numbers(evidence)
    nums_set = set(nums)
    bad = []
    for i, text in markdown:
        for fig in figures(text):
            if not matches(fig, nums, nums_set): bad.append(f'{name} cell {i}: {fig[0]!r} is in no stored output or card')
    return bad


def notebook_parts(path: Path):
    nb = json.loads(path.read_text())
    md = [(i, ''.join(c['source'])) for i, c in enumerate(nb['cells']) if c['cell_type'] == 'markdown']
    code = '\n'.join(''.join(c['source']) for c in nb['cells'] if c['cell_type'] == 'code')
    return md, code, output_text(nb)


def lessons() -> list: return sorted(p for p in NBS.glob('[0-9]*.ipynb'))


def main(paths: list) -> int:
    paths = [Path(p).resolve() for p in paths] or lessons() + [NBS / 'index.ipynb', ROOT / 'README.md']
    every = None
    bad = []
    for p in paths:
        if p.suffix == '.ipynb' and p.name != 'index.ipynb':
            md, code, out = notebook_parts(p)
            bad += check_text(p.name, md, out + '\n' + cards_named(code))
            continue
        if every is None:                                                  # all lessons' outputs and every card
            every = '\n'.join(notebook_parts(q)[2] for q in lessons())
            every += '\n'.join((WEIGHTS / n / 'README.md').read_text() for n in weight_names())
        if p.suffix == '.ipynb':
            md, _, out = notebook_parts(p)
            bad += check_text(p.name, md, every + '\n' + out)
        else:                                                             # the README is made from the index
            bad += check_text(p.name, [(0, p.read_text())], every + '\n' + notebook_parts(NBS / 'index.ipynb')[2])
    for b in bad: print(b)
    print(f'figures: {len(bad)} figure(s) in prose found in no stored output or card' if bad
          else f'figures: every figure in the prose of {len(paths)} file(s) is in a stored output or card')
    return 1 if bad else 0


if __name__ == '__main__': sys.exit(main(sys.argv[1:]))
