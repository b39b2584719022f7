"""The user documentation: every relative link and image resolves, anchors name real headings, and no page or
config comment speaks of the project's internal issue numbers or of "this machine" (readers outside the team
cannot follow either).

Pages: README.md, CHANGELOG.md, docs/*.md and the Markdown files under configs/. External http(s) links are only
checked for syntax (no network). Anchors follow GitHub's rule: the heading's text, lower-cased, without
characters other than letters, digits, spaces, hyphens and underscores, spaces turned into hyphens, and -1, -2, ...
appended to repeated slugs.
"""
import re
from urllib.parse import unquote, urlparse

import pytest

from tests.conftest import REPO

FENCE = re.compile(r'^\s*(```|~~~)')
INLINE_CODE = re.compile(r'`[^`\n]*`')
LINK = re.compile(r'!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)')
HEADING = re.compile(r'^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$')
# What a reader outside the team cannot follow: 'issue 14', 'issue-14', 'ablation_issue14', 'this machine'.
INTERNAL_REFERENCE = re.compile(r'issue[\s_-]*#?\d+|\bthis machine\b', re.IGNORECASE)


def markdown_pages():
    """README.md, CHANGELOG.md, docs/*.md and configs/**/*.md of the repository."""
    pages = [REPO / 'README.md', REPO / 'CHANGELOG.md']
    pages += sorted((REPO / 'docs').glob('*.md')) + sorted((REPO / 'configs').rglob('*.md'))
    return [page for page in pages if page.exists()]


def prose_lines(text):
    """(line number, line) outside fenced code blocks, with inline code spans blanked out."""
    in_fence = False
    for number, line in enumerate(text.splitlines(), start=1):
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        if not in_fence:
            yield number, INLINE_CODE.sub('``', line)


def github_slug(heading):
    """The anchor GitHub gives a heading: its rendered text lower-cased, characters other than letters, digits,
    spaces, hyphens and underscores removed, spaces turned into hyphens (duplicates are numbered by
    :func:`heading_anchors`)."""
    text = re.sub(r'!?\[([^\]]*)\]\([^)]*\)', r'\1', heading)  # a link renders as its text
    text = text.replace('`', '').replace('*', '')
    text = re.sub(r'[^\w\- ]', '', text.strip().lower())
    return text.replace(' ', '-')


def heading_anchors(text):
    """The set of anchors of a page's headings (outside code blocks), repeated slugs numbered -1, -2, ..."""
    anchors, seen = set(), {}
    for _, line in prose_lines(text):
        match = HEADING.match(line)
        if not match:
            continue
        slug = github_slug(match.group(2))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f'{slug}-{count}')
    return anchors


def shown(path):
    """``path`` relative to the repository when it lies inside it, else its name."""
    return path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else path.name


def link_problems(page):
    """One message per broken link of the Markdown file ``page`` (path:line: target: what is wrong)."""
    text = page.read_text(encoding='utf-8')
    problems = []
    for number, line in prose_lines(text):
        for target in LINK.findall(line):
            problem = target_problem(page, text, target)
            if problem:
                problems.append(f'{shown(page)}:{number}: {target or "(empty)"}: {problem}')
    return problems


def target_problem(page, text, target):
    """What is wrong with one link target of ``page`` (whose text is ``text``), or None."""
    if not target:
        return 'empty link target'
    parsed = urlparse(target)
    if parsed.scheme in ('http', 'https'):
        return None if parsed.netloc and '.' in parsed.netloc else 'malformed URL (no host)'
    if parsed.scheme == 'mailto':
        return None
    if parsed.scheme:
        return f'unexpected scheme {parsed.scheme!r} (use a relative path or http(s))'
    path, _, fragment = target.partition('#')
    linked = (page.parent / unquote(path)).resolve() if path else page
    if not linked.exists():
        return f'no such file {linked}'
    if fragment:
        if linked.suffix != '.md':
            return f'an anchor into a non-Markdown file {linked.name}'
        linked_text = text if linked == page else linked.read_text(encoding='utf-8')
        if unquote(fragment) not in heading_anchors(linked_text):
            return f'no heading with the anchor #{fragment} in {linked.name}'
    return None


