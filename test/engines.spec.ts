import { readFileSync } from 'node:fs';
import semver from 'semver';

/**
 * `engines.node` must promise no Node version that a locked dependency (development ones included: `npm ci`
 * installs them) refuses, or npm prints EBADENGINE on a version we said was fine. Any dependency bump that
 * raises a minimum fails here until package.json says so.
 */
describe('package.json engines tells the truth', () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } };
  const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as {
    packages: Record<string, { version?: string; engines?: { node?: string } | string[] }>;
  };
  const declared = pkg.engines.node;

  it('is a valid range', () => {
    expect(semver.validRange(declared)).not.toBeNull();
  });

  it('every locked package accepts every Node version the range admits', () => {
    const refusing = Object.entries(lock.packages)
      .filter(([path, meta]) => path !== '' && !Array.isArray(meta.engines) && typeof meta.engines?.node === 'string')
      .filter(([, meta]) => !semver.subset(declared, (meta.engines as { node: string }).node, { includePrerelease: false }))
      .map(([path, meta]) => `${path.replace(/^.*node_modules\//, '')}@${meta.version}: ${(meta.engines as { node: string }).node}`);
    expect(refusing).toEqual([]);
  });
});
