"""Fault and rerun tests of `img2sdf_run` at the `tiny` preset, on CPU (`.ci/run` runs them).

    python tools/fault_tests.py [--keep DIR]

1. An uninterrupted run: the reference.
2. For each long stage (prepare, render, DeepSDF, the DiT, evaluation): the same command killed with SIGKILL while
   the stage is under way, then run again to its end. Its per-shape figures, split and checkpoints must be
   bit-identical to the reference's.
3. On copies of the reference run: a changed DeepSDF learning rate, render distance, holdout and encoder. Each rerun
   must redo exactly the stages that depend on the change, and name the change in one line.

Prints one line a scenario and closes with 'N passed, N failed'; exit status 1 if any failed.
"""
import argparse, os, shutil, signal, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def command(out: Path, work: Path, *extra: str) -> list[str]:
    "The `img2sdf_run` command line of every scenario, into `out`, with `extra` settings."
    return [sys.executable, '-c', 'from img2sdf.cli import run_cli; run_cli()', '--preset', 'tiny', '--out', str(out),
            '--device', 'cpu', '--set', 'source=folder', f"path={work/'mine'}", f"ood_path={work/'meshes'}",
            'workers=1', 'holdout=0.25', 'n_ood=2', 'dit_steps=200', *extra]


def run(cmd: list[str], env: dict, log: Path) -> subprocess.CompletedProcess:
    with open(log, 'a') as f: return subprocess.run(cmd, env=env, stdout=f, stderr=subprocess.STDOUT)


def files(out: Path, pattern: str) -> list[Path]: return sorted(out.glob(pattern))


# where each stage is under way: some of its output written, not yet all
UNDER_WAY = {
    'prepare': lambda o: files(o, 'data/train/shapes/*/meta.json') and not (o/'data/train/manifest.json').exists(),
    'render': lambda o: files(o, 'data/train/shapes/*/views/made.json') and not files(o, 'data/train/features_*'),
    'deepsdf': lambda o: (o/'deepsdf/log.json').exists() and not (o/'deepsdf/report.json').exists(),
    'dit': lambda o: (o/'dit/log.json').exists() and not (o/'dit/recall.json').exists(),
    'evaluation': lambda o: (o/'eval').exists() and not (o/'eval/summary.json').exists(),
}


def killed_mid(cmd: list[str], env: dict, out: Path, stage: str, log: Path) -> bool:
    "Start `cmd`, SIGKILL its process group once `stage` is under way; False if it ended first."
    with open(log, 'a') as f:
        p = subprocess.Popen(cmd, env=env, stdout=f, stderr=subprocess.STDOUT, start_new_session=True)
        while p.poll() is None:
            if UNDER_WAY[stage](out):
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
                return True
            time.sleep(0.01)
    return False


def figures(out: Path) -> dict:
    "What a finished run made: the per-shape evaluation rows, the split, and both trained models' weights."
    from img2sdf.core import load_checkpoint, digest, load_json
    return {'per_shape.csv': (out/'eval/per_shape.csv').read_text(), 'split': load_json(out/'split.json'),
            'deepsdf': digest(load_checkpoint(out/'deepsdf/checkpoint.safetensors')['model']),
            'dit': digest(load_checkpoint(out/'dit/checkpoint.safetensors')['model'])}


# the artefacts of each stage whose rewriting shows that the stage ran again
ARTEFACTS = {'data': 'data/train/shapes/*/sdf.npz', 'renders': 'data/train/shapes/*/views/view_00.png',
             'features': 'data/train/features_*.npz', 'split': 'split.json',
             'deepsdf': 'deepsdf/checkpoint.safetensors', 'dit': 'dit/checkpoint.safetensors'}


