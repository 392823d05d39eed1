import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { compareDebianVersions, hasRepackSuffix, parseDebianVersion, recipeVersion, upstreamRelease } from './version';

describe('Debian versions', () => {
  it('split into epoch, upstream version and revision', () => {
    assert.deepEqual(parseDebianVersion('1:1.2.13.dfsg-1+deb12u1'), { epoch: 1, upstream: '1.2.13.dfsg', revision: '1+deb12u1' });
    assert.deepEqual(parseDebianVersion('30+20221128-1'), { epoch: 0, upstream: '30+20221128', revision: '1' });
    assert.deepEqual(parseDebianVersion('1.0-2-3'), { epoch: 0, upstream: '1.0-2', revision: '3' });
    assert.deepEqual(parseDebianVersion('2.6.2'), { epoch: 0, upstream: '2.6.2', revision: '' });
    assert.throws(() => parseDebianVersion('a1.0-1'), /not a Debian version/);
    assert.throws(() => parseDebianVersion('x:1.0'), /not a Debian version/);
    assert.deepEqual(parseDebianVersion('1:2:3'), { epoch: 1, upstream: '2:3', revision: '' }, 'a colon is allowed upstream once there is an epoch');
  });

  it('order exactly as dpkg --compare-versions does', () => {
    const versions = ['1.0', '1.0-1', '1.0-1+deb12u1', '1.0~rc1-1', '1:0.9-1', '1.0a-1', '1.0+dfsg-1', '1.00-1', '1.0.1-1', '1.0-1.1', '1.0-1~bpo1', '2.5.0-1+deb12u5', '2.5.0-1+deb12u2', '10.42-1', '9.9-9', '1.0~~-1', '1.0~-1', '0:1.0-0', '1.0-0'];
    // Sorted with this order, each neighbour pair must be in dpkg's order too (both ways round):
    // dpkg's order being total, the two orders are then the same on these versions.
    const sorted = [...versions].sort(compareDebianVersions);
    const pairs = sorted.slice(1).flatMap((b, i) => [[sorted[i], b], [b, sorted[i]]]);
    // One shell for every pair: dpkg's verdicts, one line each.
    const script = 'while read -r a b; do if dpkg --compare-versions "$a" lt "$b"; then echo lt; elif dpkg --compare-versions "$a" eq "$b"; then echo eq; else echo gt; fi; done';
    const dpkg = execFileSync('sh', ['-c', script], { input: pairs.map((p) => p.join(' ')).join('\n') + '\n' }).toString().trim().split('\n');
    pairs.forEach(([a, b], i) => {
      const mine = compareDebianVersions(a, b);
      assert.equal(mine < 0 ? 'lt' : mine === 0 ? 'eq' : 'gt', dpkg[i], `${a} vs ${b}`);
    });
  });

  it('give the recipe version: repack suffix and epoch gone, + really, no - or :', () => {
    assert.equal(recipeVersion('1.2.13.dfsg'), '1.2.13');
    assert.equal(recipeVersion('1.5.4+dfsg2'), '1.5.4');
    assert.equal(recipeVersion('6.2.1+dfsg1'), '6.2.1');
    assert.equal(recipeVersion('2.9.14+dfsg'), '2.9.14');
    assert.equal(recipeVersion('1.0+ds1'), '1.0');
    assert.equal(recipeVersion('3.2+repack'), '3.2');
    assert.equal(recipeVersion('2.0+really1.8'), '1.8');
    assert.equal(recipeVersion('30+20221128'), '30+20221128');
    assert.equal(recipeVersion('0.99-10'), '0.99_10');
    assert.equal(upstreamRelease('0.99-10+dfsg'), '0.99-10');
  });

  it('see a repack in the version', () => {
    for (const v of ['1.2.13.dfsg', '1.5.4+dfsg2', '1.0+ds', '2.0~dfsg1', '4.3+repack1']) assert.equal(hasRepackSuffix(v), true, v);
    for (const v of ['2.5.0', '30+20221128', '1.0~rc1', 'dfsgtool1.0']) assert.equal(hasRepackSuffix(v), false, v);
  });
});