def user_text_files():
    """README.md, CHANGELOG.md, every text file under docs/ and configs/ (configs: comments and docs alike)."""
    files = [REPO / 'README.md', REPO / 'CHANGELOG.md']
    for folder in ('docs', 'configs'):
        files += sorted(path for path in (REPO / folder).rglob('*')
                        if path.is_file() and path.suffix in ('.md', '.py', '.json', '.txt'))
    return [path for path in files if path.exists()]


def test_the_pages_exist():
    names = {page.relative_to(REPO).as_posix() for page in markdown_pages()}
    assert {'README.md', 'CHANGELOG.md', 'docs/method.md', 'configs/ablation/README.md'} <= names


@pytest.mark.parametrize('page', markdown_pages(), ids=shown)
def test_relative_links_and_anchors_resolve(page):
    assert link_problems(page) == []


def test_no_internal_issue_numbers_or_unnamed_machine():
    hits = [f'{shown(path)}:{number}: {line.strip()}'
            for path in user_text_files()
            for number, line in enumerate(path.read_text(encoding='utf-8').splitlines(), start=1)
            if INTERNAL_REFERENCE.search(line)]
    assert hits == [], 'say what the reader can check (a data version, a date, "a 2-core CPU machine"):\n' + \
        '\n'.join(hits)


def test_github_slugs_by_hand():
    assert github_slug("The inter-scene neck on the net's features (Eq. 7)") == \
        'the-inter-scene-neck-on-the-nets-features-eq-7'
    assert github_slug('Geometric consistency sets (paper 3.2.1, EXP II)') == \
        'geometric-consistency-sets-paper-321-exp-ii'
    assert github_slug('Predictions as files (`--save-preds`)') == 'predictions-as-files---save-preds'
    assert github_slug('Using [the viewer](viewer.md) **now**') == 'using-the-viewer-now'
    assert heading_anchors('# Results\n## Results\n```\n# not a heading\n```\n### Results\n') == \
        {'results', 'results-1', 'results-2'}


def test_broken_links_are_reported(tmp_path):
    (tmp_path / 'other.md').write_text('# Other page\n\n## A section\n')
    (tmp_path / 'picture.png').write_bytes(b'')
    page = tmp_path / 'page.md'
    page.write_text('# Page\n'
                    '[fine](other.md#a-section) ![fine](picture.png) [fine](#page) [web](https://example.org/x)\n'
                    '[gone](missing.md) [bad anchor](other.md#no-section) [self](#nowhere)\n'
                    '```\n[in code](missing_too.md)\n```\n'
                    '`[inline code](missing_three.md)` [no host](https://) ![anchor into png](picture.png#x)\n')
    problems = link_problems(page)
    assert [problem.split(': ', 1)[0].rsplit(':', 1)[1] for problem in problems] == ['3', '3', '3', '7', '7']
    assert 'missing.md: no such file' in problems[0]
    assert 'no heading with the anchor #no-section in other.md' in problems[1]
    assert 'no heading with the anchor #nowhere in page.md' in problems[2]
    assert 'malformed URL' in problems[3]
    assert 'non-Markdown file picture.png' in problems[4]


def test_internal_references_are_recognised():
    for text in ('see issue 14', 'Issue-15 table', 'work_dirs/ablation_issue14', 'ISSUE #3', 'on this machine'):
        assert INTERNAL_REFERENCE.search(text), text
    for text in ('an issue with the data', 'issues 3 and 4 of mmdet3d', 'a 2-core CPU machine', 'this machinery'):
        assert not INTERNAL_REFERENCE.search(text), text
