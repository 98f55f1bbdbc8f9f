"""The app as a user meets it, in headless Chromium (Debian's `chromium`, driven by playwright): start the app on
127.0.0.1, upload a photo, press the button, wait for the mesh in the viewer, and save a screenshot. Fails unless
the status line says a prediction was made and the viewer shows more than its background; prints the status and
any warning about the picture's mask.

    python tools/app_screenshot.py [--model X] [--photo FILE] [--out nbs/images/app_screenshot.png]

Needs `pip install playwright` (no browser download: it drives /usr/bin/chromium) and `apt-get install chromium`.
"""
import argparse, io, socket, sys, time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--model', help='as img2sdf_demo --model (default: the newest trained run)')
    ap.add_argument('--photo', help="the picture to upload (default: scikit-image's coffee cup)")
    ap.add_argument('--out', default=str(ROOT/'nbs'/'images'/'app_screenshot.png'))
    ap.add_argument('--browser', default='/usr/bin/chromium')
    a = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright
    from img2sdf.app import Demo, build_app
    demo = Demo(a.model)
    if demo.pipe is None: sys.exit(f"no trained model: {demo.problem}")
    photo = Path(a.photo) if a.photo else demo.workdir/'coffee.png'
    if not a.photo:
        import skimage.data
        Image.fromarray(skimage.data.coffee()).save(photo)
    port = free_port()
    app = build_app(demo)
    app.launch(server_name='127.0.0.1', server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=a.browser, headless=True,
                                        args=['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'])
            page = browser.new_page(viewport={'width': 1400, 'height': 1100})
            page.goto(f'http://127.0.0.1:{port}/', wait_until='networkidle')
            page.locator('input[type=file]').first.set_input_files(str(photo))
            page.get_by_role('button', name='Predict the mesh').click()
            t = time.perf_counter()
            page.get_by_text('predicted in').wait_for(timeout=180_000)
            answered = time.perf_counter() - t
            status = page.get_by_text('predicted in').inner_text()
            warned = page.get_by_text('Check the mask:')
            warning = warned.first.locator('xpath=..').inner_text() if warned.count() else 'none'
            canvas = page.locator('canvas').first
            canvas.wait_for(timeout=60_000)
            time.sleep(4)                                          # the viewer loads and frames the mesh
            shot = canvas.screenshot()
            page.screenshot(path=a.out, full_page=True)
            browser.close()
    finally:
        app.close()
    view = np.asarray(Image.open(io.BytesIO(shot)).convert('L'), float)
    spread = float(np.percentile(view, 99) - np.percentile(view, 1))
    print(f"status: {status}")
    print(f"warning beside what the model saw: {warning}")
    print(f"viewer: {view.shape[1]}x{view.shape[0]} px, brightness spread {spread:.0f} of 255 "
          f"(a blank viewer has ~0); the status line came {answered:.1f} s after the click; screenshot {a.out}")
    if spread < 20: sys.exit("the viewer shows no mesh")


if __name__ == '__main__':
    main()
