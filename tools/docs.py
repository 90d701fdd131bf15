#!/usr/bin/env python
"""Build slowdiff's docs site from the executed notebooks, then check it in headless Chromium.

    python tools/docs.py               # build into _docs/ and check; screenshots in _docs/_check/
    python tools/docs.py --check-only  # check an already built _docs/

Building: with Quarto installed (`pip install -e ".[docs]"`, the `quarto-cli` package, or `quarto` on the PATH)
the site is nbdev's own, built by `nbdev-docs`. Without Quarto the same notebooks are rendered to HTML with
nbconvert, one page per lesson with a sidebar in lesson order, honouring nbdev's `#| hide` and `#| echo: false`.
Widget outputs (lesson 19's panel) render from the widget manager's own bundle, `@jupyter-widgets/html-manager`'s
`embed-amd.js`, and RequireJS, both taken once from the npm registry (`npm pack`, kept in slowdiff's cache folder) and
copied into the site: the pages load nothing from a CDN.

Checking: each page is opened in headless Chromium (Debian's `chromium`), with a fresh profile and no background
networking. A small script added to a copy of the page waits for the load event, then records how many images the
page has and how many actually decoded; Chromium's `--dump-dom` returns the result. A page fails if it shows an
error (a Python traceback or an error output), shows a warning/stderr output block, still shows raw TeX (`$...$` outside
code: the maths was not rendered) or a MathJax error, has no heading, has a broken image, or shows fewer pictures than
its notebook has. The maths is typeset by MathJax 2 copied into the site from the `jupyter-server-mathjax` package
(PyPI, in the dev extra), never from a CDN; the probe waits for MathJax to finish. Images on other sites (the Colab
badge) cannot load offline and are counted apart, not checked. The index and three lessons must show at least one picture; they are also screenshotted, and a blank
screenshot fails too. Exit status 1 on any failure. (Slow: about a minute. Not part of the test run.)
"""
import argparse, html, json, os, re, shutil, subprocess, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NBS, DOCS = ROOT / 'nbs', ROOT / '_docs'
SCREENSHOT_PAGES = ['index', 'vae', 'tiny_sd', 'sd_tricks', 'explorer']
CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
                  '--disable-component-update', '--disable-sync', '--hide-scrollbars']
ERROR_MARKS = ['Traceback (most recent call last)', 'cell-output-error', 'application/vnd.jupyter.error',
               'ModuleNotFoundError', 'Page not found']


def page_name(nb: Path) -> str:
    "nbdev's page name: the notebook's name without its number prefix (`07_vae` -> `vae`)."
    return re.sub(r'^\d+[a-z]?_', '', nb.stem)


def lessons() -> list:
    "The notebooks in lesson order, index first."
    nbs = sorted(p for p in NBS.glob('*.ipynb') if not p.name.startswith('_'))
    return sorted(nbs, key=lambda p: (p.stem != 'index', p.name))


def quarto() -> str:
    "The Quarto binary, if there is one."
    try:
        import quarto_cli  # the PyPI package ships the binary inside itself
        for p in Path(quarto_cli.__file__).parent.rglob('quarto'):
            if p.is_file() and os.access(p, os.X_OK): return str(p)
    except ImportError: pass
    return shutil.which('quarto')


# ---- building without Quarto -------------------------------------------------------------------------------------

def _directives(src: str) -> dict:
    return dict((m[0].strip(), m[1].strip()) for m in re.findall(r'^#\|\s*([\w-]+)\s*:?\s*(.*)$', src, re.M))


