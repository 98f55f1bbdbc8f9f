"""Object masks measured, not eyeballed: renders of held-out shapes pasted onto real photographs (scikit-image's sample
photos, cropped and scaled) and the same renders on black, each found by every mask method and scored against the
render's own alpha (mask IoU); then the mesh each prepared picture gives, cluttered against plain, by Chamfer-L1 with
a paired bootstrap interval over shapes.

    python tools/photo_masks.py --run RUN --json nbs/results/photo_masks.json --figure nbs/images/photo_masks.png

RUN is an `img2sdf_run` folder (the `cpu` preset's, say): its model predicts the meshes, its held-out instances and
out-of-distribution sets are the shapes. A few minutes on 2 CPU cores. With `--subjects SEED ...` it measures only
how much of each bare photo, as those seeds crop it, the segmenter takes for an object: a photo's own subject is what
the segmenter confuses with the object pasted on it.

    python tools/photo_masks.py --subjects 0 1 --json nbs/results/photo_subjects.json
"""
import time
from pathlib import Path

import numpy as np
import skimage.data

from img2sdf.core import ArgumentParser, console_script, load_json, save_json, save_figure, refuse_overwrite, UsageError
from img2sdf.data import ShapeDataset
from img2sdf.geometry import mesh_metrics_group
from img2sdf.views import Renderer, ViewsConfig, fibonacci_views, on_background, find_object, frame_object, segment
from img2sdf.latent_dit import ImageTo3D
from img2sdf.ood_eval import paired_bootstrap, verdict

PHOTOS = ('astronaut', 'coffee', 'chelsea', 'rocket', 'camera', 'brick', 'grass', 'gravel')   # scikit-image's
METHODS = ('plain', 'rembg', 'box')   # `auto` is rembg where it is installed; `box` is rembg in a box around the object
SHOWN = ('coffee', 'camera', 'grass', 'astronaut')     # the figure's photos, one a shape


def backgrounds(rng) -> dict:
    "Each sample photo as RGB, cropped to a random square of half to all of its shorter side."
    out = {}
    for name in PHOTOS:
        a = getattr(skimage.data, name)()
        a = np.repeat(a[..., None], 3, -1) if a.ndim == 2 else a[..., :3]
        h = int(min(a.shape[:2]) * rng.uniform(0.5, 1.0))
        y, x = rng.integers(0, a.shape[0] - h + 1), rng.integers(0, a.shape[1] - h + 1)
        out[name] = np.ascontiguousarray(a[y:y + h, x:x + h])
    return out


def held_out(run: Path) -> list:
    "(set name, data set, index) of every held-out shape of an `img2sdf_run` folder."
    train = ShapeDataset(run/'data'/'train')
    out = [('in-distribution', train, i) for i in load_json(run/'split.json')['test']]
    for name in ('ood', 'ood-pybullet'):
        if (run/'data'/name/'manifest.json').exists():
            ds = ShapeDataset(run/'data'/name)
            out += [(name, ds, i) for i in range(len(ds))]
    return out


def iou(a, b) -> float: return float((a & b).sum() / max(1, (a | b).sum()))


def user_box(truth, margin: float = 0.1) -> tuple:
    "A box around the object as a user draws it: the true mask's bounds, `margin` of the object's size wider each way."
    ys, xs = np.nonzero(truth)
    dy, dx = margin * (np.ptp(ys) + 1), margin * (np.ptp(xs) + 1)
    return int(xs.min() - dx), int(ys.min() - dy), int(xs.max() + 1 + dx), int(ys.max() + 1 + dy)


def subject_share(photo, size: int = 256) -> float:
    """The share of a photo, as the composites have it with nothing pasted on it, that the segmenter takes for the
    salient object (confidence over one half): a photo with a subject of its own (a person, a cup) competes with the
    object pasted on it."""
    bare = on_background(np.zeros((1, 1, 3), np.uint8), np.zeros((1, 1), np.uint8), photo, size)[0]
    return float((segment(bare) > 0.5).mean())


