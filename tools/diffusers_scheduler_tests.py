#!/usr/bin/env python
"""Run diffusers' own scheduler tests against slowdiff's samplers.

    python tools/diffusers_scheduler_tests.py REPO [--mode baseline|ours|both]

REPO is a diffusers git directory (bare or not; the files are read at HEAD) or a plain checkout folder. The tool copies
diffusers' scheduler test files (`FILES`) into a fresh temporary folder, never into REPO, and runs pytest on them there,
once per mode, in a subprocess with this file as a pytest plugin:

- **baseline**: the tests as diffusers wrote them, with the installed diffusers' schedulers.
- **ours**: in the seven per-scheduler modules, slowdiff's class from `slowdiff.samplers.SAMPLERS` replaces diffusers'
  (the module attribute and every `scheduler_classes` tuple; in test_scheduler_dpm_multi.py only
  DPMSolverMultistepScheduler), as it is: no adapter.

Each test is classified as pass, fail, refused (a ValueError raised in slowdiff's code whose message says that an
option is not implemented, `REFUSAL`) or skip. The tests of diffusers' config machinery (`CONFIG_MACHINERY`: saving,
loading, compatibles, hub, deprecated kwargs), which our samplers do not set out to have, are counted apart. The copies
of `SchedulerCommonTest` that pytest collects in every per-scheduler module (with no scheduler classes, so vacuous)
are deselected. The tool prints a table per mode, the tests that fail with ours but pass on baseline, and the refused
tests with their messages. It exits 1 when such a test exists (with `--mode ours`: any failing test that is not config
machinery), 2 when pytest produced no results, else 0.

It is not in CI: it needs a diffusers checkout (the tests are not in the wheel). Lesson 22
(nbs/22_scheduler_tests.ipynb) reproduces the scenarios of these tests in CI.
"""
import argparse, collections, importlib.util, json, os, re, shutil, subprocess, sys, tempfile, time
from pathlib import Path
import pytest

FILES = ['tests/__init__.py', 'tests/conftest.py', 'tests/testing_utils.py', 'tests/others/__init__.py',
         'tests/others/test_utils.py', 'tests/schedulers/__init__.py', 'tests/schedulers/test_schedulers.py'] + [
         f'tests/schedulers/test_scheduler_{s}.py'
         for s in ('ddpm', 'ddim', 'euler', 'euler_ancestral', 'heun', 'lms', 'dpm_multi')]
COMMON = 'test_schedulers.py'   # defines SchedulerCommonTest
# per-scheduler test module -> (the diffusers class it tests, its key in slowdiff.samplers.SAMPLERS)
TARGETS = {'test_scheduler_ddpm': ('DDPMScheduler', 'ddpm'), 'test_scheduler_ddim': ('DDIMScheduler', 'ddim'),
           'test_scheduler_euler': ('EulerDiscreteScheduler', 'euler'),
           'test_scheduler_euler_ancestral': ('EulerAncestralDiscreteScheduler', 'euler_a'),
           'test_scheduler_heun': ('HeunDiscreteScheduler', 'heun'),
           'test_scheduler_lms': ('LMSDiscreteScheduler', 'lms'),
           'test_scheduler_dpm_multi': ('DPMSolverMultistepScheduler', 'dpm++2m')}
# tests of diffusers' ConfigMixin/SchedulerMixin machinery (serialisation, compatibles, hub, getattr, kwargs)
CONFIG_MACHINERY = {
    'test_from_save_pretrained', 'test_from_pretrained', 'test_compatibles', 'test_trained_betas',
    'test_getattr_is_correct', 'test_deprecated_kwargs', 'test_scheduler_public_api',
    'test_save_load_from_different_config', 'test_save_load_compatible_schedulers',
    'test_save_load_from_different_config_comp_schedulers', 'test_default_arguments_not_in_config',
    'test_default_solver_type_after_switch', 'test_push_to_hub', 'test_push_to_hub_in_organization'}
# how slowdiff's samplers word a refusal of an option they do not implement
REFUSAL = re.compile(r'does not (implement|support|take)|has no option|variance_type must be|unknown beta schedule')
PLUGIN = 'slowdiff_scheduler_plugin'   # the name this file is copied under, for pytest's `-p`
MODE_VAR, JSON_VAR = 'SLOWDIFF_SCHEDULER_TESTS_MODE', 'SLOWDIFF_SCHEDULER_TESTS_JSON'


# ---- the pytest plugin: runs inside the pytest subprocess ----

RESULTS = {}


