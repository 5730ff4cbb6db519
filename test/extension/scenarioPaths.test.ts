/**
 * Paths as the extension resolves them without VS Code: what an `include` or `load` in a
 * scenario names, for files on disk and on remote file systems (worked out by hand from
 * the URI rules: a relative path joins the including file's folder, `..` climbs it).
 */
import { strict as assert } from 'node:assert';
import { pathOf, refusalUnder, resolveInclude, uriOf } from '../../src/extension/scenarioPaths';

const REMOTE = 'vscode-remote://ssh-remote%2Bbox/ws/s/top.smmu';

describe('extension: scenario paths', () => {
  it('resolves a relative path against the including file\'s folder', () => {
    assert.equal(resolveInclude('/ws/s/top.smmu', 'common.smmu'), '/ws/s/common.smmu');
    assert.equal(resolveInclude('/ws/s/top.smmu', 'lib/a.smmu'), '/ws/s/lib/a.smmu');
    assert.equal(resolveInclude('/ws/s/top.smmu', '../dumps/vmcore'), '/ws/dumps/vmcore');
  });

  it('keeps a remote scenario\'s includes on its file system', () => {
    assert.equal(resolveInclude(REMOTE, 'lib/a.smmu'), 'vscode-remote://ssh-remote%2Bbox/ws/s/lib/a.smmu');
    // An absolute POSIX path stands for itself, on the scenario's own file system.
    assert.equal(resolveInclude(REMOTE, '/var/crash/vmcore'), 'vscode-remote://ssh-remote%2Bbox/var/crash/vmcore');
    assert.equal(resolveInclude('/ws/s/top.smmu', '/var/crash/vmcore'), '/var/crash/vmcore');
  });

  it('takes a URI as it is', () => {
    assert.equal(resolveInclude('/ws/s/top.smmu', 'vscode-vfs://github/o/r/x.smmu'), 'vscode-vfs://github/o/r/x.smmu');
  });

  it('names files by path and everything else by URI, both ways', () => {
    assert.equal(pathOf(uriOf('/ws/s/top.smmu')), '/ws/s/top.smmu');
    assert.equal(uriOf('/ws/s/top.smmu').toString(), 'file:///ws/s/top.smmu');
    assert.equal(pathOf(uriOf(REMOTE)), REMOTE);
  });

  it('judges a path by the file policy on its URI (a `..` climbing out of the workspace is outside it)', () => {
    const policy = { trusted: true, allowOutside: false, workspaceFolders: ['file:///ws/s'] };
    assert.equal(refusalUnder(policy, '/ws/s/top.smmu', resolveInclude('/ws/s/top.smmu', 'lib/a.smmu')), undefined);
    assert.match(refusalUnder(policy, '/ws/s/top.smmu', resolveInclude('/ws/s/top.smmu', '../../etc/passwd')) ?? '', /outside the workspace folders/);
    assert.equal(refusalUnder({ ...policy, allowOutside: true }, '/ws/s/top.smmu', '/etc/passwd'), undefined);
  });
});