def docs_notebook(nb):
    "A copy of notebook `nb` as nbdev's docs show it: hidden cells dropped, directives removed, echo: false honoured."
    cells = []
    for c in nb.cells:
        if c.cell_type == 'code':
            d = _directives(c.source)
            if 'hide' in d or 'default_exp' in d or d.get('include') == 'false': continue
            c.source = '\n'.join(l for l in c.source.splitlines() if not l.startswith('#|')).strip()
            if d.get('echo') == 'false': c.metadata['transient'] = {'remove_source': True}   # what nbconvert's templates read
            if not c.source and not c.get('outputs'): continue
            for o in c.get('outputs', []):                                # nbconvert's templates do not show GIFs:
                gif = o.get('data', {}).get('image/gif')                   # give them an <img> of their own
                if gif: o['data']['text/html'] = f'<img src="data:image/gif;base64,{"".join(gif).strip()}">'
        cells.append(c)
    nb.cells = cells
    drop_dangling_buffers(nb)
    return nb


def drop_dangling_buffers(nb):
    """Remove binary buffers of the stored widget state whose path no longer exists in their model's state (a
    `FileUpload` emptied after an upload keeps its file's buffer at `value[0]`): the widget manager cannot place them
    and then renders none of the panel."""
    models = nb.metadata.get('widgets', {}).get('application/vnd.jupyter.widget-state+json', {}).get('state', {})
    def resolves(state, path):
        for k in path[:-1]:
            try: state = state[k]
            except (KeyError, IndexError, TypeError): return False
        return isinstance(state, dict) or (isinstance(state, list) and isinstance(path[-1], int) and path[-1] < len(state))
    for m in models.values():
        if 'buffers' in m: m['buffers'] = [b for b in m['buffers'] if resolves(m['state'], b['path'])]


SIDEBAR_CSS = """
<style>
  body { margin: 0; }
  #sd-sidebar { position: fixed; top: 0; left: 0; bottom: 0; width: 230px; overflow-y: auto; padding: 16px 12px;
                background: #f6f6f3; border-right: 1px solid #ddd; font: 14px/1.5 system-ui, sans-serif; }
  #sd-sidebar a { display: block; color: #333; text-decoration: none; padding: 2px 6px; border-radius: 4px; }
  #sd-sidebar a.active { background: #2b6cb0; color: white; }
  #sd-sidebar .sd-title { font-weight: 700; font-size: 18px; margin-bottom: 10px; }
  #sd-main { margin-left: 254px; }
</style>
"""


def sidebar(pages: list, current: str) -> str:
    links = '\n'.join(f'<a href="{name}.html"{" class=active" if name == current else ""}>{html.escape(title)}</a>'
                      for name, title in pages)
    return f'<nav id="sd-sidebar"><div class="sd-title">slowdiff</div>{links}</nav>'


def title_of(nb, fallback: str) -> str:
    for c in nb.cells:
        if c.cell_type == 'markdown':
            m = re.search(r'^#\s+(.+)$', c.source, re.M)
            if m: return m[1].strip()
    return fallback


MATHJAX_URL = 'mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe'    # relative: served by the site itself
# set before MathJax.js loads (MathJax 2 reads a `window.MathJax` object as its configuration): the package ships the
# STIX web fonts only, as Jupyter's classic notebook used it; no image fonts, nothing fetched from elsewhere
MATHJAX_FONTS = ('<script>window.MathJax = {"HTML-CSS": {availableFonts: [], imageFont: null, preferredFont: null, '
                 'webFont: "STIX-Web"}, showMathMenu: false};</script>')


def copy_mathjax(out: Path):
    "MathJax 2, from the `jupyter-server-mathjax` package (PyPI; in the dev extra), into the site's mathjax/ folder."
    try: import jupyter_server_mathjax
    except ImportError: sys.exit('docs build: MathJax comes from the jupyter-server-mathjax package: pip install -e ".[dev]"')
    shutil.copytree(Path(jupyter_server_mathjax.__file__).parent / 'static', out / 'mathjax')


# the widget manager that renders ipywidgets 8's stored outputs, and the module loader its bundle needs
NPM_PACKAGES = {'html-manager': ('@jupyter-widgets/html-manager@1.0.15', 'package/dist/embed-amd.js'),
                'requirejs': ('requirejs@2.3.8', 'package/require.js')}
