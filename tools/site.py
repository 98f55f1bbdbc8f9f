"""Docs-site helpers that need no Quarto.

    python tools/site.py readme   # write README.md from nbs/index.ipynb
    python tools/site.py check    # check the site's inputs (CI runs this)
    python tools/site.py preview  # the notebooks as static HTML pages in _preview/, then check them in a browser

`check` verifies: every notebook in nbs/sidebar.yml exists and has a title (a `# Title` first
markdown cell or a `title:` front matter), every image a notebook or markdown page references
exists, no notebook output embeds a frame of a local server (a live app's, empty on the site), and
README.md is what `readme` would write.
"""
import json, re, shutil, subprocess, sys
from html.parser import HTMLParser
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / 'nbs'
DIRECTIVE = re.compile(r'^\s*#\|')


def _cells(nb_path):
    return json.loads(Path(nb_path).read_text())['cells']


def _src(cell):
    s = cell['source']
    return ''.join(s) if isinstance(s, list) else s


def _directives(src):
    return {l.strip()[2:].strip() for l in src.splitlines() if DIRECTIVE.match(l)}


def _output_text(cell):
    out = []
    for o in cell.get('outputs', []):
        if o.get('output_type') == 'stream' and o.get('name') == 'stdout': out.append(''.join(o['text']))
        elif 'data' in o and 'text/plain' in o['data'] and 'image/png' not in o['data']:
            out.append(''.join(o['data']['text/plain']))
    return ''.join(out).rstrip('\n')


def readme_text(nb_path=NBS / 'index.ipynb'):
    "Markdown of the index notebook: markdown cells, shown code cells and their text output."
    parts = []
    for c in _cells(nb_path):
        src = _src(c)
        if c['cell_type'] == 'markdown': parts.append(src.strip('\n'))
        elif c['cell_type'] == 'code':
            d = _directives(src)
            if {'hide', 'export', 'exporti'} & {x.split()[0] for x in d if x}: continue
            code = '\n'.join(l for l in src.splitlines() if not DIRECTIVE.match(l)).strip('\n')
            if code: parts.append(f'```python\n{code}\n```')
            out = _output_text(c)
            if out: parts.append(f'```\n{out}\n```')
    return '<!-- generated from nbs/index.ipynb by tools/site.py readme: edit the notebook, not this file -->\n\n' \
        + '\n\n'.join(parts) + '\n'


def _title(nb_path):
    cells = _cells(nb_path)
    for c in cells:
        src = _src(c).strip()
        if not src: continue
        if c['cell_type'] == 'raw' and src.startswith('---'):
            fm = yaml.safe_load(src.strip('-'))
            return (fm or {}).get('title')
        if c['cell_type'] == 'markdown' and src.startswith('# '): return src.splitlines()[0][2:].strip()
        return None


def _sidebar_files(node):
    if isinstance(node, str): yield node
    elif isinstance(node, list):
        for n in node: yield from _sidebar_files(n)
    elif isinstance(node, dict):
        for k in ('contents', 'href'):
            if k in node: yield from _sidebar_files(node[k])


IMG = re.compile(r'!\[[^\]]*\]\(([^)\s]+)')
LOCAL_FRAME = re.compile(r'<iframe[^>]*src="https?://(127\.0\.0\.1|localhost|0\.0\.0\.0)[:/]', re.I)


def local_frames(nb_path) -> list:
    "The cells (by number) of a notebook whose outputs embed a frame of a local server: empty on the published site."
    hits = []
    for i, c in enumerate(_cells(nb_path)):
        html = ''.join(''.join(o.get('data', {}).get('text/html', '')) for o in c.get('outputs', []))
        if LOCAL_FRAME.search(html): hits.append(i)
    return hits


def check():
    errors = []
    sidebar = yaml.safe_load((NBS / 'sidebar.yml').read_text())
    files = list(_sidebar_files(sidebar['website']['sidebar']['contents']))
    for f in files:
        p = NBS / f
        if not p.exists(): errors.append(f'sidebar.yml lists {f}, which does not exist'); continue
        if p.suffix == '.ipynb' and not _title(p): errors.append(f'{f} has no title (first cell "# Title")')
    pages = sorted(NBS.glob('*.ipynb')) + sorted(NBS.glob('*.md'))
    for p in pages:
        text = '\n'.join(_src(c) for c in _cells(p) if c['cell_type'] == 'markdown') if p.suffix == '.ipynb' else p.read_text()
        for ref in IMG.findall(text):
            if re.match(r'^(https?:|data:|attachment:)', ref): continue
            if not (p.parent / ref).exists(): errors.append(f'{p.name} references missing image {ref}')
    for p in sorted(NBS.glob('*.ipynb')):
        for i in local_frames(p):
            errors.append(f'{p.name} cell {i}: an output embeds a local server\'s page (empty on the site); '
                          'show a screenshot instead (launch the app with inline=False)')
    listed = {Path(f).name for f in files}
    for p in sorted(NBS.glob('[0-9]*.ipynb')):
        if p.name not in listed: errors.append(f'{p.name} is not in sidebar.yml')
    if (ROOT / 'README.md').read_text() != readme_text():
        errors.append('README.md differs from nbs/index.ipynb: run `python tools/site.py readme`')
    for e in errors: print('site check:', e)
    print(f'site check: {len(files)} pages in the sidebar, {len(errors)} problem(s)')
    return not errors


