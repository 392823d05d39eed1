import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BOOT_OPTIONS, checkKernelConfig, KernelConfigError, LAYER_OPTIONS, parseKernelConfig } from './kernel-config';

const FULL = [...BOOT_OPTIONS, ...LAYER_OPTIONS, 'CONFIG_RD_GZIP', 'CONFIG_RD_ZSTD', 'CONFIG_SQUASHFS_XZ', 'CONFIG_SQUASHFS_ZSTD'].map((o) => `${o}=y`).join('\n');
const WHERE = 'dist/t/packages/linux/linux-6.1-1-t.pkg.tar.zst: /boot/config';
const FIX = 'targets/t/linux.config';

describe('kernel configuration', () => {
  it('parses set, unset and string options', () => {
    const c = parseKernelConfig('#\n# Automatically generated file\nCONFIG_A=y\nCONFIG_B="x y"\n# CONFIG_C is not set\nCONFIG_D=m\nCONFIG_E=0x10\n');
    assert.deepEqual([...c], [['CONFIG_A', 'y'], ['CONFIG_B', '"x y"'], ['CONFIG_C', 'n'], ['CONFIG_D', 'm'], ['CONFIG_E', '0x10']]);
  });

  it('picks zstd for both when built in, else gzip and the next squashfs compressor', () => {
    assert.deepEqual(checkKernelConfig(parseKernelConfig(FULL), WHERE, FIX), { initramfs: 'zstd', squashfs: 'zstd' });
    const older = FULL.replace('CONFIG_RD_ZSTD=y', '# CONFIG_RD_ZSTD is not set').replace('CONFIG_SQUASHFS_ZSTD=y', '');
    assert.deepEqual(checkKernelConfig(parseKernelConfig(older), WHERE, FIX), { initramfs: 'gzip', squashfs: 'xz' });
    assert.deepEqual(checkKernelConfig(parseKernelConfig(`${older.replace('CONFIG_SQUASHFS_XZ=y', '')}\nCONFIG_SQUASHFS_ZLIB=y`), WHERE, FIX).squashfs, 'gzip');
  });

  it('names the missing option, why it is needed and where to add it, in one line', () => {
    assert.throws(() => checkKernelConfig(parseKernelConfig(FULL.replace('CONFIG_OVERLAY_FS=y', 'CONFIG_OVERLAY_FS=m')), WHERE, FIX), (e: Error) => {
      assert.ok(e instanceof KernelConfigError);
      assert.equal(e.message, `${WHERE}: CONFIG_OVERLAY_FS is =m, not built in, which the layered image (squashfs layers as an overlay) needs; add CONFIG_OVERLAY_FS=y to ${FIX} and rebuild the kernel`);
      return true;
    });
    assert.throws(() => checkKernelConfig(parseKernelConfig(FULL.replace('CONFIG_BINFMT_SCRIPT=y', '')), WHERE, FIX), /CONFIG_BINFMT_SCRIPT is not set, which the image's initramfs boot needs; add CONFIG_BINFMT_SCRIPT=y/);
    assert.throws(() => checkKernelConfig(parseKernelConfig(FULL.replace(/CONFIG_RD_\w+=y/g, '')), WHERE, FIX), /CONFIG_RD_ZSTD is not set, which the initramfs needs \(or CONFIG_RD_GZIP\)/);
  });
});
