#!/usr/bin/env python
"""The explorer app (lesson 19, served by `slowdiff explore`) tested in a real browser.

    python tools/app_test.py                 # screenshots in _app_check/ (or --shots DIR)

Playwright drives Debian's Chromium (`apt-get install -y chromium`) through `executable_path`; no browser is
downloaded (never `playwright install`). Steps: start the app with Voilà on a free loopback port; open it; type a
prompt; move the steps slider with the keyboard; press Generate; wait for the picture; check it is a non-blank grid
of the requested number of images at the model's size, in the requested colour, with no word maps; tick "show where
each word looks", generate again and check the same grid comes back with a heat map per word of the prompt, each
labelled by its word; then enter bad values (steps 0, an unknown token) and check the message the page shows, and
that the last good picture stays; stop the server and check that nothing listens on its port any more. Every wait is
bounded. A screenshot is kept at each stage; the word maps' one is the picture lesson 19 shows.

Exit status: 0 when every check passes; 1 when one fails; 0 with a line starting "SKIPPED" only when there is no
Chromium on this machine at all.
"""
import argparse, base64, io, os, re, shutil, socket, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                  '--disable-background-networking', '--disable-component-update', '--disable-sync']
PROMPT, STEPS, N, SIZE, SCALE = 'a green four', 8, 4, 32, 3    # what the test asks for; tiny SD draws 32×32, the panel shows it ×3
PAGE_TIMEOUT_MS = 180_000      # first page load: the page's kernel imports torch and loads the model
GENERATE_TIMEOUT_MS = 120_000  # 4 images × 8 steps take well under a second here; the bound is generous, not a sleep
UI_TIMEOUT_MS = 20_000         # a widget's value reaching the page


def chromium():
    for p in ('/usr/bin/chromium', shutil.which('chromium') or '', shutil.which('chromium-browser') or ''):
        if p and os.access(p, os.X_OK): return p


def png_of(where, selector: str = None) -> bytes:
    "The bytes of the picture an <img> shows (a page and a selector, or a locator), read back from its blob: URL."
    js = """async el => {
        const buf = new Uint8Array(await (await fetch(el.src)).arrayBuffer());
        let s = ''; for (let i = 0; i < buf.length; i += 8192) s += String.fromCharCode(...buf.subarray(i, i + 8192));
        return btoa(s); }"""
    b64 = where.eval_on_selector(selector, js) if selector else where.evaluate(js)
    return base64.b64decode(b64)


def check_grid(data: bytes) -> str:
    "Checks of the generated grid; returns a description, raises AssertionError on a failure."
    import numpy as np
    from PIL import Image
    img = Image.open(io.BytesIO(data)).convert('RGB')
    want = (N * SIZE * SCALE, SIZE * SCALE)
    assert img.size == want, f'grid is {img.size}, expected {want} ({N} images of {SIZE}×{SIZE}, shown ×{SCALE})'
    a = np.asarray(img).astype(float) / 255                              # (H, W, 3)
    bright = a.max(-1) > 0.5                                              # the strokes
    assert a.std() > 0.05, f'the grid is blank (pixel std {a.std():.3f})'
    frac = bright.mean()
    assert 0.02 < frac < 0.6, f'{frac:.1%} of the pixels are bright: not digits on black'
    green = (a[..., 1] > a[..., 0]) & (a[..., 1] > a[..., 2])
    g = green[bright].mean()
    assert g > 0.8, f'only {g:.0%} of the stroke pixels are green for "{PROMPT}"'
    per_image = [bright[:, i * SIZE * SCALE:(i + 1) * SCALE * SIZE].mean() for i in range(N)]
    assert min(per_image) > 0.02, f'an image of the grid is empty: bright fractions {per_image}'
    return f'{img.size[0]}×{img.size[1]} grid, pixel std {a.std():.3f}, {frac:.1%} stroke pixels, {g:.0%} of them green'


def check_word_maps(page) -> str:
    "Checks of the word maps under the grid: the first image, then one heat map per word of PROMPT, labelled."
    import numpy as np
    from PIL import Image
    from playwright.sync_api import expect
    labels = [t.strip() for t in page.locator('.sd-maps .sd-word').all_inner_texts()]
    assert labels == ['(image)'] + PROMPT.split(), f'word map labels {labels}, expected the image then {PROMPT.split()}'
    maps = page.locator('img.sd-word-map')
    assert maps.count() == len(PROMPT.split()), f'{maps.count()} word maps for the {len(PROMPT.split())} words'
    spreads = []
    for i in range(maps.count()):
        expect(maps.nth(i)).to_have_js_property('complete', True, timeout=UI_TIMEOUT_MS)
        heat = np.asarray(Image.open(io.BytesIO(png_of(maps.nth(i)))).convert('RGB')).astype(float) / 255
        assert heat.shape[:2] == (SIZE * SCALE, SIZE * SCALE), f'word map {i} is {heat.shape[1]}×{heat.shape[0]}'
        assert heat.std() > 0.05, f'the map of "{labels[i + 1]}" is flat (pixel std {heat.std():.3f})'
        spreads.append(heat.std())
    return f'{maps.count()} word maps ({", ".join(labels[1:])}), {SIZE * SCALE}×{SIZE * SCALE}, pixel std ' + \
        ', '.join(f'{s:.2f}' for s in spreads)