WIDGETS_URL, REQUIRE_URL = 'widgets/embed-amd.js', 'widgets/require.js'      # relative: served by the site itself


def npm_file(spec: str, member: str) -> bytes:
    "One file of the npm package `spec` (`name@version`), from a tarball `npm pack` fetched once into slowdiff's cache."
    import tarfile
    sys.path.insert(0, str(ROOT))
    from slowdiff.support import cache_dir
    folder = cache_dir() / 'npm'; folder.mkdir(parents=True, exist_ok=True)
    tarball = folder / (spec.lstrip('@').replace('/', '-').replace('@', '-') + '.tgz')
    if not tarball.exists():
        if not shutil.which('npm'): sys.exit(f'docs build: {spec} comes from the npm registry: install npm (apt-get install npm)')
        r = subprocess.run(['npm', 'pack', '--silent', '--pack-destination', str(folder), spec], capture_output=True, text=True)
        if r.returncode or not tarball.exists(): sys.exit(f'docs build: `npm pack {spec}` failed: {r.stderr.strip()[-300:]}')
    with tarfile.open(tarball) as t: return t.extractfile(member).read()


def copy_widgets(out: Path):
    "The widget manager's bundle and RequireJS into the site's widgets/ folder."
    (out / 'widgets').mkdir(parents=True, exist_ok=True)
    for (spec, member), url in zip(NPM_PACKAGES.values(), (WIDGETS_URL, REQUIRE_URL)): (out / url).write_bytes(npm_file(spec, member))


def build_with_nbconvert(out: Path):
    import nbformat
    from nbconvert import HTMLExporter
    exporter = HTMLExporter(template_name='lab', mathjax_url=MATHJAX_URL, widget_renderer_url=WIDGETS_URL,
                            require_js_url=REQUIRE_URL)
    exporter.exclude_input_prompt = exporter.exclude_output_prompt = True
    nbs = [(p, nbformat.read(p, as_version=4)) for p in lessons()]
    pages = [(page_name(p), title_of(nb, p.stem) if p.stem != 'index' else 'Home') for p, nb in nbs]
    if out.exists(): shutil.rmtree(out)
    out.mkdir(parents=True)
    copy_mathjax(out); copy_widgets(out)
    for (p, nb), (name, title) in zip(nbs, pages):
        body, _ = exporter.from_notebook_node(docs_notebook(nb), resources={'metadata': {'name': title}})
        assert MATHJAX_URL in body, 'nbconvert no longer takes mathjax_url: the page would load MathJax from elsewhere'
        assert 'unpkg.com' not in body and 'require.js/2' not in body, f'{name}: widgets or RequireJS from a CDN'
        body = body.replace('<!-- Load mathjax -->', '<!-- Load mathjax -->' + MATHJAX_FONTS, 1)
        body = body.replace('</head>', SIDEBAR_CSS + '</head>', 1)
        body = re.sub(r'<body([^>]*)>', lambda m: f'<body{m[1]}>{sidebar(pages, name)}<div id="sd-main">', body, count=1)
        body = body.replace('</body>', '</div></body>', 1)
        (out / f'{name}.html').write_text(body)
    print(f'built {len(pages)} pages with nbconvert into {out} (no Quarto here)')


def build(out: Path):
    q = quarto()
    if q:
        env = dict(os.environ, PATH=f'{Path(q).parent}{os.pathsep}{os.environ["PATH"]}')
        subprocess.run(['nbdev-docs'], cwd=ROOT, env=env, check=True)
        print(f'built the nbdev site with Quarto ({q}) into {out}')
    else: build_with_nbconvert(out)


# ---- checking in Chromium ----------------------------------------------------------------------------------------

