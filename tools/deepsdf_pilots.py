#!/usr/bin/env python3
"""The study's two Phase 11 pilots (sections 6.3 and 6.4) on the first 20 shapes of a prepared dataset, written as one
result file that the results page reads: for each preset, the training time, the study's table (SDF L1 mean and max,
latent pairwise cosine and norm) and every shape's mesh metrics (marching cubes at 128³ against its watertight mesh).

    python tools/deepsdf_pilots.py --data DIR --out RUNS --json nbs/results/deepsdf_pilots_<source>_<device>.json

Each preset trains in RUNS/<preset> with img2sdf_train_deepsdf's pieces (a rerun resumes or reuses a finished run). A
preset that stalls (a dead start under the study's clamped gradient) is trained again with `clamp_grad=through` and
recorded beside it as `<preset>_through`.
"""
import platform, sys, time
from pathlib import Path

import torch

from img2sdf.core import save_json, load_json, default_device, ArgumentParser, console_script, refuse_overwrite
from img2sdf.data import ShapeDataset
from img2sdf.deepsdf import DeepSDFConfig, load_samples, train_deepsdf, finish_run, decode_mesh
from img2sdf.geometry import mesh_metrics_many

PRESETS = ('pilot_small', 'pilot')
KEPT = ('chamfer_l1', 'fscore', 'iou', 'normal_consistency')     # each shape's metrics in the file

def shape_scores(model, ds, res: int) -> list[dict]:
    "Every trained shape's mesh metrics against its ground-truth mesh, scored in one process per CPU."
    ids = range(model.latents.num_embeddings)
    scores = mesh_metrics_many([(decode_mesh(model, model.latents.weight[i], res), ds.mesh(i)) for i in ids])
    return [dict(name=ds.shapes[i]['name'], uid=ds.uid(i), category=ds.category(i), **{k: m[k] for k in KEPT})
            for i, m in zip(ids, scores)]

def run_pilot(preset: str, ds, out: Path, device, res: int, tweaks=()) -> dict:
    "Train one pilot preset (or reuse its finished run) and score it."
    cfg = DeepSDFConfig.preset(preset).override(*tweaks)
    samples = load_samples(ds, cfg.n_shapes, device)
    model, log = train_deepsdf(samples, cfg, out, device)
    r = finish_run(model, samples, out)
    return dict(n_shapes=r['n_shapes'], train_s=log['train'][-1]['time'], epochs=log['train'][-1]['epoch'],
                status=log['status'],
                sdf_l1_mean=r['sdf_l1_mean'], sdf_l1_max=r['sdf_l1_max'], latent_cos=r['latent_pairwise_cos'],
                latent_norm=r['latent_norm_mean'], decoder_params=r['decoder_params'],
                shapes=shape_scores(model, ds, res))

def made_here(path) -> list:
    "`path` where it is a result file of this tool (which a rerun may replace), else nothing."
    p = Path(path)
    try: return [p] if load_json(p)['meta']['command'].startswith(TOOL) else []
    except Exception: return []

TOOL = 'python tools/deepsdf_pilots.py'

@console_script
def deepsdf_pilots(argv=None):
    ap = ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--data', required=True, help='prepared dataset folder')
    ap.add_argument('--out', required=True, help='folder of the two runs')
    ap.add_argument('--json', required=True, help='result file to write')
    ap.add_argument('--device')
    ap.add_argument('--mesh_res', type=int, default=128)
    ap.add_argument('--set', nargs='*', default=[], metavar='KEY=VALUE', help='change both presets (a smoke test)')
    a = ap.parse_args(argv)
    refuse_overwrite([a.json], made=made_here(a.json))
    ds, dev = ShapeDataset(a.data), default_device(a.device)
    res = dict(meta=dict(data=str(a.data), source=ds.source, device=torch.cuda.get_device_name(dev)
                         if dev.type == 'cuda' else platform.processor() or 'cpu', mesh_res=a.mesh_res,
                         command=' '.join([TOOL] + (argv or sys.argv[1:]))))
    runs = [(p, p, a.set) for p in PRESETS]
    for key, p, tweaks in runs:
        t = time.perf_counter()
        res[key] = run_pilot(p, ds, Path(a.out)/key, dev, a.mesh_res, tweaks)
        r = res[key]
        print(f"{key}: {r['status']}, SDF L1 mean {r['sdf_l1_mean']:.5f} max {r['sdf_l1_max']:.5f}, "
              f"trained {r['train_s']:.1f} s, {time.perf_counter() - t:.1f} s in all", flush=True)
        if r['status'] == 'stalled':      # a dead start under the study's gradient: its remedy, as a run of its own
            runs.append((f'{p}_through', p, [*tweaks, 'clamp_grad=through']))
    save_json(res, a.json)
    print(f"wrote {a.json}")

if __name__ == '__main__':
    deepsdf_pilots()