PREVIEW = ROOT / '_preview'
PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{title} - img2sdf</title><style>
body {{margin: 0; font: 15px/1.5 system-ui, sans-serif; display: flex}}
nav {{width: 15rem; flex: none; padding: 1rem; background: #f4f6f8; min-height: 100vh; font-size: 14px}}
nav b {{display: block; margin-top: .8rem; color: #555}} nav a {{display: block; color: #1f5f99; text-decoration: none}}
nav a.here {{font-weight: bold}} main {{max-width: 60rem; padding: 1rem 2rem; overflow-x: auto}}
pre {{background: #f6f8fa; padding: .5rem; overflow-x: auto; font-size: 13px}} img {{max-width: 100%}}
table {{border-collapse: collapse}} td, th {{border: 1px solid #ddd; padding: 2px 6px}}
</style></head><body><nav>{nav}</nav><main>{body}</main>
<script>addEventListener('load', () => setTimeout(() => {{
  const bad = [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src.slice(0, 80));
  const frames = [...document.querySelectorAll('iframe')].filter(f => !(f.contentDocument && f.contentDocument.body
    && f.contentDocument.body.innerHTML.length > 0)).map(f => f.src);
  document.body.setAttribute('data-check', JSON.stringify({{images: document.images.length, broken: bad, frames_empty: frames}}));
}}, 1500));</script></body></html>"""


def _sidebar_tree():
    return yaml.safe_load((NBS / 'sidebar.yml').read_text())['website']['sidebar']['contents']


def _nav(here):
    out = []
    for node in _sidebar_tree():
        if isinstance(node, str): node = {'contents': [node]}
        if node.get('section'): out.append(f"<b>{node['section']}</b>")
        for f in node['contents']:
            name = Path(f).with_suffix('.html').name
            out.append(f'<a href="{name}"{" class=here" if name == here else ""}>{_title(NBS / f) or f}</a>')
    return '\n'.join(out)


def _shown(nb):
    "The notebook as its page shows it: hidden cells dropped, directives stripped."
    for c in list(nb.cells):
        d = {x.split(':')[0].split()[0] for x in _directives(_src(c)) if x}
        if c.cell_type == 'code' and d & {'hide', 'exporti', 'default_exp'}: nb.cells.remove(c)
        elif c.cell_type == 'code': c.source = '\n'.join(l for l in _src(c).splitlines() if not DIRECTIVE.match(l))
    return nb


def build_preview(out=PREVIEW):
    "Every sidebar notebook as a static HTML page in `out` (nbconvert), with the sidebar; images copied beside them."
    import nbformat
    from nbconvert import HTMLExporter
    exporter = HTMLExporter(template_name='basic')
    if out.exists(): shutil.rmtree(out)
    shutil.copytree(NBS / 'images', out / 'images')
    pages = []
    for f in _sidebar_files(_sidebar_tree()):
        name = Path(f).with_suffix('.html').name
        body, _ = exporter.from_notebook_node(_shown(nbformat.read(NBS / f, as_version=4)))
        body = re.sub(r'href="([^":#]+)\.ipynb', r'href="\1.html', body)
        (out / name).write_text(PAGE.format(title=_title(NBS / f), nav=_nav(name), body=body))
        pages.append(out / name)
    return pages


class _Refs(HTMLParser):
    def __init__(self): super().__init__(); self.refs = []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for k in ('href', 'src'):
            if a.get(k) and tag in ('a', 'img', 'iframe'): self.refs.append(a[k])


def check_links(pages):
    "Relative links and sources of `pages` that point at no file."
    bad = []
    for p in pages:
        r = _Refs(); r.feed(p.read_text())
        for ref in r.refs:
            if re.match(r'^(https?:|data:|mailto:|#|javascript:)', ref): continue
            if not (p.parent / ref.split('#')[0].split('?')[0]).exists(): bad.append(f'{p.name}: {ref}')
    return bad


def check_in_browser(pages, browser=None):
    "Load each page in headless Chromium: every image decoded, every iframe filled. Returns the problems."
    browser = browser or shutil.which('chromium') or shutil.which('chromium-browser') or shutil.which('google-chrome')
    if not browser: raise SystemExit('preview: no Chromium found (apt-get install chromium)')
    bad = []
    for p in pages:
        r = subprocess.run([browser, '--headless', '--no-sandbox', '--disable-gpu', '--allow-file-access-from-files',
                            '--virtual-time-budget=8000', '--dump-dom', p.resolve().as_uri()],
                           capture_output=True, text=True, timeout=120)
        m = re.search(r"data-check=\"([^\"]*)\"", r.stdout)
        if not m: bad.append(f'{p.name}: did not finish loading ({r.stderr.strip()[-200:]})'); continue
        c = json.loads(m.group(1).replace('&quot;', '"'))
        bad += [f'{p.name}: image not shown {s}' for s in c['broken']] + [f'{p.name}: empty frame {s}' for s in c['frames_empty']]
        print(f'preview: {p.name}: {c["images"]} images, {len(c["broken"])} broken')
    return bad


def preview(browser=True):
    pages = build_preview()
    bad = check_links(pages) + (check_in_browser(pages) if browser else [])
    for b in bad: print('preview:', b)
    print(f'preview: {len(pages)} pages in {PREVIEW}, {len(bad)} problem(s)' + ('' if browser else ' (links only; no browser check)'))
    return not bad


if __name__ == '__main__':
    cmd = sys.argv[1] if len(sys.argv) > 1 else 'check'
    if cmd == 'readme': (ROOT / 'README.md').write_text(readme_text()); print('wrote README.md')
    elif cmd == 'check': sys.exit(0 if check() else 1)
    elif cmd == 'preview': sys.exit(0 if preview(browser='--links-only' not in sys.argv) else 1)
    else: sys.exit(__doc__)