CHECK_JS = """
<script>
function sdRawTex() {
  // text the reader sees that still holds TeX: `$...$` or `\\(...\\)` outside code, scripts and typeset maths
  const skip = 'SCRIPT,STYLE,PRE,CODE,TEXTAREA';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {acceptNode: n => {
    for (let e = n.parentElement; e; e = e.parentElement)
      if (skip.includes(e.tagName) || (e.className && String(e.className).includes('MathJax'))) return NodeFilter.FILTER_REJECT;
    return NodeFilter.FILTER_ACCEPT; }});
  const raw = [];
  let text = '', n;
  while ((n = walker.nextNode())) text += n.textContent + ' ';
  for (const m of text.matchAll(/\\$[^$\\n]{1,80}\\$|\\\\\\([^)]{1,80}\\\\\\)/g)) raw.push(m[0]);
  return raw.slice(0, 5);
}
function sdReport() {
  const imgs = [...document.querySelectorAll('img')];
  const external = imgs.filter(i => /^https?:/.test(i.getAttribute('src') || '') && new URL(i.src).host !== location.host);
  const local = imgs.filter(i => !external.includes(i));
  const r = {images: local.length, decoded: local.filter(i => i.complete && i.naturalWidth > 0).length,
             external: external.length, headings: document.querySelectorAll('h1').length,
             maths: document.querySelectorAll('.MathJax, .MathJax_Display, .MathJax_CHTML, mjx-container').length,
             math_errors: document.querySelectorAll('.MathJax_Error, merror, [data-mjx-error]').length,
             raw_tex: sdRawTex(),
             stderr: document.querySelectorAll('[data-mime-type="application/vnd.jupyter.stderr"], .cell-output-stderr').length,
             widgets: [...document.querySelectorAll('.jupyter-widgets, .widget-box, .widget-inline-hbox')]
                        .filter(e => e.getBoundingClientRect().height > 0).length};
  const el = document.createElement('pre'); el.id = 'sd-docs-check'; el.textContent = JSON.stringify(r);
  document.body.appendChild(el);
}
function sdWhenWidgetsDrawn(then) {
  // the widget manager renders stored widgets after it loads (a 3.6 MB bundle): wait for them, at most 8 s
  const views = document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length;
  const start = Date.now();
  (function poll() {
    const drawn = [...document.querySelectorAll('.jupyter-widgets, .widget-box, .widget-inline-hbox')]
                    .filter(e => e.getBoundingClientRect().height > 0).length;
    if (!views || drawn || Date.now() - start > 8000) then(); else setTimeout(poll, 200);
  })();
}
window.addEventListener('load', () => setTimeout(() => sdWhenWidgetsDrawn(() => {
  if (window.MathJax && MathJax.Hub) MathJax.Hub.Queue(sdReport);      // after MathJax has typeset the page
  else sdReport();
}), 300));
</script>
"""


def chromium() -> str:
    for name in ('chromium', 'chromium-browser', 'google-chrome', 'chrome'):
        if shutil.which(name): return shutil.which(name)
    sys.exit('docs check: no Chromium found; install Debian\'s `chromium` package (apt-get install chromium)')


def run_chromium(args: list, profile: Path) -> subprocess.CompletedProcess:
    return subprocess.run([chromium(), *CHROMIUM_FLAGS, f'--user-data-dir={profile}', *args],
                          capture_output=True, text=True, timeout=120)


def pictures_in(nb_path: Path) -> int:
    "How many pictures (PNG, JPEG or GIF outputs) notebook `nb_path` shows in the docs."
    import nbformat
    nb = docs_notebook(nbformat.read(nb_path, as_version=4))
    return sum(any(k in o.get('data', {}) for k in ('image/png', 'image/jpeg', 'image/gif'))
               for c in nb.cells if c.cell_type == 'code' for o in c.get('outputs', []))


def widgets_in(nb_path: Path) -> int:
    "How many widget outputs (views of stored ipywidgets) notebook `nb_path` shows in the docs."
    import nbformat
    nb = docs_notebook(nbformat.read(nb_path, as_version=4))
    return sum('application/vnd.jupyter.widget-view+json' in o.get('data', {})
               for c in nb.cells if c.cell_type == 'code' for o in c.get('outputs', []))