def vacuous(item) -> bool:
    "A copy of SchedulerCommonTest collected in a per-scheduler module (it has no scheduler classes there)."
    return item.cls is not None and item.cls.__name__ == 'SchedulerCommonTest' and item.path.name != COMMON


def substitute(module):
    "Put slowdiff's class in place of diffusers' in `module`: the module attribute and every `scheduler_classes`."
    from slowdiff.samplers import SAMPLERS
    attr, key = TARGETS[module.__name__.rsplit('.', 1)[-1]]
    ours, theirs = SAMPLERS[key]
    if getattr(module, attr) is not theirs:
        raise pytest.UsageError(f'{module.__name__}.{attr} is not the diffusers class slowdiff pairs with {key!r}')
    setattr(module, attr, ours)
    for obj in list(vars(module).values()):
        if isinstance(obj, type) and 'scheduler_classes' in vars(obj):
            obj.scheduler_classes = tuple(ours if c is theirs else c for c in obj.scheduler_classes)


def pytest_collection_modifyitems(session, config, items):
    dropped = [it for it in items if vacuous(it)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [it for it in items if not vacuous(it)]
    if os.environ.get(MODE_VAR) != 'ours': return
    modules = {it.module.__name__: it.module for it in items}
    for name, module in modules.items():
        if name.rsplit('.', 1)[-1] in TARGETS: substitute(module)


def refused(excinfo) -> bool:
    "A ValueError raised in slowdiff's code with a refusal's wording."
    if excinfo is None or not issubclass(excinfo.type, ValueError): return False
    tb = excinfo.tb
    while tb.tb_next is not None: tb = tb.tb_next
    return tb.tb_frame.f_globals.get('__name__', '').startswith('slowdiff') and bool(REFUSAL.search(str(excinfo.value)))


def reason(excinfo) -> str:
    lines = str(excinfo.value).strip().splitlines()
    return f'{excinfo.typename}: {lines[0] if lines else ""}'[:220]


def where(excinfo) -> str:
    entries = list(excinfo.traceback)
    return f'{entries[-1].path.name}:{entries[-1].lineno + 1}' if entries else ''


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    rep = (yield).get_result()
    r = RESULTS.setdefault(item.nodeid, {'outcome': 'pass', 'reason': '', 'where': ''})
    r['config_machinery'] = item.name.split('[')[0] in CONFIG_MACHINERY
    if rep.skipped and r['outcome'] == 'pass':
        r['outcome'] = 'skip'
        r['reason'] = str(rep.longrepr[-1]) if isinstance(rep.longrepr, tuple) else ''
    elif rep.failed:
        exc = call.excinfo
        r['outcome'] = 'refused' if refused(exc) else 'fail'
        if exc is not None: r['reason'], r['where'] = reason(exc), where(exc)


def pytest_sessionfinish(session, exitstatus):
    out = os.environ.get(JSON_VAR)
    if out: Path(out).write_text(json.dumps({'mode': os.environ.get(MODE_VAR), 'results': RESULTS}, indent=1))


# ---- the tool: copies the tests, runs pytest per mode, prints the summary ----

def git(repo, *args):
    "git's output in `repo`, or None if git fails there."
    r = subprocess.run(['git', '-C', str(repo), *args], capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else None


def is_git_dir(repo) -> bool:
    "Whether `repo` is a bare repository, a `.git` directory or the top of a work tree (not a folder inside one)."
    if git(repo, 'rev-parse', '--is-bare-repository') == 'true': return True
    here = Path(repo).resolve()
    tops = git(repo, 'rev-parse', '--show-toplevel'), git(repo, 'rev-parse', '--absolute-git-dir')
    return any(t and Path(t).resolve() == here for t in tops)


def copy_tests(repo, dest: Path):
    "Copy `FILES` from `repo` (at HEAD for a git directory) into `dest`."
    use_git = is_git_dir(repo)
    for f in FILES:
        (dest / f).parent.mkdir(parents=True, exist_ok=True)
        if use_git:
            data = subprocess.run(['git', '-C', str(repo), 'show', f'HEAD:{f}'], capture_output=True, check=True).stdout
            (dest / f).write_bytes(data)
        else: shutil.copyfile(Path(repo) / f, dest / f)
    (dest / 'pytest.ini').write_text('[pytest]\n')   # the rootdir: no ini file above the temp folder applies
    shutil.copyfile(__file__, dest / f'{PLUGIN}.py')


def run_mode(mode: str, dest: Path) -> dict:
    "Run pytest on the copied tests in `mode`; the per-test results, or None if pytest wrote none."
    out = dest / f'results_{mode}.json'
    env = dict(os.environ, HF_HUB_OFFLINE='1', CUDA_VISIBLE_DEVICES='', **{MODE_VAR: mode, JSON_VAR: str(out)})
    env['PYTHONPATH'] = os.pathsep.join(p for p in (str(dest), os.environ.get('PYTHONPATH')) if p)
    extra = ['-p', 'no:randomly'] if importlib.util.find_spec('pytest_randomly') else []
    tests = [f for f in FILES if Path(f).name.startswith('test_scheduler')]
    cmd = [sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', *extra, '-p', PLUGIN, *tests]
    t0 = time.time()
    r = subprocess.run(cmd, cwd=dest, env=env, capture_output=True, text=True)
    lines = (r.stdout + r.stderr).strip().splitlines()
    print(f'{mode}: {lines[-1] if lines else "(no output)"} [{time.time() - t0:.0f}s]')
    if not out.exists():
        print('\n'.join(lines[-40:]))
        return None
    return json.loads(out.read_text())['results']


def file_of(nodeid: str) -> str: return nodeid.split('::')[0].split('/')[-1]
def short(nodeid: str) -> str: return nodeid.split('/')[-1]


def table(mode: str, results: dict) -> list:
    "Per file: pass/fail/refused/skip, and the config machinery tests' (pass,fail,refused,skip) apart."
    files = sorted({file_of(n) for n in results}, key=lambda s: (s != COMMON, s))
    lines = [f'== {mode}: file  pass/fail/refused/skip | config machinery N (pass,fail,refused,skip)']
    total, total_cm = collections.Counter(), collections.Counter()
    for fl in files + ['TOTAL']:
        if fl == 'TOTAL': c, cm = total, total_cm
        else:
            c, cm = collections.Counter(), collections.Counter()
            for n, r in results.items():
                if file_of(n) == fl: (cm if r['config_machinery'] else c)[r['outcome']] += 1
            total.update(c); total_cm.update(cm)
        lines.append(f"  {fl:36s} {c['pass']:3d}/{c['fail']:3d}/{c['refused']:3d}/{c['skip']:2d} | config "
                     f"{sum(cm.values()):2d} ({cm['pass']},{cm['fail']},{cm['refused']},{cm['skip']})")
    return lines


def regressions(ours: dict, baseline) -> list:
    "Tests (not config machinery) that fail with ours and pass on baseline (or, without a baseline, fail)."
    def passes_on_baseline(n): return baseline is None or baseline.get(n, {}).get('outcome') == 'pass'
    return [n for n, r in ours.items()
            if r['outcome'] == 'fail' and not r['config_machinery'] and passes_on_baseline(n)]


def summary(results: dict) -> int:
    "Print the tables and lists; the exit code."
    for mode, res in results.items(): print('\n'.join(table(mode, res)))
    ours, baseline = results.get('ours'), results.get('baseline')
    if baseline is not None:
        bad = [n for n, r in baseline.items() if r['outcome'] != 'pass' and not r['config_machinery']]
        print(f'\n== baseline: tests not passing, not config machinery ({len(bad)})')
        for n in bad: print(f"  {short(n)}  {baseline[n]['outcome']}  {baseline[n]['reason']}")
    if ours is None: return 0
    bad = regressions(ours, baseline)
    print(f"\n== ours: fail, {'pass on baseline, ' if baseline is not None else ''}not config machinery ({len(bad)})")
    for n in bad: print(f"  {short(n)}  [{ours[n]['where']}] {ours[n]['reason']}")
    refusals = [n for n, r in ours.items() if r['outcome'] == 'refused']
    print(f'\n== ours: refused ({len(refusals)})')
    for n in refusals: print(f"  {short(n)}  {ours[n]['reason']}")
    return 1 if bad else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('repo', help='a diffusers git directory (bare or not) or checkout folder')
    ap.add_argument('--mode', choices=('baseline', 'ours', 'both'), default='both')
    args = ap.parse_args()
    modes = ('baseline', 'ours') if args.mode == 'both' else (args.mode,)
    with tempfile.TemporaryDirectory(prefix='diffusers_scheduler_tests_') as tmp:
        copy_tests(args.repo, Path(tmp))
        results = {m: run_mode(m, Path(tmp)) for m in modes}
    if any(r is None for r in results.values()): return 2
    return summary(results)


if __name__ == '__main__': sys.exit(main())
