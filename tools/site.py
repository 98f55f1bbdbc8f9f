"""Docs-site helpers that need no Quarto.

    python tools/site.py readme   # write README.md from nbs/index.ipynb
    python tools/site.py check    # check the site's inputs (CI runs this)

`check` verifies: every notebook in nbs/sidebar.yml exists and has a title (a `# Title` first
markdown cell or a `title:` front matter), every image a notebook or markdown page references
exists, and README.md is what `readme` would write.
"""
import json, re, sys
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
    listed = {Path(f).name for f in files}
    for p in sorted(NBS.glob('[0-9]*.ipynb')):
        if p.name not in listed: errors.append(f'{p.name} is not in sidebar.yml')
    if (ROOT / 'README.md').read_text() != readme_text():
        errors.append('README.md differs from nbs/index.ipynb: run `python tools/site.py readme`')
    for e in errors: print('site check:', e)
    print(f'site check: {len(files)} pages in the sidebar, {len(errors)} problem(s)')
    return not errors


if __name__ == '__main__':
    cmd = sys.argv[1] if len(sys.argv) > 1 else 'check'
    if cmd == 'readme': (ROOT / 'README.md').write_text(readme_text()); print('wrote README.md')
    elif cmd == 'check': sys.exit(0 if check() else 1)
    else: sys.exit(__doc__)