def check_page(page: Path, expected: int, shots: Path, profile: Path, widgets: int = 0) -> list:
    """Problems found on `page` (an empty list when it is fine): errors shown, no heading, broken images, fewer pictures
    than its notebook's `expected`, none at all on the index and the screenshot pages. Screenshots those pages."""
    probe = page.with_name(f'.check-{page.name}')
    probe.write_text(page.read_text().replace('</body>', CHECK_JS + '</body>', 1))
    try:
        r = run_chromium(['--virtual-time-budget=15000', '--dump-dom', probe.as_uri()], profile)
    finally: probe.unlink()
    dom = r.stdout
    problems = [f'shows "{m}"' for m in ERROR_MARKS if m in dom]
    m = re.search(r'<pre id="sd-docs-check">(.*?)</pre>', dom)
    if not m: return problems + [f'did not finish loading in Chromium (exit {r.returncode}): {r.stderr.strip()[-200:]}']
    res = json.loads(html.unescape(m[1]))
    if not res['headings']: problems.append('has no heading')
    if res['raw_tex']: problems.append(f"shows raw TeX (maths not rendered): {', '.join(res['raw_tex'])}")
    if res['math_errors']: problems.append(f"has {res['math_errors']} maths error(s)")
    if res['stderr']: problems.append(f"shows {res['stderr']} warning/stderr output block(s)")
    if res['decoded'] < res['images']: problems.append(f"has {res['images'] - res['decoded']} broken image(s)")
    if res['decoded'] < expected: problems.append(f"shows {res['decoded']} images but its notebook has {expected} pictures")
    if not res['decoded'] and (expected or page.stem in SCREENSHOT_PAGES): problems.append('has no image that displays')
    if widgets and not res['widgets']: problems.append(f'shows its {widgets} widget output(s) as empty boxes')
    if page.stem in SCREENSHOT_PAGES:
        shot = shots / f'{page.stem}.png'
        run_chromium(['--window-size=1280,1600', f'--screenshot={shot}', page.as_uri()], profile)
        if not shot.exists(): problems.append('screenshot failed')
        else:
            from PIL import Image
            lo, hi = Image.open(shot).convert('L').getextrema()
            if hi - lo < 50: problems.append(f'screenshot {shot} is blank')
    print(f"  {page.name:24} {res['decoded']:3d} of {res['images']:3d} images shown ({expected:2d} in the notebook), "
          f"{res['maths']:3d} formulas typeset, {res['widgets']:3d} widgets drawn, {res['external']} external image(s) "
          f"not checked  "
          f"{'OK' if not problems else 'FAIL: ' + '; '.join(problems)}")
    return problems


def check(site: Path) -> bool:
    nbs = lessons()
    pages = [site / f'{page_name(p)}.html' for p in nbs]
    missing = [p.name for p in pages if not p.exists()]
    if missing: print(f'docs check: pages missing from {site}: {", ".join(missing)}'); return False
    shots = site / '_check'; shots.mkdir(exist_ok=True)
    print(f'checking {len(pages)} pages in headless Chromium ({chromium()})')
    with tempfile.TemporaryDirectory(prefix='slowdiff-chromium-') as profile:
        failed = [p for p, nb in zip(pages, nbs) if check_page(p, pictures_in(nb), shots, Path(profile), widgets_in(nb))]
    missing_shots = [n for n in SCREENSHOT_PAGES if not (shots / f'{n}.png').exists()]
    if missing_shots: print(f'no screenshot of: {", ".join(missing_shots)}')
    print(f'{len(pages) - len(failed)}/{len(pages)} pages pass; screenshots of {", ".join(SCREENSHOT_PAGES)} in {shots}')
    return not failed and not missing_shots


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--check-only', action='store_true', help='check the site already in _docs/')
    args = ap.parse_args()
    if not args.check_only: build(DOCS)
    sys.exit(0 if check(DOCS) else 1)