def main(shots: Path) -> int:
    exe = chromium()
    if not exe:
        print('app test: SKIPPED: no Chromium on this machine (install Debian\'s: apt-get install -y chromium)')
        return 0
    from playwright.sync_api import sync_playwright, expect
    from slowdiff.explorer import ExplorerApp
    shots.mkdir(parents=True, exist_ok=True)
    for old in shots.glob('*.png'): old.unlink()
    t0 = time.time()
    with ExplorerApp(port=0, timeout=90) as app, tempfile.TemporaryDirectory(prefix='slowdiff-chromium-') as profile:
        print(f'app at {app.url} ({time.time() - t0:.1f} s); browser {exe}')
        port = app.port
        with sync_playwright() as pw:
            # a persistent context is how Playwright takes a fresh --user-data-dir of our own
            ctx = pw.chromium.launch_persistent_context(profile, executable_path=exe, headless=True,
                                                        args=[f for f in CHROMIUM_FLAGS if f != '--headless'],
                                                        viewport={'width': 1000, 'height': 900})
            try:
                page = ctx.new_page()
                errors = []
                page.on('pageerror', lambda e: errors.append(str(e)))
                page.goto(app.url, timeout=PAGE_TIMEOUT_MS)
                button = page.get_by_role('button', name='Generate')
                button.wait_for(timeout=PAGE_TIMEOUT_MS)
                t_page = time.time() - t0
                page.screenshot(path=shots / '1_loaded.png')
                print(f'page with the panel after {t_page:.1f} s')

                prompt = page.locator('.widget-text').filter(has=page.locator('label', has_text=re.compile('^prompt$'))).locator('input')
                prompt.fill(PROMPT)
                steps_box = page.locator('.sd-steps input')
                handle = page.locator('.sd-steps-slider .noUi-handle')
                handle.focus()
                start = int(steps_box.input_value())
                for _ in range(start - STEPS): handle.press('ArrowLeft')   # move the slider with the keyboard
                expect(steps_box).to_have_value(str(STEPS), timeout=UI_TIMEOUT_MS)
                print(f'steps slider moved {start} -> {STEPS}; the box follows')

                t1 = time.time()
                button.click()
                status = page.locator('.sd-status')
                expect(status).to_contain_text(f'{N} image(s), {STEPS} steps', timeout=GENERATE_TIMEOUT_MS)
                expect(page.locator('img.sd-grid')).to_have_js_property('complete', True, timeout=UI_TIMEOUT_MS)
                t_gen = time.time() - t1
                grid = png_of(page, 'img.sd-grid')
                shown = page.eval_on_selector('img.sd-grid', 'el => [el.naturalWidth, el.naturalHeight]')
                assert tuple(shown) == (N * SIZE * SCALE, SIZE * SCALE), f'the page decoded the grid as {shown}'
                print(f'generated in {t_gen:.1f} s ({status.inner_text().strip()}): {check_grid(grid)}')
                bar = page.locator('.progress-bar').first.evaluate('el => el.style.width')
                assert bar == '100%', f'progress bar at {bar} after generating'
                assert page.eval_on_selector('img.sd-strip', 'el => el.naturalWidth') > 0, 'no denoising strip'
                assert page.locator('.sd-maps').is_hidden(), 'word maps shown with the option off'
                page.screenshot(path=shots / '2_generated.png')

                page.locator('.sd-show-maps input').check()                 # show where each word looks
                t1 = time.time()
                button.click()
                word_maps = page.locator('img.sd-word-map')
                expect(word_maps).to_have_count(len(PROMPT.split()), timeout=GENERATE_TIMEOUT_MS)
                expect(status).to_contain_text(f'{N} image(s), {STEPS} steps', timeout=GENERATE_TIMEOUT_MS)
                print(f'with word maps in {time.time() - t1:.1f} s: {check_word_maps(page)}')
                assert png_of(page, 'img.sd-grid') == grid, 'recording the maps changed the picture'
                page.set_viewport_size({'width': 1000, 'height': 1080})      # the whole panel, the strip too
                page.screenshot(path=shots / '3_word_maps.png')
                page.set_viewport_size({'width': 1000, 'height': 900})

                message = page.locator('.sd-message')
                steps_box.fill('0'); steps_box.press('Enter')
                button.click()
                expect(message).to_contain_text('steps must be between 1 and 1000; got 0', timeout=UI_TIMEOUT_MS)
                assert png_of(page, 'img.sd-grid') == grid, 'the picture changed after a refused request'
                assert word_maps.count() == len(PROMPT.split()), 'the word maps went after a refused request'
                page.screenshot(path=shots / '4_bad_steps.png')
                print(f'steps 0: the page says "{message.inner_text().strip()}"')

                steps_box.fill(str(STEPS)); steps_box.press('Enter')
                prompt.fill('a <cat> four')
                button.click()
                expect(message).to_contain_text('unknown token <cat> in the prompt', timeout=UI_TIMEOUT_MS)
                assert png_of(page, 'img.sd-grid') == grid, 'the picture changed after a refused request'
                page.screenshot(path=shots / '5_unknown_token.png')
                print(f'unknown token: the page says "{message.inner_text().strip()}"')
                assert not errors, f'errors in the page: {errors}'
            finally: ctx.close()
    with socket.socket() as s: listening = s.connect_ex(('127.0.0.1', port)) == 0
    assert not listening, f'something still listens on port {port} after stopping the app'
    print(f'server stopped; app test passed in {time.time() - t0:.1f} s; screenshots in {shots}')
    return 0


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--shots', type=Path, default=ROOT / '_app_check', help='where to keep the screenshots')
    args = ap.parse_args()
    try: sys.exit(main(args.shots))
    except AssertionError as e: print(f'app test: FAILED: {e}'); sys.exit(1)