def stamps(out: Path) -> dict:
    """Each stage's artefacts as they stand: files by their modification times, checkpoints by their weights (a
    finished trainer that a rerun finds done writes its checkpoint again, unchanged)."""
    from img2sdf.core import load_checkpoint, digest
    stamp = lambda p: digest(load_checkpoint(p)['model']) if p.suffix == '.safetensors' else p.stat().st_mtime_ns
    return {stage: {p.name: stamp(p) for p in files(out, pattern)} if stage == 'features' else
            {str(p): stamp(p) for p in files(out, pattern)} for stage, pattern in ARTEFACTS.items()}


def tiny_dinov2(folder: Path) -> Path:
    "A small randomly initialised DINOv2 saved where the encoder loads it from (the real loading path, offline)."
    os.environ['HF_HUB_DISABLE_PROGRESS_BARS'] = '1'
    from transformers import Dinov2Config, Dinov2Model
    Dinov2Model(Dinov2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                             patch_size=14, image_size=224)).save_pretrained(folder)
    return folder


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--keep', help='work in this folder and keep it (default: a temporary one, removed)')
    a = ap.parse_args(argv)
    work = Path(a.keep or tempfile.mkdtemp(prefix='img2sdf_faults_'))
    work.mkdir(parents=True, exist_ok=True)
    env = os.environ | dict(IMG2SDF_HOME=str(work/'home'), IMG2SDF_NO_PROGRESS='1', MPLBACKEND='Agg')
    log, results = work/'log.txt', []
    from img2sdf.data import make_mesh_families, make_test_meshes
    make_mesh_families(work/'mine')
    make_test_meshes(work/'meshes')
    shutil.rmtree(work/'meshes'/'broken')

    def report(name: str, ok: bool, what: str):
        results.append(ok)
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {what}", flush=True)

    t = time.perf_counter()
    ref = work/'reference'
    rc = run(command(ref, work), env, log).returncode
    if rc: sys.exit(f"the reference run failed (exit {rc}); see {log}")
    want = figures(ref)
    print(f"reference run: {time.perf_counter() - t:.0f} s", flush=True)

    for stage in UNDER_WAY:
        out = work/f'killed-{stage}'
        if stage not in ('prepare', 'render'): shutil.copytree(ref/'data', out/'data')   # data as the reference made it
        if not killed_mid(command(out, work), env, out, stage, log):
            report(f"SIGKILL during {stage}", False, 'the run ended before the stage was caught under way')
            continue
        rc = run(command(out, work), env, log).returncode
        same = rc == 0 and figures(out) == want
        report(f"SIGKILL during {stage}", same, 'the rerun ends bit-identical to the uninterrupted run' if same
               else f"the rerun (exit {rc}) differs from the uninterrupted run")

    dinov2 = tiny_dinov2(work/'tiny_dinov2')
    changes = {'DeepSDF learning rate': (['deepsdf.lr_decoder=0.003'], {'deepsdf', 'dit'}, '(lr_decoder)'),
               'render distance': (['views.distance=3.0'], {'renders', 'features', 'dit'}, '(distance)'),
               'holdout': (['holdout=0.5'], {'split', 'deepsdf', 'dit'}, '(holdout)'),
               'encoder': (['encoder=dinov2', f'views.dinov2={dinov2}'], {'features', 'dit'}, '(features')}
    for name, (extra, redo, line) in changes.items():
        out = work/f"changed-{name.replace(' ', '-')}"
        shutil.copytree(ref, out)
        before = stamps(out)
        mark = log.stat().st_size
        rc = run(command(out, work, *extra), env, log).returncode
        said = log.read_text()[mark:]
        after = stamps(out)
        redone = {s for s in ARTEFACTS if before[s] != after[s]}
        ok = rc == 0 and redone == redo and line in said
        report(f"changed {name}", ok, f"redid {sorted(redone)}" + ('' if ok else
               f"; expected {sorted(redo)} and a line naming {line} (exit {rc})"))

    passed = sum(results)
    print(f"fault tests: {time.perf_counter() - t:.0f} s; log {log}")
    if not a.keep: shutil.rmtree(work)
    print(f"{passed} passed, {len(results) - passed} failed")
    sys.exit(0 if passed == len(results) else 1)


if __name__ == '__main__': main()