def measure(run: Path, views: int = 2, size: int = 256, seed: int = 0, res: int = 128, n: int = 10_000) -> dict:
    rng = np.random.default_rng(seed)
    bgs, shapes = backgrounds(rng), held_out(run)
    ren = Renderer(ViewsConfig(size=224))
    pipe = ImageTo3D.from_pretrained(run, 'cpu')
    poses = fibonacci_views(64)[::64 // views][:views]
    rows, pairs, examples = [], [], []
    t0 = time.perf_counter()
    subjects = {b: subject_share(bg, size) for b, bg in bgs.items()}
    try:
        for split, ds, i in shapes:
            gt = ds.mesh(i)
            rgba = ren.render(gt, poses, alpha=True)
            cds, cds_box = {}, {}
            for v, img in enumerate(rgba):
                scale, at = rng.uniform(0.45, 0.85), rng.uniform(0.25, 0.75, 2)
                black, truth = on_background(img[..., :3], img[..., 3], np.zeros((size, size, 3), np.uint8), size,
                                             scale, at)
                pictures = {'black': black} | {b: on_background(img[..., :3], img[..., 3], bg, size, scale, at)[0]
                                                for b, bg in bgs.items()}
                box = user_box(truth)
                for b, pic in pictures.items():
                    found = {m: find_object(pic, method='rembg', box=box) if m == 'box' else find_object(pic, method=m)
                             for m in METHODS}
                    for m, f in found.items():
                        rows.append(dict(split=split, shape=ds.uid(i), view=v, background=b, method=m,
                                         used=f.method, iou=iou(f.mask, truth), doubts=len(f.doubts)))
                    if v == 0:                    # the mesh of the first view: every picture through the same path
                        for out, m in ((cds_box, 'box'), (cds, 'rembg')):     # the whole picture last: the figure's
                            if not found[m].mask.any(): raise UsageError(f"{b}: no object found ({m} mask is empty)")
                            view = frame_object(pic, found[m].mask, 224)[0]
                            mesh, _ = pipe.predict([view], res=res)
                            out[b] = mesh_metrics_group([mesh], gt, n, iou=False, seed=seed)[0]['chamfer_l1']
                        if len(examples) == len(pairs) < len(SHOWN) and b == SHOWN[len(examples)]:
                            examples.append((pic, found['rembg'].mask, view, mesh, f"{ds.uid(i)} on {b}",
                                             'warned' if found['rembg'].doubts else 'no warning'))
            pairs.append(dict(split=split, shape=ds.uid(i), cd=cds, cd_box=cds_box))
            print(f"{len(pairs)}/{len(shapes)} shapes, {time.perf_counter() - t0:.0f} s", flush=True)
    finally: ren.close()
    return dict(rows=rows, pairs=pairs, examples=examples, subjects=subjects, seconds=time.perf_counter() - t0)


def _iou_stats(rs, bad: float = 0.7) -> dict:
    """The mask IoU's median and 10th percentile over rows `rs`; the share warned about, and how the warnings sort:
    the share of bad masks (IoU < `bad`) that were warned about, and of good ones that were."""
    v, w = np.array([r['iou'] for r in rs]), np.array([r['doubts'] > 0 for r in rs])
    share = lambda x: float(x.mean()) if len(x) else float('nan')
    return dict(n=len(rs), median_iou=float(np.median(v)), p10_iou=float(np.percentile(v, 10)), warned=share(w),
                bad=int((v < bad).sum()), bad_warned=share(w[v < bad]), good_warned=share(w[v >= bad]),
                used={u: sum(r['used'] == u for r in rs) for u in sorted({r['used'] for r in rs})})


def _cd_change(pairs, photos, key: str = 'cd') -> dict:
    """The mesh's Chamfer-L1 on `photos` (mean over them, per shape) minus on black, both found as `key` says ('cd':
    in the whole picture, 'cd_box': in a box around the object): paired bootstrap over shapes."""
    a = np.array([np.mean([p[key][b] for b in photos]) for p in pairs])
    b = np.array([p[key]['black'] for p in pairs])
    d = paired_bootstrap(a - b)
    return dict(n=len(a), cluttered=float(a.mean()), plain=float(b.mean()), diff=d['mean'], lo=d['lo'], hi=d['hi'],
                verdict=verdict(d, 'chamfer_l1', 'plain').replace('model', 'cluttered'))


def summary(m: dict) -> dict:
    """Per method: the mask IoU's median and 10th percentile on the composites and on black (with the share warned
    about), and its median on each background; the mesh's Chamfer-L1 cluttered against plain, over all photos and on
    each; and the share of each bare photo that the segmenter takes for an object."""
    out = {}
    for meth in METHODS:
        mine = [r for r in m['rows'] if r['method'] == meth]
        comp, black = [r for r in mine if r['background'] != 'black'], [r for r in mine if r['background'] == 'black']
        out[meth] = dict(composites=_iou_stats(comp), black=_iou_stats(black))
        out[meth] |= dict(median_iou=out[meth]['composites']['median_iou'], p10_iou=out[meth]['composites']['p10_iou'],
                          by_background={b: _iou_stats([r for r in mine if r['background'] == b])['median_iou']
                                         for b in ('black', *PHOTOS)})
    out['chamfer'] = _cd_change(m['pairs'], PHOTOS) | dict(
        what='Chamfer-L1 of the mesh from one view: the mean over the photos of the composites minus the same render '
             'on black, paired by shape, bootstrap 95% interval')
    out['chamfer_by_photo'] = {b: _cd_change(m['pairs'], [b]) for b in PHOTOS}
    out['chamfer_box'] = _cd_change(m['pairs'], PHOTOS, 'cd_box') | dict(
        what='the same, each picture (on black too) found only inside a box around the object, as a user draws it: '
             'the true bounds, a tenth of its size wider each way')
    out['chamfer_box_by_photo'] = {b: _cd_change(m['pairs'], [b], 'cd_box') for b in PHOTOS}
    out['subject_share'] = m['subjects']
    return out


def figure(examples):
    import matplotlib.pyplot as plt
    from img2sdf.views import Renderer, ViewsConfig
    ren = Renderer(ViewsConfig(size=224))
    fig, axs = plt.subplots(len(examples), 4, figsize=(9, 2.3 * len(examples)), dpi=80, squeeze=False)
    try:
        for row, (pic, mask, view, mesh, title, warned) in zip(axs, examples):
            for ax, im, t in zip(row, (pic, mask, view, ren.picture(mesh)),
                                 (title, f'the mask found ({warned})', 'what the model saw', 'the mesh')):
                ax.imshow(im, cmap='gray' if im.ndim == 2 else None)
                ax.set_title(t, fontsize=8)
                ax.axis('off')
    finally: ren.close()
    fig.tight_layout()
    return fig


def subjects_only(seeds, path):
    "The share of each bare photo that the segmenter takes for an object, as each of `seeds` crops them, to `path`."
    share = {str(s): {b: subject_share(bg) for b, bg in backgrounds(np.random.default_rng(s)).items()} for s in seeds}
    for s, by in share.items(): print(f"seed {s}: " + ', '.join(f"{b} {v:.0%}" for b, v in by.items()))
    what = (f"tools/photo_masks.py --subjects {' '.join(map(str, seeds))}: the share of each scikit-image photo, "
            "cropped as the composites of that seed crop it and with nothing pasted on it, where u2netp's confidence "
            "is over one half")
    save_json(dict(what=what, subject_share=share), path)


@console_script
def main(argv=None):
    ap = ArgumentParser(prog='photo_masks.py', description=__doc__.split('\n\n')[0])
    ap.add_argument('--run', help='an img2sdf_run folder: its model, held-out shapes and data')
    ap.add_argument('--json', required=True)
    ap.add_argument('--figure')
    ap.add_argument('--views', type=int, default=2)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--subjects', type=int, nargs='+', metavar='SEED',
                    help="only the share of each bare photo that the segmenter takes for an object, as these seeds "
                         "crop them (no run needed)")
    a = ap.parse_args(argv)
    refuse_overwrite([p for p in (a.json, a.figure) if p])
    if a.subjects: return subjects_only(a.subjects, a.json)
    if not a.run: raise UsageError("photo_masks.py: give --run (or --subjects)")
    run = Path(a.run)
    if not (run/'split.json').exists(): raise UsageError(f"{run}: not an img2sdf_run folder (no split.json)")
    m = measure(run, a.views, seed=a.seed)
    s = summary(m)
    for meth in METHODS:
        c, b = s[meth]['composites'], s[meth]['black']
        print(f"{meth:>6}: composites median IoU {c['median_iou']:.3f}, p10 {c['p10_iou']:.3f}, "
              f"warned {c['warned']:.0%} (of the masks with IoU < 0.7 {c['bad_warned']:.0%}, of the rest "
              f"{c['good_warned']:.0%}); on black {b['median_iou']:.3f}, p10 {b['p10_iou']:.3f}, "
              f"warned {b['warned']:.0%}")
    for box in ('', '_box'):
        for name, c in [('all photos', s['chamfer' + box])] + list(s[f'chamfer{box}_by_photo'].items()):
            print(f"Chamfer-L1{' in a box' if box else ''} on {name}: cluttered {c['cluttered']:.4f}, plain "
                  f"{c['plain']:.4f}, difference {c['diff']:.4f} [{c['lo']:.4f}, {c['hi']:.4f}] over {c['n']} shapes: "
                  f"{c['verdict']}")
    by = s['rembg']['by_background']
    print('mask IoU by background (rembg): ' + ', '.join(f"{b} {v:.3f}" for b, v in by.items()))
    print('the bare photo taken for an object (rembg): ' +
          ', '.join(f"{b} {v:.0%}" for b, v in s['subject_share'].items()))
    what = (f"tools/photo_masks.py --run {run.name} --views {a.views}: {len(m['pairs'])} held-out shapes of the run, "
            f"{a.views} views each, on black and on {len(PHOTOS)} scikit-image photos ({', '.join(PHOTOS)}); "
            f"{m['seconds']:.0f} s on the CPU")
    save_json(dict(what=what, photos=list(PHOTOS), **s, pairs=m['pairs']), a.json)
    if a.figure: save_figure(figure(m['examples']), a.figure)


if __name__ == '__main__': main()
