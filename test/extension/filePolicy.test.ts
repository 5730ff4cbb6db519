import { strict as assert } from 'node:assert';
import { fileRefusal, FilePolicy, pathKind } from '../../src/extension/filePolicy';

describe('extension: which files a scenario may read', () => {
  const ws = 'file:///projects/smmu-tests';
  const other = 'vscode-vfs://github/dev/platforms';
  const policy = (p: Partial<FilePolicy> = {}): FilePolicy => ({ trusted: true, allowOutside: false, workspaceFolders: [ws, other], ...p });
  const program = `${ws}/stage1/main.smmu`;

  it('files in any workspace folder may be read, wherever in it', () => {
    assert.equal(fileRefusal(`${ws}/common/platform.smmu`, program, policy()), undefined);
    assert.equal(fileRefusal(`${ws}/stage1/deep/er/x.smmu`, program, policy()), undefined);
    // A second root of a multi-root workspace, on another file system.
    assert.equal(fileRefusal(`${other}/juno.smmu`, program, policy()), undefined);
  });

  it('a file outside them is refused, with how to allow it when the workspace is trusted', () => {
    assert.equal(fileRefusal('file:///etc/passwd', program, policy()),
      'it is outside the workspace folders, where a scenario may read files; set "smmuDebug.files.allowOutsideWorkspace" to allow it');
    // A folder whose name only starts like the workspace's is not in it.
    assert.match(fileRefusal('file:///projects/smmu-tests-old/a.smmu', program, policy()) ?? '', /outside the workspace folders/);
  });

  it('the setting lifts the restriction only in a trusted workspace', () => {
    assert.equal(fileRefusal('file:///etc/passwd', program, policy({ allowOutside: true })), undefined);
    assert.equal(fileRefusal('file:///etc/passwd', program, policy({ trusted: false, allowOutside: true })),
      'it is outside the workspace folders, where a scenario may read files (this workspace is not trusted)');
  });

  it('a scenario in no workspace folder may read under its own folder only', () => {
    const loose = 'file:///scratch/x/scenario.smmu';
    assert.equal(fileRefusal('file:///scratch/x/lib/p.smmu', loose, policy()), undefined);
    assert.equal(fileRefusal(`${ws}/common/platform.smmu`, loose, policy()),
      'it is outside file:///scratch/x/, the folder of the scenario (it is in no workspace folder), where a scenario may read files; ' +
      'set "smmuDebug.files.allowOutsideWorkspace" to allow it');
    // With no folder open at all, the same.
    assert.equal(fileRefusal('file:///scratch/x/y.smmu', loose, policy({ workspaceFolders: [] })), undefined);
    assert.notEqual(fileRefusal('file:///scratch/y.smmu', loose, policy({ workspaceFolders: [] })), undefined);
  });

  it('tells absolute paths (which stand for themselves) from relative ones (under the scenario\'s folder)', () => {
    assert.equal(pathKind('vscode-vfs://github/dev/x/vmcore'), 'uri');
    assert.equal(pathKind('file:///dumps/vmcore'), 'uri');
    assert.equal(pathKind('/dumps/vmcore'), 'posix');
    assert.equal(pathKind('C:\\dumps\\vmcore'), 'windows');
    assert.equal(pathKind('c:/dumps/vmcore'), 'windows');
    assert.equal(pathKind('\\\\server\\share\\vmcore'), 'windows');
    assert.equal(pathKind('dumps/vmcore'), 'relative');
    assert.equal(pathKind('../vmcore'), 'relative');
    // A file name with a colon is not a URI without the //.
    assert.equal(pathKind('guest:1.core'), 'relative');
  });
});
