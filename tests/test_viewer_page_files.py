"""The viewer's page files (hicl/vis/viewer_page/), checked without a browser: the template's fields, balanced HTML,
CSS braces, and the script's syntax by Node.js (``node --check``)."""
import shutil
import subprocess
from html.parser import HTMLParser
from string import Template

from hicl.vis.viewer import page_files
from tests.conftest import REPO, unavailable

PAGE_FOLDER = REPO / 'projects' / 'hicl' / 'hicl' / 'vis' / 'viewer_page'
VOID_TAGS = {'meta', 'input', 'br', 'img', 'link', 'hr'}


class TagBalance(HTMLParser):
    """Records every problem of nesting: a closing tag that does not close the innermost open one."""

    def __init__(self):
        super().__init__()
        self.open, self.problems = [], []

    def handle_starttag(self, tag, attrs):
        if tag not in VOID_TAGS:
            self.open.append((tag, self.getpos()[0]))

    def handle_endtag(self, tag):
        if not self.open or self.open[-1][0] != tag:
            self.problems.append(f'line {self.getpos()[0]}: </{tag}> closes {self.open[-1] if self.open else None}')
        else:
            self.open.pop()


def test_the_template_has_exactly_the_fields_the_writer_fills():
    template, _, _ = page_files()
    fields = {match.group('named') or match.group('braced') for match in Template.pattern.finditer(template.template)
              if match.group('named') or match.group('braced')}
    assert fields == {'TITLE', 'BACKGROUND', 'STYLE', 'DATA', 'SCRIPT'}


def test_the_page_is_balanced_html():
    template, style, script = page_files()
    page = template.substitute(TITLE='t', BACKGROUND='0, 0, 0', STYLE=style, DATA='{}', SCRIPT='')
    parser = TagBalance()
    parser.feed(page)
    parser.close()
    assert parser.problems == [] and parser.open == []


def test_the_style_sheet_has_balanced_braces_and_no_template_fields():
    _, style, _ = page_files()
    depth = 0
    for character in style:
        depth += {'{': 1, '}': -1}.get(character, 0)
        assert depth in (0, 1), 'nested or unopened brace'
    assert depth == 0 and '$' not in style


def test_node_finds_no_syntax_error_in_the_script(tmp_path):
    node = shutil.which('node')
    if node is None:
        unavailable('Node.js (node) is not on PATH: it checks the viewer script\'s syntax without a browser')
    good = subprocess.run([node, '--check', str(PAGE_FOLDER / 'viewer.js')], capture_output=True, text=True)
    assert good.returncode == 0, good.stderr
    broken = tmp_path / 'broken.js'  # the check can fail: one brace less is a syntax error
    broken.write_text((PAGE_FOLDER / 'viewer.js').read_text().rstrip().removesuffix('})();') + ')();\n')
    assert subprocess.run([node, '--check', str(broken)], capture_output=True).returncode != 0
